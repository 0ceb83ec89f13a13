"""The queue's spend order from an index (issue 16, schema step 11): the chats keep a copy of their
fan's lifetime spend, equal whoever writes it; a page is read in order from the index (no sort
of every waiting chat); and the queue can say for how many waiting fans the spend is known."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.store import ACCOUNT, account, at, chat, message

from console.api.models import Earnings
from console.store import Store
from console.store.queue import QueueSort
from console.store.schema import migrate

NOW = at(600)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with await Store.open(tmp_path / "cache.sqlite3") as opened:
        await opened.upsert_accounts([account()])
        yield opened


async def _waiting(store: Store, fan_id: str, minutes: float, **extra: object) -> None:
    last = message(f"m{fan_id}", f"c{fan_id}", sender=fan_id, minutes=minutes)
    await store.upsert_chats(ACCOUNT, [chat(f"c{fan_id}", fan_id, last=last, **extra)])
    await store.upsert_messages(ACCOUNT, f"c{fan_id}", [last])


async def _order(store: Store) -> list[str]:
    rows = await store.queue.window([ACCOUNT], sort=QueueSort.SPEND, now=NOW)
    return [r.chat.chat_id for r in rows]


async def test_spend_order_follows_the_fans_spend_as_it_is_learnt(store: Store) -> None:
    await _waiting(store, "1", 10, lifetime_spend_millis=50_000)
    await _waiting(store, "2", 20)  # spend never fetched
    await _waiting(store, "3", 30, lifetime_spend_millis=0)
    await _waiting(store, "4", 40)  # spend never fetched
    # Known spend first (highest first), then the fans never fetched, longest waiting first.
    assert await _order(store) == ["c1", "c3", "c2", "c4"]
    assert await store.queue.spend_known([ACCOUNT]) == (2, 4)
    # The profile of fan 4 is fetched: a whale.
    await store.set_fan_earnings(ACCOUNT, "4", Earnings(fan_id="4", total_gross_millis=900_000))
    assert await _order(store) == ["c4", "c1", "c3", "c2"]
    assert await store.queue.spend_known([ACCOUNT]) == (3, 4)
    # Learnt again, higher: the row shows the spend the order used.
    await store.set_fan_earnings(ACCOUNT, "2", Earnings(fan_id="2", total_gross_millis=2_000_000))
    rows = await store.queue.window([ACCOUNT], sort=QueueSort.SPEND, now=NOW)
    assert [(r.chat.chat_id, r.chat.spend_millis) for r in rows][:2] == [
        ("c2", 2_000_000),
        ("c4", 900_000),
    ]
    # A chat upserted again (the chat list, without spend) keeps its fan's.
    await _waiting(store, "4", 40)
    assert (await _order(store))[:2] == ["c2", "c4"]


def _plan(path: Path) -> str:
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "EXPLAIN QUERY PLAN SELECT c.chat_id FROM chats c INDEXED BY chats_waiting_spend "
            "WHERE c.waiting_since IS NOT NULL AND c.muted = 0 AND c.account_id IN "
            "(SELECT value FROM json_each(?)) ORDER BY c.fan_spend_millis DESC, "
            "c.waiting_since, c.chat_id LIMIT 50",
            ('["a"]',),
        ).fetchall()
    return "\n".join(str(r[-1]) for r in rows)


async def test_a_page_in_spend_order_is_read_from_the_index_without_a_sort(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    async with await Store.open(path):
        pass
    plan = _plan(path)
    assert "COVERING INDEX chats_waiting_spend" in plan
    assert "TEMP B-TREE" not in plan  # before step 11: every waiting chat was sorted


def test_migration_copies_the_spend_of_cached_fans(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    migrate(db, target=10)
    db.execute("INSERT INTO accounts(account_id, updated_at) VALUES ('a', 0)")
    db.execute(
        "INSERT INTO fans(account_id, fan_id, lifetime_spend_millis, updated_at) "
        "VALUES ('a', 'f1', 7000, 0), ('a', 'f2', NULL, 0)"
    )
    db.execute(
        "INSERT INTO chats(chat_id, account_id, fan_id, waiting_since, updated_at) "
        "VALUES ('c1', 'a', 'f1', 5, 0), ('c2', 'a', 'f2', 6, 0), ('c3', 'a', NULL, 7, 0)"
    )
    migrate(db)
    spend = dict(db.execute("SELECT chat_id, fan_spend_millis FROM chats").fetchall())
    db.close()
    assert spend == {"c1": 7000, "c2": None, "c3": None}
