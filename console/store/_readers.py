"""The read lanes: the UI's small reads never queue behind a search, and a search nobody waits
for any more is stopped, not run to its end.

The store reads on two connections, each owned by its own thread (``DbThread``): the *UI
lane* (the store's ``_reader``: chat list windows, thread pages, a fan, a draft: each a few
index lookups) and the *search lane* (``SearchLane``, below: full-text searches, whose cost
depends on what was typed). Before, every read shared one thread in order, so opening a chat
waited behind a 1-character search the chatter had already typed past (0.4-0.5 s at 3M
messages). WAL gives each connection its own snapshot, so the lanes never block each other.

A search is *superseded* when its caller stops waiting: the search screen runs each query in
an exclusive worker, so the next keystroke (or closing the screen) cancels the task awaiting
the previous one, which cancels its future. The lane then interrupts it:
``sqlite3.Connection.interrupt()`` (thread-safe, and needs no GIL on the reading thread)
aborts the statement running, and a progress handler aborts any later statement of the same
search (an interrupt that lands between two statements is otherwise lost). A search
superseded before it started is skipped. Either way its future is already cancelled: nobody
sees the ``SearchSuperseded`` it ends with.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from console.store._core import DbThread

T = TypeVar("T")

#: SQLite VM steps between two checks of the progress handler: a Python call (and the GIL) per
#: ~1 ms of work, so an uncontended search pays nothing visible, and a superseded statement
#: that the interrupt missed stops within about a millisecond.
PROGRESS_STEPS = 100_000


class SearchSuperseded(Exception):
    """The search was stopped: the caller gave up waiting for it."""


class _Ticket:
    """One search on the lane; ``given_up`` is set on the event loop's thread."""

    __slots__ = ("given_up",)

    def __init__(self) -> None:
        self.given_up = False


class SearchLane(DbThread):
    """A read connection of its own for searches; a search whose caller was cancelled is
    interrupted (see the module's docstring)."""

    def __init__(self, path: Path, *, sealed: bool = False) -> None:
        super().__init__(path, read_only=True, name="store-search", sealed=sealed)
        self._lock = threading.Lock()
        self._running: _Ticket | None = None
        #: Searches stopped before their end (tests and benches read it).
        self.interrupted = 0

    def submit(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        ticket = _Ticket()
        future: asyncio.Future[T] = super().submit(_run_ticketed, self, ticket, fn, *args)
        future.add_done_callback(lambda done: self._given_up(ticket) if done.cancelled() else None)
        return future

    def _given_up(self, ticket: _Ticket) -> None:
        """On the loop's thread: the caller stopped waiting; stop the search if it runs."""
        with self._lock:
            ticket.given_up = True
            conn = self._conn
            if self._running is ticket and conn is not None:
                conn.interrupt()

    def _start(self, ticket: _Ticket) -> None:
        with self._lock:
            if ticket.given_up:
                self.interrupted += 1
                raise SearchSuperseded
            self._running = ticket

    def _finish(self) -> None:
        with self._lock:
            self._running = None


def _run_ticketed(
    conn: sqlite3.Connection,
    lane: SearchLane,
    ticket: _Ticket,
    fn: Callable[..., T],
    *args: Any,
) -> T:
    """On the lane's thread: ``fn(conn, *args)`` unless the caller gave up, stopped if it does."""
    lane._start(ticket)
    conn.set_progress_handler(lambda: ticket.given_up, PROGRESS_STEPS)
    try:
        return fn(conn, *args)
    except sqlite3.OperationalError as exc:
        if ticket.given_up:
            lane.interrupted += 1
            raise SearchSuperseded from exc
        raise
    finally:
        lane._finish()
        conn.set_progress_handler(None, 0)
        if conn.in_transaction:  # an interrupted search leaves its read transaction open
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
