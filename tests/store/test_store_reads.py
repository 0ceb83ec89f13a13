"""Reads never wait behind a search (issue 14): the UI's reads and searches run on separate
connections, and a search whose caller gave up is interrupted, not run to its end.

The slow search is a real statement on the search lane's own connection, one that would run
for minutes (counting to a billion): every bound below is a small fraction of that.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.store import ACCOUNT, account, message

from console.store import Store

#: Minutes of work for SQLite unless it is interrupted.
FOREVER = (
    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1000000000) "
    "SELECT count(*) FROM n"
)
#: Far below FOREVER's duration, far above a read's on a loaded machine.
BOUND = 3.0


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with await Store.open(tmp_path / "cache.sqlite3") as opened:
        await opened.upsert_accounts([account()])
        await opened.upsert_messages(
            ACCOUNT, "c1", [message(f"m{i}", text=f"hello {i}", minutes=i) for i in range(60)]
        )
        await opened.flush_index()
        yield opened


async def _slow_search(store: Store, steps: list[str] | None = None) -> asyncio.Future[object]:
    """A search-lane job that runs for minutes; returns once its statement is running."""
    started = threading.Event()

    def slow(conn: sqlite3.Connection) -> object:
        started.set()
        row = conn.execute(FOREVER).fetchone()
        if steps is not None:
            steps.append("finished")
        return row

    job = asyncio.ensure_future(store.core._searcher.run(slow))
    assert await asyncio.to_thread(started.wait, BOUND)
    return job


async def _within_bound(awaitable: object) -> tuple[object, float]:
    began = time.perf_counter()
    async with asyncio.timeout(BOUND * 10):  # a hang fails the test instead of stalling CI
        result = await awaitable  # type: ignore[misc]
    return result, time.perf_counter() - began


async def test_opening_a_chat_does_not_wait_for_a_search_in_flight(store: Store) -> None:
    search = await _slow_search(store)
    rows, took = await _within_bound(store.latest_messages("c1", 50))
    assert len(rows) == 50  # type: ignore[arg-type]
    assert took < BOUND
    # The list window and a thread page too: every read of the UI's lane.
    chats, took = await _within_bound(store.chats(ACCOUNT, limit=50))
    assert [c.chat_id for c in chats] == ["c1"]  # type: ignore[attr-defined]
    assert took < BOUND
    assert not search.done()  # it really was in flight all along
    search.cancel()


async def test_a_superseded_search_is_interrupted_and_the_next_one_runs(store: Store) -> None:
    steps: list[str] = []
    search = await _slow_search(store, steps)
    search.cancel()  # the next keystroke, or the closed screen, cancels the awaiting task
    # The lane is free at once: the next search on it does not wait for the first's end.
    hits, took = await _within_bound(store.search("hello 5 "))
    assert [h.message_id for h in hits] == ["m5"]  # type: ignore[attr-defined]
    assert took < BOUND
    assert store.core._searcher.interrupted == 1
    assert steps == []


async def test_an_interrupt_between_two_statements_stops_the_next(store: Store) -> None:
    """``interrupt()`` only stops a statement that is running; a search given up between its
    statements is stopped by the progress handler at its next one."""
    between = threading.Event()
    go_on = threading.Event()
    steps: list[str] = []

    def two_statements(conn: sqlite3.Connection) -> object:
        conn.execute("SELECT 1").fetchone()
        between.set()
        go_on.wait(BOUND * 10)
        steps.append("second statement started")
        return conn.execute(FOREVER).fetchone()

    search = asyncio.ensure_future(store.core._searcher.run(two_statements))
    assert await asyncio.to_thread(between.wait, BOUND)
    search.cancel()
    await asyncio.sleep(0)  # the cancellation reaches the lane (its done callback)
    go_on.set()
    _, took = await _within_bound(store.search("hello"))
    assert took < BOUND
    assert steps == ["second statement started"]
    assert store.core._searcher.interrupted == 1


async def test_a_search_given_up_before_it_starts_never_runs(store: Store) -> None:
    ran: list[str] = []
    first = await _slow_search(store)
    queued = asyncio.ensure_future(store.core._searcher.run(lambda conn: ran.append("queued")))
    await asyncio.sleep(0)
    queued.cancel()
    first.cancel()
    hits, took = await _within_bound(store.search("hello 7 "))
    assert took < BOUND
    assert [h.message_id for h in hits] == ["m7"]  # type: ignore[attr-defined]
    assert ran == []
    assert store.core._searcher.interrupted == 2


async def test_a_failing_search_still_raises(store: Store) -> None:
    """Only a search its caller gave up on is turned into a silent stop."""
    with pytest.raises(sqlite3.OperationalError):
        await store.core._searcher.run(lambda conn: conn.execute("SELECT * FROM no_such_table"))
    assert (await store.search("hello 9 "))[0].message_id == "m9"
