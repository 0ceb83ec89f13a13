"""``EventWriter``: the event log's writer with no thread and no event loop.

For a process whose only job is to record webhook events (the listener's ingest worker,
:mod:`console.webhooks.worker`): it owns one write connection and applies each batch of
events in one transaction, with the very functions :meth:`Store.apply_event` runs
(``_events.apply_batch``), so the rules (exactly once, in any order, failures spoil only
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
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from console.store._core import (
    CHECKPOINT_EVERY,
    KnownAccounts,
    _connect,
    checkpoint,
    now_ms,
    prepare_file,
)
from console.store._events import KeyConflicts, apply_batch
from console.store._fts import INDEX_CATCHUP, INDEX_CHUNK, INDEX_DELAY, index_chunk, pending_count
from console.store._retention import (
    EVENT_RETENTION_DAYS,
    IDLE_AFTER,
    MAINTAIN_EVERY,
    PRUNE_BATCH,
    prune_events,
    retention_ms,
    truncate_wal,
)
from console.store._usage import UsageRow
from console.store.rows import AppliedEvent, Maintenance

if TYPE_CHECKING:
    from console.events import Event


class EventWriter:
    """``writer = EventWriter(path)``; ``writer.apply(events)``; ``writer.close()``."""

    def __init__(
        self, path: Path | str, *, event_retention_days: float = EVENT_RETENTION_DAYS
    ) -> None:
        path = Path(path)
        self._retention_ms = retention_ms(event_retention_days)
        prepare_file(path)
        self._db = _connect(path, read_only=False)
        # This writer's own knowledge of accounts and record of reused keys (the store's
        # are the store's: another process, another writer).
        self._known = KnownAccounts()
        self._known.load(self._db)
        self._conflicts = KeyConflicts()
        self._commits = 0
        # Idle maintenance (see _retention.py): due after a commit, once quiet for IDLE_AFTER;
        # the first one right after the open (a cache closed for weeks is pruned then).
        self._maintenance_due = True
        self._last_commit = time.monotonic() - IDLE_AFTER
        self._last_maintenance = time.monotonic()
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

    def apply(
        self, events: list[Event], usage: Sequence[UsageRow] = ()
    ) -> list[AppliedEvent | Exception | None]:
        """Record and apply ``events`` in one transaction (the caller keeps batches small),
        with the credits their deliveries cost (``usage``, see ``_usage.py``).

        One outcome per event: its ``AppliedEvent``, ``None`` for a duplicate, or the
        exception that undid it alone. Raises (nothing kept) if the transaction itself fails.
        """
        outcomes, self.backlog = apply_batch(self._db, events, self._known, self._conflicts, usage)
        for event, outcome in zip(events, outcomes, strict=True):
            if isinstance(outcome, AppliedEvent):  # its account row is committed (see _events)
                self._known.stored.add(event.account_id)
        self._commits += 1
        self._last_commit = time.monotonic()
        self._maintenance_due = True
        if self._commits % CHECKPOINT_EVERY == 0:
            self._checkpoint_due.set()
        return outcomes

    def index_wait(self) -> float | None:
        """How long the caller may wait for events before :meth:`index_chunk` is due: None
        (nothing pending), 0 (a full chunk waits) or ``INDEX_DELAY`` (a few rows wait)."""
        if self.backlog == 0:
            return None
        return 0.0 if self.backlog >= INDEX_CHUNK else INDEX_DELAY

    def idle_wait(self) -> float | None:
        """How long the caller may wait for events before :meth:`idle` has work: indexing
        (see :meth:`index_wait`) first, then maintenance once no commit came for
        ``IDLE_AFTER`` seconds; None when there is nothing to do."""
        wait = self.index_wait()
        if wait is not None or not self._maintenance_due:
            return wait
        return max(0.0, self._last_commit + IDLE_AFTER - time.monotonic())

    def idle(self) -> None:
        """No events came for :meth:`idle_wait`: index a chunk, or else (quiet long enough)
        prune the event log and truncate the WAL."""
        if self.backlog:
            self.index_chunk()
        elif self._maintenance_due and time.monotonic() - self._last_commit >= IDLE_AFTER:
            self.maintain()

    def maintain(self) -> Maintenance:
        """Prune events past the retention and truncate the WAL (see ``_retention.py``)."""
        self._maintenance_due = False
        self._last_maintenance = time.monotonic()
        cutoff = now_ms() - self._retention_ms
        pruned = 0
        while True:  # the worker is idle: every old event goes now, a batch at a time
            deleted = prune_events(self._db, cutoff)
            pruned += deleted
            if deleted < PRUNE_BATCH:
                break
        try:
            truncated = truncate_wal(self._db)
        except sqlite3.Error:
            truncated = False
        return Maintenance(pruned, truncated)

    def maintenance_overdue(self) -> bool:
        """Events never stopped long enough for :meth:`idle` to maintain: do it between two
        batches anyway, every ``MAINTAIN_EVERY`` seconds."""
        return time.monotonic() - self._last_maintenance >= MAINTAIN_EVERY

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
