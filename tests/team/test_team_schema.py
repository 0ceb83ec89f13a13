"""The team database: a real PostgreSQL 15 cluster, migrated from empty and from the previous
version."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from console.team.cluster import Cluster, ClusterError
from console.team.schema import LATEST, MIGRATIONS, current_version, migrate


async def test_the_cluster_runs_unprivileged_on_its_own_socket(pg_cluster: Cluster) -> None:
    conn = await asyncpg.connect(pg_cluster.url())
    try:
        assert (await conn.fetchval("SHOW server_version")).startswith("15")
        assert await conn.fetchval("SHOW listen_addresses") == ""
        data_owner = pg_cluster.data.stat().st_uid
    finally:
        await conn.close()
    assert data_owner != 0  # initdb refuses root: the cluster runs as another user


def test_missing_binaries_say_how_to_install_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FANSLY_CONSOLE_PG_BIN", "/nonexistent/bin")
    with pytest.raises(ClusterError, match="apt-get install -y postgresql-15"):
        Cluster()


async def tables(conn: asyncpg.Connection) -> set[str]:
    rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {row[0] for row in rows}


async def test_migrates_from_empty(team_db: str) -> None:
    conn = await asyncpg.connect(team_db)
    try:
        assert await current_version(conn) == 0
        assert await migrate(conn) == LATEST
        assert await current_version(conn) == LATEST
        assert {"events", "chatters", "outbox", "notes", "presence", "credits"} <= await tables(
            conn
        )
        assert await migrate(conn) == LATEST  # a second run changes nothing
    finally:
        await conn.close()


async def test_migrates_from_the_previous_version_keeping_its_rows(team_db: str) -> None:
    conn = await asyncpg.connect(team_db)
    try:
        assert await migrate(conn, target=LATEST - 1) == LATEST - 1
        await conn.execute(
            "INSERT INTO events (seq, idempotency_key, kind, type, account_id, body) "
            "VALUES (1, 'k1', 'webhook', 'message.received', 'acc', '{}')"
        )
        await conn.execute(
            "INSERT INTO chatters (name, token_id, token_hash) VALUES ('anna', 'i', '\\x00')"
        )
        assert await migrate(conn) == LATEST
        assert await conn.fetchval("SELECT idempotency_key FROM events WHERE seq = 1") == "k1"
        chatter = await conn.fetchval("SELECT id FROM chatters WHERE name = 'anna'")
        await conn.execute(
            "INSERT INTO notes (account_id, fan_id, chatter_id, text) VALUES ('a', 'f', $1, 'x')",
            chatter,
        )
    finally:
        await conn.close()


async def test_instances_starting_at_once_apply_each_step_once(team_db: str) -> None:
    conns = [await asyncpg.connect(team_db) for _ in range(3)]
    try:
        versions = await asyncio.gather(*(migrate(conn) for conn in conns))
        assert versions == [LATEST] * 3
        assert await conns[0].fetchval("SELECT count(*) FROM schema_version") == 1
    finally:
        for conn in conns:
            await conn.close()


async def test_the_idempotency_key_is_unique(team_db: str) -> None:
    conn = await asyncpg.connect(team_db)
    try:
        await migrate(conn)
        insert = (
            "INSERT INTO events (seq, idempotency_key, kind, type, account_id, body) "
            "VALUES ($1, 'same', 'webhook', 'message.received', 'acc', '{}')"
        )
        await conn.execute(insert, 1)
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute(insert, 2)
    finally:
        await conn.close()


def test_a_released_step_is_never_empty() -> None:
    assert all(step.strip() for step in MIGRATIONS)
