"""A mass message is stored whole: any number of messages may share one ``createdAt`` second.

Fansly sends ``createdAt`` in seconds, so a creator's mass message to 10,000 fans arrives as
10,000 deliveries of the same second. The thread's order is ``(created_at, pos)``: messages of
the same millisecond keep the order the cache recorded them in (the event log's seq order),
on every page, after a reopen, in both intake modes.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.store import message, message_event
from support.webhooks import ACCOUNT, CREATOR, FAN, SECRET, contract, message_object

from console.events import Event
from console.serving import EmbeddedServer
from console.store import MessageRow, Store
from console.store.schema import POS_SHIFT
from console.webhooks.app import create_listener_app
from console.webhooks.signature import sign
from console.webhooks.worker import IngestWorker

pytestmark = pytest.mark.asyncio

PATH = "/webhooks/fansly"
SECOND = 1_790_000_000  # every message's createdAt (seconds, as Fansly sends it)
SLOT = 1 << POS_SHIFT  # positions one millisecond had before: the old limit was one slot


def mass_delivery(n: int, chat_id: str, fan_id: str) -> tuple[bytes, dict[str, str]]:
    """The creator's message ``n`` of a mass message, as its signed webhook delivery."""
    data = message_object(message_id=f"8{n:017d}", sender=CREATOR, content=f"mass offer {n}")
    data["groupId"] = chat_id
    data["interactions"] = [{"userId": fan_id, "readAt": 0}]
    body = contract("message.sent", data, key=f"evt_mass_{n}")
    return body, {"Content-Type": "application/json", "X-Fansly-Signature": sign(SECRET, body)}


async def whole_thread(store: Store, chat_id: str, page: int = 97) -> list[MessageRow]:
    """Every message of a chat, read backwards page by page as the thread view scrolls."""
    rows = await store.latest_messages(chat_id, page)
    while True:
        older = await store.messages_before(chat_id, rows[0], page)
        if not older:
            return rows
        rows = older + rows


