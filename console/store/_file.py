"""The cache's file: created private, checked writable, opened read-only when it must be.

Mode 0600 for the file (and so for the -wal and -shm files SQLite creates beside it with the
file's own mode), 0700 for the data dir; existing ones are tightened at every open. A cache
that cannot be written (a 0400 file, a read-only folder) is reported to commands that write;
``search`` and ``export`` open it read-only instead (``mode=ro``, see ``connect_sealed``).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from console import paths
from console.store.problems import CacheProblem, CacheReadOnly, CacheUnreadable, cache_problem
from console.store.schema import SchemaTooNew

__all__ = ["check_sealed", "connect_sealed", "prepare_file"]


class CacheTooNew(CacheProblem, SchemaTooNew):
    """The cache was written by a newer fansly-console (a ``SchemaTooNew`` with its path)."""


def _timeout() -> float:
    from console.store._core import BUSY_TIMEOUT_MS

    return BUSY_TIMEOUT_MS / 1000


def prepare_file(path: Path) -> None:
    """Create the folder (0700) and the file (0600), switch it to WAL and bring the schema up
    to date. A file that cannot be written raises ``CacheReadOnly``, a damaged one
    ``CacheDamaged`` (see problems.py), a cache from a newer program a ``CacheProblem``."""
    from console.store.schema import migrate

    try:
        _private_file(path)
    except OSError as exc:
        raise CacheUnreadable(path, f"cannot create the cache at {path}: {exc.strerror}") from exc
    if not _writable(path):
        raise CacheReadOnly(path)
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=_timeout())
        try:
            # WAL is persistent in the file: set once here, every later connection uses it.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            migrate(conn)
        finally:
            conn.close()
    except SchemaTooNew as exc:
        raise CacheTooNew(path, f"the cache at {path}: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        raise cache_problem(path, exc) from exc


def _private_file(path: Path) -> None:
    """The cache's folder and file, created private; existing ones (and the WAL's files, which
    SQLite creates with the file's own mode) tightened to the owner alone."""
    paths.private_dir(path.parent)
    # Created here, 0600, before SQLite would create it 0644.
    paths.create_private(path)
    for suffix in ("", "-wal", "-shm"):
        paths.tighten(Path(f"{path}{suffix}"))


def _writable(path: Path) -> bool:
    """Whether SQLite can write the cache: the file, and its -wal and -shm files (beside it,
    created by the first connection unless they are there)."""
    if not os.access(path, os.W_OK):
        return False
    if os.access(path.parent, os.W_OK | os.X_OK):
        return True
    return all(os.access(f"{path}{suffix}", os.W_OK) for suffix in ("-wal", "-shm"))


def check_sealed(path: Path) -> None:
    """A cache opened read-only (it cannot be migrated) must be at this program's schema."""
    from console.store.schema import SCHEMA_VERSION

    paths.tighten(path)  # the owner may still change its mode, even read-only
    try:
        conn = connect_sealed(path)
        try:
            (version,) = conn.execute("PRAGMA user_version").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise cache_problem(path, exc) from exc
    if version == SCHEMA_VERSION:
        return
    if version == 0:
        what = "holds no fansly-console cache"
    elif version < SCHEMA_VERSION:
        what = (
            f"was written by an older fansly-console (schema {version}, this one reads "
            f"{SCHEMA_VERSION}): make it writable once so it can be upgraded"
        )
    else:
        what = f"was written by a newer fansly-console (schema {version}): upgrade this one"
    raise CacheProblem(path, f"the cache at {path} is read-only and {what}")


def connect_sealed(path: Path) -> sqlite3.Connection:
    """A connection that never writes the file (``mode=ro``). Reading a WAL file needs its
    -shm file; in a read-only folder without one, the file is read as it stands
    (``immutable``: no locks and no WAL, and nothing can write there meanwhile)."""
    uri = path.absolute().as_uri() + "?mode=ro"
    timeout = _timeout()
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=timeout)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as exc:
        conn.close()
        name = getattr(exc, "sqlite_errorname", "")
        if not name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN")):
            raise
        conn = sqlite3.connect(f"{uri}&immutable=1", uri=True, isolation_level=None)
    except BaseException:
        conn.close()
        raise
    return conn
