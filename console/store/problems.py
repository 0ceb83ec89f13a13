"""What is wrong with a cache file, said so the user can act on it.

SQLite reports a damaged, foreign or read-only file as a ``sqlite3.DatabaseError`` without the
file's name, often at the first query that touches a bad page rather than at open. The store
turns those into a :class:`CacheProblem` naming the file and what to do. It stays a
``sqlite3.DatabaseError`` (code that catches SQLite's errors still catches it) and is a
:class:`console.problems.Problem` (the command line prints it in one line).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from console.problems import Problem

SYNC = "fansly-console sync"


class CacheProblem(Problem, sqlite3.DatabaseError):
    """The cache at ``path`` cannot be used as it is."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path


class CacheDamaged(CacheProblem):
    """The file is not a database, or a damaged one (truncated, overwritten)."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(
            path,
            f"the cache at {path} is damaged ({detail}): move it aside and run `{SYNC}` "
            "to fill a new one",
        )


class CacheReadOnly(CacheProblem):
    """The file (or its folder) cannot be written, and the command has to write."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            path,
            f"the cache at {path} is read-only: make it and its folder writable "
            f"(chmod u+w), or copy it somewhere you can write; `search` and `export` can "
            "read it as it is",
        )


class CacheUnreadable(CacheProblem):
    """The file or its folder cannot be opened at all (permissions, a disk error)."""


def cache_problem(path: Path, exc: BaseException) -> BaseException:
    """``exc`` as a :class:`CacheProblem` about ``path`` when it says the file is damaged,
    read-only or unreadable; any other error as it is."""
    if isinstance(exc, CacheProblem) or not isinstance(exc, sqlite3.DatabaseError):
        return exc
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith("SQLITE_CORRUPT") or name == "SQLITE_NOTADB":
        return _chained(CacheDamaged(path, str(exc)), exc)
    if name.startswith("SQLITE_READONLY"):
        return _chained(CacheReadOnly(path), exc)
    if name.startswith("SQLITE_CANTOPEN") or name.startswith("SQLITE_PERM"):
        message = f"cannot open the cache at {path} ({exc}): check that you may read it"
        return _chained(CacheUnreadable(path, message), exc)
    if name.startswith("SQLITE_IOERR"):
        message = f"could not read or write the cache at {path} (a disk error: {exc})"
        return _chained(CacheUnreadable(path, message), exc)
    if name == "SQLITE_FULL":
        return _chained(CacheUnreadable(path, f"the disk holding the cache at {path} is full"), exc)
    return exc


def _chained(problem: CacheProblem, cause: BaseException) -> CacheProblem:
    problem.__cause__ = cause
    return problem
