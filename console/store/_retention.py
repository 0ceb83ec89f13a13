"""Keeping the cache file bounded: the event log's retention, and WAL truncation when idle.

**Retention.** Every delivery's event stays in ``event_log`` with its idempotency key; without
pruning the log (and the WAL that carries it) grew without end (475 MB seen). Events older than
the retention (``[webhooks] event_retention_days``, default 30) are deleted when the writer is
idle. Why 30 days: a row's key is also what makes a retried delivery a no-op, so an event must
outlive every retry of it. Providers retry failed deliveries for hours to a few days (Stripe
3 days, Shopify 48 hours; APIFansly and OnlyFansAPI document exponential backoff and a delivery
log that can be replayed by hand, without a horizon), and a manual replay comes from a delivery
log kept for about a month at most. 30 days is past all of them; a replay older than that of a
message changes nothing (messages are upserted by id), only an old tip could be counted twice.
The consoles that resume from the hub resume from this log too: one that stayed away longer
than the retention is told so (see ``EventHub.stream``) and resumes at the oldest kept event.

The log is pruned from its oldest end only and its newest row is never deleted, so seqs stay
monotonic (a new event's seq is ``MAX(seq) + 1``) and what is kept is always a contiguous run:
a console that asks for events after seq ``n`` lost some exactly when ``n < first - 1``.

**WAL.** Commits never checkpoint (``_core``); background checkpoints are PASSIVE, so they
never wait for a reader or the writer, and the WAL file keeps the size of its longest run.
When the writer is idle, a PASSIVE checkpoint copies what it can, then a TRUNCATE checkpoint,
which must not wait (busy timeout 0: if a reader or writer is active it gives up and the next
idle moment tries again), resets the file to zero bytes.
"""

from __future__ import annotations

import sqlite3

#: Default days an event is kept in the event log (see the module's docstring for why 30).
EVENT_RETENTION_DAYS = 30
DAY_MS = 24 * 3600 * 1000
#: Events deleted per transaction (a few ms of the writer; events queue behind at most one).
PRUNE_BATCH = 2000
#: Seconds without a commit after which the writer is idle (prune, truncate the WAL).
IDLE_AFTER = 2.0
#: Seconds after which maintenance runs even if the writer never went quiet that long (a
#: steady trickle of events); it still runs only when no event waits.
MAINTAIN_EVERY = 600.0


def retention_ms(days: float) -> int:
    if days <= 0:
        raise ValueError("the event retention must be a positive number of days")
    return int(days * DAY_MS)


def prune_events(db: sqlite3.Connection, older_than_ms: int, batch: int = PRUNE_BATCH) -> int:
    """Delete, in one transaction, up to ``batch`` of the oldest events received before
    ``older_than_ms`` (epoch ms), stopping at the first younger one and never deleting the
    newest event. Returns how many were deleted."""
    # The usual case, nothing old: one row read, no write lock taken.
    oldest = db.execute("SELECT received_at FROM event_log ORDER BY seq LIMIT 1").fetchone()
    if oldest is None or oldest[0] >= older_than_ms:
        return 0
    db.execute("BEGIN IMMEDIATE")
    try:
        rows = db.execute(
            "SELECT seq, received_at FROM event_log ORDER BY seq LIMIT ?", (batch,)
        ).fetchall()
        newest = db.execute("SELECT MAX(seq) FROM event_log").fetchone()[0]
        bound = None  # the first seq kept
        for seq, received_at in rows:
            if received_at >= older_than_ms or seq == newest:
                bound = seq
                break
        if bound is None:
            bound = rows[-1][0] + 1 if rows else 0
        deleted = db.execute("DELETE FROM event_log WHERE seq < ?", (bound,)).rowcount
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return int(deleted)


def first_event_seq(db: sqlite3.Connection) -> int:
    """The oldest seq the log still holds (1 for a log never pruned, or empty)."""
    row = db.execute("SELECT MIN(seq) FROM event_log").fetchone()
    return 1 if row[0] is None else int(row[0])


def truncate_wal(db: sqlite3.Connection) -> bool:
    """Checkpoint the whole WAL and truncate it to zero bytes, without waiting for anyone.
    Whether it was done (False: a reader or the writer was active; try again later)."""
    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()  # the copying, blocking no one
    (timeout,) = db.execute("PRAGMA busy_timeout").fetchone()
    db.execute("PRAGMA busy_timeout = 0")
    try:
        busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.OperationalError:  # locked: someone else is checkpointing or writing
        return False
    finally:
        db.execute(f"PRAGMA busy_timeout = {int(timeout)}")
    return busy == 0