def logged_message_ids(path: Path) -> list[str]:
    """The message ids of the event log, in seq order: the order the cache recorded them."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT event_json FROM event_log ORDER BY seq").fetchall()
    return [json.loads(row[0])["message"]["id"] for row in rows]


async def test_ten_thousand_chats_in_one_second_through_the_ingest_worker(tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite3"
    worker = await IngestWorker.open(cache)
    try:
        deliveries = [mass_delivery(n, f"3{n:017d}", f"6{n:017d}") for n in range(10_000)]
        outcomes = await asyncio.gather(
            *(worker.intake(body, headers) for body, headers in deliveries)
        )
    finally:
        await worker.close()
    assert [o.status for o in outcomes if o.status != 200] == []
    assert sorted(o.seq or 0 for o in outcomes) == list(range(1, 10_001))
    async with await Store.open(cache) as store:
        for n in (0, 4_095, 4_096, 4_097, 9_999):
            (row,) = await store.latest_messages(f"3{n:017d}")
            assert row.message_id == f"8{n:017d}"
            assert row.created_at == datetime.fromtimestamp(SECOND, UTC)
        hits = await store.search("mass offer", limit=10_000)
        assert len(hits) == 10_000
        assert len(await store.chats(ACCOUNT, limit=20_000)) == 10_000
        # Newest first, and within the second the reverse of the order they were recorded.
        assert [hit.message_id for hit in hits] == logged_message_ids(cache)[::-1]


@pytest.fixture
async def listening(tmp_path: Path) -> AsyncIterator[tuple[str, Store]]:
    """The listener as the TUI embeds it (committed through a ``Store`` on its loop)."""
    store = await Store.open(tmp_path / "cache.sqlite3")

    async def sink(event: Event) -> int | None:
        applied = await store.apply_event(event)
        return None if applied is None else applied.seq

    try:
        async with EmbeddedServer(create_listener_app(sink=sink, secrets=[SECRET])) as server:
            yield server.url, store
    finally:
        await store.close()


async def post_all(
    url: str, deliveries: Sequence[tuple[bytes, dict[str, str]]], connections: int = 8
) -> list[int]:
    """POST every delivery over ``connections`` keep-alive connections; the status codes.

    A few lines of HTTP/1.1 instead of httpx, whose client side cost ~1 ms a request: 5,000
    posts then took half a minute on a loaded machine."""
    host, port = url.removeprefix("http://").split(":")
    statuses = [0] * len(deliveries)

    async def connection(first: int) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for n in range(first, len(deliveries), connections):
                body, headers = deliveries[n]
                head = [f"POST {PATH} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
                head += [f"{name}: {value}" for name, value in headers.items()]
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
                answer = await reader.readuntil(b"\r\n\r\n")
                statuses[n] = int(answer[9:12])
                for line in answer.lower().split(b"\r\n"):
                    if line.startswith(b"content-length:"):
                        await reader.readexactly(int(line[15:]))
        finally:
            writer.close()

    await asyncio.gather(*(connection(first) for first in range(connections)))
    return statuses


async def test_five_thousand_in_one_chat_and_one_second_through_signed_posts(
    listening: tuple[str, Store], tmp_path: Path
) -> None:
    url, store = listening
    deliveries = [mass_delivery(n, "3000", FAN) for n in range(5_000)]
    statuses = await post_all(url, deliveries)
    assert [s for s in statuses if s != 200] == []
    thread = await whole_thread(store, "3000")
    recorded = logged_message_ids(tmp_path / "cache.sqlite3")
    assert len(recorded) == 5_000
    # All stored, each once, in the order they were recorded; every page agrees.
    assert [row.message_id for row in thread] == recorded
    newer = await store.messages_after("3000", thread[0], 5_000)
    assert [row.message_id for row in newer] == recorded[1:]
    around = await store.messages_around("3000", recorded[4_500], 9)
    assert [row.message_id for row in around] == recorded[4_496:4_505]
    chat = await store.chat("3000")
    assert chat is not None and chat.preview == f"mass offer {int(recorded[-1][1:])}"
    # A retry of the whole burst changes nothing.
    statuses = await post_all(url, deliveries[:300])
    assert set(statuses) == {200}
    assert [row.message_id for row in await whole_thread(store, "3000")] == recorded


async def test_a_full_millisecond_never_overtakes_the_next_one(tmp_path: Path) -> None:
    """Past one slot of positions, a millisecond's messages are placed after the slot, yet a
    message of the next millisecond that arrived before them is still shown after them."""
    second = datetime.fromtimestamp(SECOND, UTC)
    later = datetime.fromtimestamp(SECOND + 0.001, UTC)
    async with await Store.open(tmp_path / "cache.sqlite3") as store:
        first = [message_event(f"k{n}", message(f"m{n}", created=second)) for n in range(SLOT)]
        await asyncio.gather(*(store.apply_event(e) for e in first))
        await store.apply_event(message_event("next", message("m-next", created=later)))
        spilled = [
            message_event(f"k{n}", message(f"m{n}", created=second)) for n in range(SLOT, SLOT + 40)
        ]
        for event in spilled:  # one at a time: each takes the next free position
            assert await store.apply_event(event) is not None
        thread = await whole_thread(store, "c1", page=50)
        ids = [row.message_id for row in thread]
        assert ids == [f"m{n}" for n in range(SLOT + 40)] + ["m-next"]
        chat = await store.chat("c1")
        assert chat is not None and chat.last_activity == later
    # Reopened, the order is the same.
    async with await Store.open(tmp_path / "cache.sqlite3") as store:
        assert [row.message_id for row in await whole_thread(store, "c1")] == ids


async def test_a_v6_cache_keeps_its_order_and_takes_a_mass_message(tmp_path: Path) -> None:
    """Migration 6 → 7: the positions stay, the thread indexes become (chat, time); an old
    thread reads in the same order, and its full second then takes a mass message."""
    from console.store.schema import migrate

    path = tmp_path / "v6.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=6)
    base = SECOND * 1000 << POS_SHIFT
    conn.execute(
        "INSERT INTO accounts(account_id, name, updated_at) VALUES ('fansly_acc_1', '', 0)"
    )
    conn.execute(
        "INSERT INTO chats(chat_id, account_id, updated_at) VALUES ('c1', 'fansly_acc_1', 0)"
    )
    # The old program's rows: a whole slot of one second, and one a second earlier.
    conn.execute("BEGIN")
    conn.executemany(
        """INSERT INTO messages(pos, message_id, chat_id, account_id, sender_id, from_creator,
            text, created_at) VALUES (?, ?, 'c1', 'fansly_acc_1', '100', 0, 'old', ?)""",
        [(base - SLOT * 1000, "old-first", SECOND * 1000 - 1000)]
        + [(base + n, f"old{n}", SECOND * 1000) for n in range(SLOT)],
    )
    conn.execute("COMMIT")
    conn.close()
    async with await Store.open(path) as store:
        indexes = {
            row[0]: row[1]
            for row in await store.core._read(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages'"
            )
        }
        assert "created_at" in indexes["messages_chat"]
        before = [row.message_id for row in await whole_thread(store, "c1")]
        assert before == ["old-first"] + [f"old{n}" for n in range(SLOT)]
        second = datetime.fromtimestamp(SECOND, UTC)
        new = [message_event(f"k{n}", message(f"new{n}", created=second)) for n in range(100)]
        outcomes = await asyncio.gather(*(store.apply_event(e) for e in new))
        assert all(outcome is not None for outcome in outcomes)
        after = [row.message_id for row in await whole_thread(store, "c1")]
        assert after == before + [f"new{n}" for n in range(100)]
        chat = await store.chat("c1")
        assert chat is not None and chat.unread == 100 and chat.preview == "hello"
