"""The event log is pruned past its retention and the WAL truncated when the writer is idle;
seqs stay monotonic, and a console resuming from a pruned seq is told so and resumes.

Old events are made old by moving their ``received_at`` back (the clock of the test is not
moved): what is pruned depends only on that column and the retention.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

import httpx
import pytest
from support.hub import TOKEN, Console
from support.listen import wait_until
from support.webhooks import PATH, SECRET, contract, message_object

from console.serving import EmbeddedServer
from console.store import Store
from console.store._retention import DAY_MS
from console.webhooks.app import create_listener_app
from console.webhooks.hub import EventHub, HistoryPruned
from console.webhooks.remote import RemoteEvents
from console.webhooks.signature import sign
from console.webhooks.sinks import as_sink
from console.webhooks.worker import IngestWorker

pytestmark = pytest.mark.asyncio


def delivery(n: int) -> tuple[bytes, dict[str, str]]:
    body = contract("message.received", message_object(content=f"event {n}"), key=f"evt_ret_{n}")
    return body, {"X-Fansly-Signature": sign(SECRET, body)}


def age(path: Path, seqs: range, days: float) -> None:
    """Make the events ``seqs`` look received ``days`` ago."""
    old = time.time_ns() // 1_000_000 - int(days * DAY_MS)
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE event_log SET received_at = ? WHERE seq BETWEEN ? AND ?",
            (old, seqs.start, seqs.stop - 1),
        )


def seqs(path: Path) -> list[int]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return [row[0] for row in db.execute("SELECT seq FROM event_log ORDER BY seq")]


def wal_size(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


async def apply(store: Store, numbers: range) -> None:
    from console.webhooks.normalise import event_from_delivery

    for n in numbers:
        body, headers = delivery(n)
        assert await store.apply_event(event_from_delivery(body, headers)) is not None


async def test_maintenance_prunes_only_old_events_and_never_the_newest(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    async with await Store.open(path, event_retention_days=30) as store:
        await apply(store, range(1, 11))
        age(path, range(1, 6), days=31)
        age(path, range(6, 8), days=29)  # inside the retention: kept
        done = await store.maintain()
        assert done.pruned == 5
        assert seqs(path) == list(range(6, 11))
        assert await store.first_event_seq() == 6
        # Everything old, the newest included: the newest stays, so seqs never go back.
        age(path, range(6, 11), days=400)
        assert (await store.maintain()).pruned == 4
        assert seqs(path) == [10]
        await apply(store, range(11, 12))
        assert seqs(path) == [10, 11]
        assert await store.last_event_seq() == 11
        # A kept event's key still makes its retry a no-op.
        from console.webhooks.normalise import event_from_delivery

        assert await store.apply_event(event_from_delivery(*delivery(11))) is None


async def test_an_idle_store_prunes_and_truncates_the_wal_by_itself(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    async with await Store.open(path, event_retention_days=1) as store:
        store.core.idle_after = 0.05
        await apply(store, range(1, 301))
        age(path, range(1, 301), days=2)
        assert wal_size(path) > 0
        await apply(store, range(301, 302))  # a commit: idle maintenance is due after it
        await wait_until(lambda: seqs(path) == [301] and wal_size(path) == 0, 10)


async def test_a_busy_reader_defers_the_truncation_without_waiting(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    async with await Store.open(path) as store:
        await apply(store, range(1, 50))
        reader = sqlite3.connect(path, isolation_level=None)
        try:
            reader.execute("BEGIN")
            reader.execute("SELECT COUNT(*) FROM event_log").fetchone()
            await apply(store, range(50, 60))  # frames the reader's snapshot predates
            started = time.perf_counter()
            done = await store.maintain()
            assert not done.wal_truncated
            assert time.perf_counter() - started < 1.0  # gave up at once, blocked no writer
            reader.execute("COMMIT")
        finally:
            reader.close()
        assert (await store.maintain()).wal_truncated
        assert wal_size(path) == 0


async def test_the_ingest_worker_prunes_when_idle(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    async with await Store.open(path) as store:
        await apply(store, range(1, 21))
    age(path, range(1, 21), days=8)
    worker = await IngestWorker.open(path, event_retention_days=7)
    try:
        app = create_listener_app(intake=worker.intake, secrets=[SECRET])
        async with (
            EmbeddedServer(app) as server,
            httpx.AsyncClient(base_url=server.url, timeout=10) as client,
        ):
            body, headers = delivery(21)
            assert (await client.post(PATH, content=body, headers=headers)).json()["seq"] == 21
            # Idle after the delivery: the old events go, the WAL is reset.
            await wait_until(lambda: seqs(path) == [21] and wal_size(path) == 0, 10)
    finally:
        await worker.close()


async def test_a_console_resuming_from_a_pruned_seq_is_told_and_resumes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "cache.sqlite3"
    store = await Store.open(path)
    hub = EventHub(store, token=TOKEN)
    app = create_listener_app(as_sink(store.apply_event), secrets=[SECRET], hub=hub)
    try:
        await apply(store, range(1, 11))
        age(path, range(1, 6), days=31)
        assert (await store.maintain()).pruned == 5
        # In process: the stream refuses rather than skip 3-5 silently.
        with pytest.raises(HistoryPruned, match="events 3-5 were pruned"):
            async for _ in hub.stream(after=2):
                pass
        assert await hub.pruned_after(5) is None  # nothing it lacks was pruned
        async with EmbeddedServer(app) as server:
            url = server.url.replace("http://", "ws://") + "/events"
            # Over the websocket: closed with 4410 and the oldest seq kept; the console notes
            # the gap, says so, and resumes from there.
            console = Console()
            caplog.set_level(logging.WARNING, logger="console.webhooks.remote")
            async with RemoteEvents(url, console.on_event, token=TOKEN, after=2) as reader:
                await console.wait_for(5)
                assert console.seqs == [6, 7, 8, 9, 10]
                assert reader.missed == [(3, 5)]
            assert "no longer keeps events 3-5" in caplog.text
            # A console that saw up to 5 misses nothing: no gap, no warning.
            caplog.clear()
            console = Console()
            async with RemoteEvents(url, console.on_event, token=TOKEN, after=5) as reader:
                await console.wait_for(5)
                assert reader.missed == [] and console.seqs == [6, 7, 8, 9, 10]
            assert "no longer keeps" not in caplog.text
    finally:
        await store.close()
