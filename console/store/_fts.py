"""Deferred full-text indexing: messages wait in ``fts_pending`` and are indexed in chunks.

A message row commits with its event (or its sync page) and its position goes into
``fts_pending`` in the same transaction (schema v5 triggers); the writer indexes pending rows
later, oldest first, ``INDEX_CHUNK`` at a time in their own transaction. FTS5 writes a new
segment at every savepoint and commit, so one message per event (a savepoint each) cost 2-3x
what a chunk costs per row, and the merges that follow grew with the cache.

When: after a commit, a chunk is queued on the writer only if no event waits for it, so a
delivery's commit is never behind more than one chunk (a few ms); fewer than a chunk of rows
wait ``INDEX_DELAY`` for more first (a chunk of 16 costs ~3x per row what one of 256 does).
Under a sustained stream (events always waiting) a chunk still goes in once ``INDEX_CATCHUP``
rows wait, which bounds the pending set search has to scan. Pending rows survive a crash (they
are committed) and are indexed after the next open.

Search stays exact without writing: it reads the index and the pending rows in one read
transaction and decides the pending ones with the same tokenizer and query (see
``_queries._pending_hits``).
"""

from __future__ import annotations

import sqlite3

#: Rows indexed per transaction (about 2 ms of the writer's time on a small cache).
INDEX_CHUNK = 256
#: Pending rows that make the writer index a chunk even while events wait: a full chunk, so a
#: sustained stream is indexed a chunk at a time and search scans at most ~a chunk + a batch
#: of pending rows (~2.5 ms per search for 256 of them).
INDEX_CATCHUP = INDEX_CHUNK
#: How long fewer than a chunk of pending rows wait for more before the writer indexes them
#: (when no event waits); a search finds them meanwhile all the same.
INDEX_DELAY = 0.05

PENDING_COUNT = "SELECT count(*) FROM fts_pending"


def pending_count(db: sqlite3.Connection) -> int:
    """How many committed messages are not indexed yet."""
    return int(db.execute(PENDING_COUNT).fetchone()[0])


def index_chunk(db: sqlite3.Connection, limit: int = INDEX_CHUNK) -> int:
    """Index up to ``limit`` pending messages (oldest first) in one transaction.

    Returns how many are still pending after it.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        row = db.execute(
            "SELECT pos FROM fts_pending ORDER BY pos LIMIT 1 OFFSET ?", (limit - 1,)
        ).fetchone()
        # Positions up to the chunk's last one (all of them when fewer are pending).
        top = (1 << 63) - 1 if row is None else row[0]
        db.execute(
            "INSERT INTO messages_fts(rowid, text) SELECT m.pos, m.text FROM fts_pending p "
            "JOIN messages m ON m.pos = p.pos WHERE p.pos <= ? ORDER BY p.pos",
            (top,),
        )
        db.execute("DELETE FROM fts_pending WHERE pos <= ?", (top,))
        remaining = pending_count(db)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return remaining


def index_all(db: sqlite3.Connection) -> None:
    """Index every pending message (tests, benches, and a cache built in bulk)."""
    while index_chunk(db, 4096):
        pass
