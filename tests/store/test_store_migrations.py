"""Schema migrations: from an empty file, and from every previous version."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from support.store import ACCOUNT, account, chat, message

from console.store import SCHEMA_VERSION, SchemaTooNew, Store, store_path
from console.store._fts import pending_count
from console.store.schema import MIGRATIONS, migrate


def _version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
        return {row[0] for row in rows}


async def test_open_creates_a_current_wal_database(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "cache.sqlite3"
    async with await Store.open(path) as store:
        assert await store.accounts() == []
        writer = store.core._writer
        assert (await writer.fetchall("PRAGMA journal_mode"))[0][0] == "wal"
        assert (await writer.fetchall("PRAGMA foreign_keys"))[0][0] == 1
        assert (await writer.fetchall("PRAGMA synchronous"))[0][0] == 1
        assert (await writer.fetchall("PRAGMA busy_timeout"))[0][0] >= 1000
    assert _version(path) == SCHEMA_VERSION == len(MIGRATIONS)
    expected = {"accounts", "fans", "chats", "messages", "fan_notes", "drafts", "automations"}
    expected |= {"event_log", "outbox", "sync_state", "gaps", "messages_fts", "fts_pending"}
    expected |= {"messages_fts_insert", "messages_fts_update", "messages_fts_delete"}
    assert expected <= _tables(path)


def test_store_path_is_per_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FANSLY_CONSOLE_HOME", str(tmp_path))
    assert store_path("work") == tmp_path / "data" / "work.sqlite3"
    assert store_path("default") != store_path("work")


@pytest.mark.parametrize("version", range(SCHEMA_VERSION))
async def test_every_step_from_the_previous_version(tmp_path: Path, version: int) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=version)
    if version >= 1:
        # Data written by an older program, directly in its schema.
        conn.execute(
            "INSERT INTO accounts(account_id, name, updated_at) VALUES (?, 'Old', 0)", (ACCOUNT,)
        )
        conn.execute(
            "INSERT INTO chats(chat_id, account_id, fan_id, updated_at) VALUES ('c1', ?, '100', 0)",
            (ACCOUNT,),
        )
        conn.execute(
            """INSERT INTO messages(pos, message_id, chat_id, account_id, sender_id,
                from_creator, text, created_at) VALUES (4096, 'm-old', 'c1', ?, '100', 0,
                'a treasure from before', 1)""",
            (ACCOUNT,),
        )
    conn.close()
    assert _version(path) == version

    async with await Store.open(path) as store:
        assert _version(path) == SCHEMA_VERSION
        # Older versions indexed every message in their step: nothing is left pending.
        assert await store.core._writer.run(pending_count) == 0
        if version >= 1:
            assert [a.account_id for a in await store.accounts()] == [ACCOUNT]
            hits = await store.search("treasure")
            assert [hit.message_id for hit in hits] == ["m-old"]
        # The new version works for new data too.
        await store.upsert_accounts([account()])
        await store.upsert_chats(ACCOUNT, [chat("c2", "200", last=message("m2", "c2"))])
        assert (await store.latest_messages("c2"))[0].message_id == "m2"
        item = await store.outbox.add(ACCOUNT, "c2", "send", {"content": "hi"})
        assert (await store.outbox.counts(ACCOUNT)) == (1, 0)
        assert item.client_id


async def test_reopening_a_current_file_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    async with await Store.open(path) as store:
        await store.upsert_accounts([account()])
    async with await Store.open(path) as store:
        assert len(await store.accounts()) == 1
    assert _version(path) == SCHEMA_VERSION


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SchemaTooNew, match="upgrade"):
        await Store.open(path)


def test_a_failing_step_leaves_the_previous_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import console.store.schema as schema

    path = tmp_path / "f.sqlite3"
    monkeypatch.setattr(schema, "MIGRATIONS", [*MIGRATIONS, "CREATE TABLE x(a); SELEC oops;"])
    monkeypatch.setattr(schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    conn = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(sqlite3.Error):
        migrate(conn, target=SCHEMA_VERSION + 1)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert "x" not in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
