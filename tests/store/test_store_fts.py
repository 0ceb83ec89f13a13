"""Deferred full-text indexing (schema v5): pending rows are searchable at once, edits and
deletes of pending and indexed rows keep the index exact, pending rows survive a close."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.store import (
    ACCOUNT,
    CREATOR,
    account,
    chat,
    check_fts_index,
    event,
    message,
)

from console.events import EventType
from console.store import SearchHit, Store
from console.store._fts import INDEX_CATCHUP, INDEX_CHUNK, pending_count

# Hostile for the pending rows' ASCII prefilter: case, "_" and "-" inside words, digits,
# diacritics and full-width letters (folded by FTS5 only).
QUERIES = ["photo", "photo ", "pho", "love pho", "night", "café", "cafe", "x", "zz", "ph lo"]
QUERIES += ["zz_to", "TOP ", "shoot", "x9", "naive", "naïve", "PHO", "ｐｈｏ", "9y"]
WORDS = ["photo", "photos", "photographer", "love", "lovely", "night", "Café", "cafe", "zz_top"]
WORDS += ["photo-shoot", "ＰＨＯＴＯ", "x9y", "naïve", "NAIVE", "top"]


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6)))


async def _hits(store: Store) -> dict[str, list[SearchHit]]:
    return {q: await store.search(q, limit=100) for q in QUERIES} | {
        "chat": await store.search("photo", chat_id="c1"),
        "account": await store.search("lo", account_id=ACCOUNT),
    }


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with await Store.open(tmp_path / "cache.sqlite3") as opened:
        await opened.upsert_accounts([account()])
        await opened.upsert_chats(ACCOUNT, [chat("c1", "100"), chat("c2", "200")])
        yield opened


def _hold_indexing(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer indexes nothing until ``flush_index`` (rows stay pending)."""
    monkeypatch.setattr(store.core, "_index_soon", lambda *args, **kwargs: None)


async def test_pending_messages_are_found_exactly_as_indexed_ones(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _hold_indexing(store, monkeypatch)
    rng = random.Random(5)
    await store.upsert_messages(
        ACCOUNT, "c1", [message(f"m{i}", text=_text(rng), minutes=i) for i in range(40)]
    )
    for i in range(20):
        msg = message(f"e{i}", "c2", sender="200", text=_text(rng), minutes=100 + i)
        assert await store.apply_event(
            event(EventType.MESSAGE_RECEIVED, f"k{i}", chat_id="c2", fan_id="200", message=msg)
        )
    assert await store.core._writer.run(pending_count) == 60
    pending = await _hits(store)
    assert pending["photo"]  # the queries do find something
    await store.flush_index()
    assert await store.core._writer.run(pending_count) == 0
    assert await _hits(store) == pending
    check_fts_index(store.path)


async def test_half_indexed_cache_searches_like_a_fully_indexed_one(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(11)
    await store.upsert_messages(
        ACCOUNT, "c1", [message(f"old{i}", text=_text(rng), minutes=i) for i in range(30)]
    )
    await store.flush_index()
    _hold_indexing(store, monkeypatch)
    await store.upsert_messages(
        ACCOUNT, "c1", [message(f"new{i}", text=_text(rng), minutes=50 + i) for i in range(30)]
    )
    assert await store.core._writer.run(pending_count) == 30
    mixed = await _hits(store)
    # A search beside a busy writer: another store on the same file (as `search` in another
    # process while `listen` runs) sees the pending rows too.
    async with await Store.open(store.path) as other:
        monkeypatch.setattr(other.core, "_index_soon", lambda *args, **kwargs: None)
        assert await _hits(other) == mixed
    await store.flush_index()
    assert await _hits(store) == mixed


async def test_edits_and_deletes_of_pending_and_indexed_messages(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _hold_indexing(store, monkeypatch)
    rng = random.Random(3)
    texts: dict[str, str] = {}
    sends = adopted = 0
    for step in range(120):
        action = rng.random()
        if action < 0.4 or not texts:
            mid = f"m{len(texts)}"
            texts[mid] = _text(rng)
            await store.upsert_messages(
                ACCOUNT, "c1", [message(mid, text=texts[mid], minutes=len(texts))]
            )
        elif action < 0.7:  # an edit: the indexed or pending row changes its text
            mid = rng.choice(sorted(texts))
            texts[mid] = _text(rng)
            minutes = int(mid.removeprefix("m"))
            await store.upsert_messages(
                ACCOUNT, "c1", [message(mid, text=texts[mid], minutes=minutes)]
            )
        elif action < 0.85:  # a local send, then discarded (a deleted row) or adopted (a move)
            sends += 1
            text = _text(rng)
            item = await store.outbox.add(ACCOUNT, "c1", "send", {"content": text}, f"cl{sends}")
            if rng.random() < 0.5:
                await store.outbox.mark_failed(item.client_id, "no")
                await store.outbox.discard(item.client_id)
            else:
                await store.outbox.mark_in_flight(item.client_id)
                when = datetime.now(UTC) + timedelta(seconds=sends)
                server = message(f"s{sends}", sender=CREATOR, text=text, created=when)
                await store.upsert_messages(ACCOUNT, "c1", [server], creator_id=CREATOR)
                row = await store.message(f"s{sends}")
                adopted += row is not None and row.client_id == f"cl{sends}"
        else:
            await store.flush_index()
        if step % 10 == 0:
            check_fts_index(store.path)
            before = await _hits(store)
            await store.flush_index()
            assert await _hits(store) == before
    check_fts_index(store.path)
    assert adopted > 3  # the local rows really moved
    for mid, text in texts.items():
        word = text.split()[0]
        assert mid in {hit.message_id for hit in await store.search(f"{word} ", limit=1000)}


async def test_pending_rows_survive_a_close_and_are_indexed_after_the_next_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.sqlite3"
    async with await Store.open(path) as store:
        _hold_indexing(store, monkeypatch)
        await store.upsert_accounts([account()])
        await store.upsert_messages(ACCOUNT, "c1", [message("m1", text="kept for later")])
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM fts_pending").fetchone()[0] == 1
    async with await Store.open(path) as store:
        # The open queued a chunk of indexing; writer jobs run in order.
        assert await store.core._writer.run(pending_count) == 0
        assert [hit.message_id for hit in await store.search("later")] == ["m1"]
    check_fts_index(path)


async def test_indexing_waits_for_events_unless_the_backlog_is_large(store: Store) -> None:
    submitted: list[object] = []

    class Writer:
        def submit(self, fn: object) -> object:
            submitted.append(fn)
            raise sqlite3.ProgrammingError("stub")  # nothing really runs

    core = store.core
    real = core._writer
    core._writer = Writer()  # type: ignore[assignment]
    try:
        core._index_soon(INDEX_CATCHUP - 1, events_waiting=True)
        assert submitted == []  # events first
        core._index_soon(INDEX_CATCHUP, events_waiting=True)
        assert len(submitted) == 1  # catch-up: a chunk goes in before the next batch
        core._index_soon(INDEX_CHUNK, events_waiting=False)
        assert len(submitted) == 2  # idle, a full chunk
        core._index_soon(10, events_waiting=False)
        assert len(submitted) == 2  # less than a chunk waits a little for more
        timer = core._index_timer
        assert timer is not None
        timer.cancel()
        core._index_due()  # what the timer does when it fires
        assert len(submitted) == 3
        core._index_soon(10, events_waiting=False, now=True)
        assert len(submitted) == 4
        core._index_soon(0, events_waiting=False, now=True)
        assert len(submitted) == 4  # nothing to do
    finally:
        core._writer = real
