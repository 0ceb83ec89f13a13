"""The team log's writer over a real PostgreSQL: a batch costs a fixed number of round trips,
whatever its size (serve's ingest rate is bounded by how long a batch's transaction takes)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
from support.webhooks import ACCOUNT, message_object, snowflake

from console.events import Event
from console.team.eventlog import LogWriter
from console.team.pg import create_pool, open_database
from console.webhooks.intake import parse_delivery


def event(chat: str, *, key: str | None = None) -> Event:
    data = {**message_object(), "groupId": chat}
    body = {
        "event": "message.received",
        "idempotencyKey": key or f"evt_{snowflake(1)}",
        "accountId": ACCOUNT,
        "timestamp": "2026-09-22T12:00:00.000Z",
        "data": data,
    }
    parsed = parse_delivery(json.dumps(body).encode(), {})
    assert isinstance(parsed, Event), parsed
    return parsed


async def test_a_batch_of_deliveries_is_four_statements_whatever_its_size(team_db: str) -> None:
    await open_database(team_db)
    statements: list[str] = []

    async def count(conn: asyncpg.Connection) -> None:
        conn.add_query_logger(lambda record: statements.append(record.query))

    pool = await asyncpg.create_pool(team_db, min_size=1, max_size=2, init=count)
    writer = LogWriter(pool)
    try:
        await writer.append(event("100000000000000001"))  # the writer takes its connection
        statements.clear()
        chats = [f"1000000000000001{n:02d}" for n in range(10)]
        batch = [event(chats[n % 10]) for n in range(60)]
        again = event(chats[0], key=batch[0].idempotency_key)  # a retry within the batch
        # Appended in one go: one batch, one transaction.
        seqs: list[Any] = await asyncio.gather(*(writer.append(e) for e in [*batch, again]))
        assert writer.commits == 2
        assert len(statements) <= 4, statements  # BEGIN + lock; seqs; the rows; COMMIT
        assert seqs[-1] is None and len(set(seqs[:-1])) == 60
        assert seqs[:-1] == sorted(seqs[:-1])  # drawn in the order they arrived
        assert await pool.fetchval("SELECT count(*) FROM events") == 61
        assert await pool.fetchval("SELECT count(*) FROM messages") == 61
        assert await pool.fetchval("SELECT count(*) FROM chats") == 11
        row = await pool.fetchrow("SELECT body FROM events WHERE seq = $1", seqs[5])
        assert json.loads(row[0])["seq"] == seqs[5]  # each entry's JSON carries its seq
        await writer.append(event(chats[1]))
        assert writer.commits == 3
    finally:
        await writer.close()
        await pool.close()


async def test_the_writer_plans_each_batch_afresh_as_the_log_grows(team_db: str) -> None:
    """A plan PostgreSQL settled on while the log was empty (a scan of it) must not be kept:
    a long-running ``serve`` on a new database got slower as its log grew."""
    await open_database(team_db)
    pool = await create_pool(team_db, min_size=1, max_size=2)
    writer = LogWriter(pool)
    try:
        chat = "100000000000000001"
        for _ in range(12):  # past the 5 custom plans after which PostgreSQL may go generic
            await writer.append(event(chat))
        assert writer._conn is not None
        plans = await writer._conn.fetch(
            "SELECT left(statement, 40), generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE (statement LIKE '%INTO events%' OR statement LIKE '%FROM events e%') "
            "AND statement NOT LIKE '%pg_prepared_statements%'"
        )
        assert len(plans) == 2 and all(row[1] == 0 and row[2] >= 12 for row in plans), plans
    finally:
        await writer.close()
        await pool.close()
