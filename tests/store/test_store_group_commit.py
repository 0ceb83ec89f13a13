"""Group commit: concurrent events share one transaction, yet each is applied exactly once,
each caller hears about its own event, and nobody hears before the commit."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from support.store import ACCOUNT, account, message, message_event

import console.store._events as event_rules
from console.events import Event
from console.store import AppliedEvent, Store
from console.store._core import CHECKPOINT_EVERY


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with await Store.open(tmp_path / "cache.sqlite3") as opened:
        await opened.upsert_accounts([account()])
        yield opened


def _events(count: int, chats: int = 5, prefix: str = "k") -> list[Event]:
    return [
        message_event(f"{prefix}{i}", message(f"m{i}", f"c{i % chats}", text=f"word{i}", minutes=i))
        for i in range(count)
    ]


def _batch_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the size of every batch the writer commits (wraps the event rules' function)."""
    sizes: list[int] = []
    original = event_rules.apply_batch

    def counting(db: sqlite3.Connection, events: list[Event], *rest: Any) -> Any:
        sizes.append(len(events))
        return original(db, events, *rest)

    monkeypatch.setattr(event_rules, "apply_batch", counting)
    return sizes


async def test_concurrent_events_are_committed_together_each_once(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes = _batch_sizes(monkeypatch)
    events = _events(200)
    # Every event twice, interleaved: duplicates land in the same batch as their original.
    results = await asyncio.gather(
        *(store.apply_event(e) for pair in zip(events, events, strict=True) for e in pair)
    )
    assert len(sizes) < len(results) and max(sizes) > 1
    firsts, seconds = results[0::2], results[1::2]
    assert all(isinstance(r, AppliedEvent) for r in firsts)
    assert seconds == [None] * len(events)
    applied = [r for r in firsts if r is not None]
    # Each caller got its own event back, with its own seq.
    assert [r.event.idempotency_key for r in applied] == [e.idempotency_key for e in events]
    assert sorted(r.seq for r in applied) == list(range(1, len(events) + 1))
    for n in range(5):
        chat = await store.chat(f"c{n}")
        assert chat is not None and chat.unread == 40
        assert len(await store.latest_messages(f"c{n}", 100)) == 40
    assert len(await store.events_since(0, 1000)) == len(events)


async def test_an_event_is_committed_before_its_caller_hears(store: Store) -> None:
    events = _events(30)
    plain = sqlite3.connect(store.path)
    try:

        async def apply_and_look(event: Event) -> int:
            assert await store.apply_event(event) is not None
            # Another connection (another process, for the gateway) already sees it.
            row = plain.execute(
                "SELECT COUNT(*) FROM event_log WHERE idempotency_key = ?",
                (event.idempotency_key,),
            ).fetchone()
            return int(row[0])

        assert await asyncio.gather(*(apply_and_look(e) for e in events)) == [1] * len(events)
    finally:
        plain.close()


async def test_a_failing_event_spoils_only_itself(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes = _batch_sizes(monkeypatch)
    original = event_rules._apply

    def apply(db: sqlite3.Connection, event: Event, *rest: Any) -> Any:
        result = original(db, event, *rest)  # its effects are written, then undone
        if event.idempotency_key == "k3":
            raise sqlite3.IntegrityError("boom")
        return result

    monkeypatch.setattr(event_rules, "_apply", apply)
    results = await asyncio.gather(
        *(store.apply_event(e) for e in _events(8)), return_exceptions=True
    )
    assert max(sizes) > 1
    assert isinstance(results[3], sqlite3.IntegrityError)
    assert all(isinstance(r, AppliedEvent) for i, r in enumerate(results) if i != 3)
    keys = [e.idempotency_key for e in await store.events_since(0)]
    assert keys == [f"k{i}" for i in range(8) if i != 3]
    assert await store.message("m3") is None
    # Even the chat it created is gone with it.
    assert await store.chat("c3") is None
    # The key is free: a redelivery applies it.
    monkeypatch.setattr(event_rules, "_apply", original)
    assert await store.apply_event(_events(8)[3]) is not None
    assert await store.message("m3") is not None


async def test_a_cancelled_caller_does_not_disturb_the_batch(store: Store) -> None:
    events = _events(20)
    tasks = [asyncio.create_task(store.apply_event(e)) for e in events]
    await asyncio.sleep(0)  # all twenty are queued, the first batch is on the writer
    tasks[5].cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(results[5], asyncio.CancelledError)
    assert all(isinstance(r, AppliedEvent) for i, r in enumerate(results) if i != 5)
    # The cancelled caller's event may or may not be stored, but never half: it is whole
    # or absent, and its redelivery is then a duplicate or a first application.
    again = await store.apply_event(events[5])
    assert (await store.message("m5")) is not None
    logged = {e.idempotency_key for e in await store.events_since(0)}
    assert logged == {e.idempotency_key for e in events}
    assert again is None or again.seq > 0


async def test_a_closed_store_refuses_events(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "cache.sqlite3")
    await store.upsert_accounts([account()])
    assert await store.apply_event(_events(1)[0]) is not None
    await store.close()
    with pytest.raises(sqlite3.ProgrammingError):
        await store.apply_event(_events(2)[1])
    # The account was stored before closing; reopening sees everything that was answered.
    async with await Store.open(tmp_path / "cache.sqlite3") as reopened:
        assert [a.account_id for a in await reopened.accounts()] == [ACCOUNT]
        assert len(await reopened.events_since(0)) == 1


async def test_checkpoints_run_beside_the_writer(store: Store, tmp_path: Path) -> None:
    """Commits never checkpoint; every CHECKPOINT_EVERY commits a background checkpoint copies
    the WAL back into the database file."""
    assert (await store.core._writer.fetchall("PRAGMA wal_autocheckpoint"))[0][0] == 0
    applied = 0
    for event in _events(CHECKPOINT_EVERY * 2):
        await store.apply_event(event)
        applied += 1
        if store.core._checkpointing is not None:
            await store.core._checkpointing
            break
    assert applied < CHECKPOINT_EVERY + 1  # the fixture's upsert_accounts was a commit too
    # The database file alone (no WAL beside it) holds every event committed before.
    alone = tmp_path / "alone.sqlite3"
    shutil.copyfile(store.path, alone)
    with sqlite3.connect(alone) as conn:
        assert conn.execute("SELECT COUNT(*) FROM event_log").fetchone()[0] == applied


async def test_callers_on_two_event_loops_share_the_store(store: Store) -> None:
    """A listener in a server thread (its own loop) and the app's loop may both apply events."""
    events = _events(300)
    mine, theirs = events[::2], events[1::2]

    def other_loop() -> list[AppliedEvent | None]:
        async def apply_all() -> list[AppliedEvent | None]:
            return list(await asyncio.gather(*(store.apply_event(e) for e in theirs)))

        return asyncio.run(apply_all())

    results = await asyncio.gather(
        asyncio.to_thread(other_loop), asyncio.gather(*(store.apply_event(e) for e in mine))
    )
    answers = [*results[0], *results[1]]
    assert all(isinstance(r, AppliedEvent) for r in answers)
    assert sorted(r.seq for r in answers if r is not None) == list(range(1, len(events) + 1))
    keys = {r.event.idempotency_key for r in answers if r is not None}
    assert keys == {e.idempotency_key for e in events}
