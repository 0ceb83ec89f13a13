"""``EventWriter``: the event log's writer with no thread and no event loop.

For a process whose only job is to record webhook events (the listener's ingest worker,
:mod:`console.webhooks.worker`): it owns one write connection and applies each batch of
events in one transaction, with the very code :meth:`Store.apply_event` runs
(``EventLog._apply_batch``), so the rules (exactly once, in any order, failures spoil only
themselves) are the same. What the store's threads do around commits is done here between
batches, by the caller's loop: index pending messages (:meth:`index_chunk`, see ``_fts.py``);
and every ``CHECKPOINT_EVERY`` commits a thread of its own checkpoints the WAL on a third
connection, so a commit never waits for the copy and its fsync (~10 ms).

Other processes (a ``listen`` process's hub, a console, ``search``) read and write the same
file as usual: SQLite's lock serialises the writers, WAL lets readers run beside them.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from console.store._core import CHECKPOINT_EVERY, DbThread, _connect, checkpoint, prepare_file
from console.store._events import EventLog
from console.store._fts import INDEX_CATCHUP, INDEX_CHUNK, INDEX_DELAY, index_chunk, pending_count
from console.store.rows import AppliedEvent

if TYPE_CHECKING:
    from console.events import Event


class EventWriter:
    """``writer = EventWriter(path)``; ``writer.apply(events)``; ``writer.close()``."""

    def __init__(self, path: Path | str) -> None:
        path = Path(path)
        prepare_file(path)
        # The event log's methods, detached from its threads: they are never started, every
        # statement runs on ``self._db`` in the caller's thread.
        self._log = EventLog(
            path,
            DbThread(path, read_only=False, name="unused"),
            DbThread(path, read_only=True, name="unused"),
        )
        self._db = _connect(path, read_only=False)
        for account_id, creator_id in self._db.execute(
            "SELECT account_id, fansly_account_id FROM accounts"
        ):
            self._log._creators[account_id] = creator_id
        self._commits = 0
        #: Messages committed but not indexed yet.
        self.backlog = pending_count(self._db)
        self._checkpoint_due = threading.Event()
        self._closing = False
        self._checkpointer = threading.Thread(
            target=self._checkpoints, args=(path,), name="ingest-checkpoint", daemon=True
        )
        self._checkpointer.start()

    def _checkpoints(self, path: Path) -> None:
        db = _connect(path, read_only=True)
        try:
            while True:
                self._checkpoint_due.wait()
                self._checkpoint_due.clear()
                if self._closing:
                    return
                # Busy or failed: the next one copies what this one could not.
                with contextlib.suppress(sqlite3.Error):
                    checkpoint(db)
        finally:
            db.close()

    def apply(self, events: list[Event]) -> list[AppliedEvent | Exception | None]:
        """Record and apply ``events`` in one transaction (the caller keeps batches small).

        One outcome per event: its ``AppliedEvent``, ``None`` for a duplicate, or the
        exception that undid it alone. Raises (nothing kept) if the transaction itself fails.
        """
        outcomes, self.backlog = self._log._apply_batch(self._db, events)
        for event, outcome in zip(events, outcomes, strict=True):
            if isinstance(outcome, AppliedEvent):  # its account row is committed (see _events)
                self._log._accounts_stored.add(event.account_id)
        self._commits += 1
        if self._commits % CHECKPOINT_EVERY == 0:
            self._checkpoint_due.set()
        return outcomes

    def index_wait(self) -> float | None:
        """How long the caller may wait for events before :meth:`index_chunk` is due: None
        (nothing pending), 0 (a full chunk waits) or ``INDEX_DELAY`` (a few rows wait)."""
        if self.backlog == 0:
            return None
        return 0.0 if self.backlog >= INDEX_CHUNK else INDEX_DELAY

    @property
    def catching_up(self) -> bool:
        """Enough rows wait that a chunk goes in even while events keep coming."""
        return self.backlog >= INDEX_CATCHUP

    def index_chunk(self) -> None:
        """Index one chunk of pending messages in its own transaction."""
        self.backlog = index_chunk(self._db)

    def close(self) -> None:
        self._closing = True
        self._checkpoint_due.set()
        self._checkpointer.join()
        self._db.close()
