"""The ingest worker as a real process: what happens when it dies, stops, or cannot start.

The listener's behaviour through the worker (every event type, signatures, malformed bodies,
duplicates) is tested in ``test_webhooks.py``, which runs each test in both modes.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from support.webhooks import PATH, SECRET, contract, message_object

from console.serving import EmbeddedServer
from console.store import Store
from console.webhooks.app import create_listener_app
from console.webhooks.signature import sign
from console.webhooks.worker import IngestWorker, WorkerError

pytestmark = pytest.mark.asyncio


def delivery(n: int) -> tuple[bytes, dict[str, str]]:
    body = contract(
        "message.received",
        message_object(message_id=f"71000000000{n:05d}", content=f"message number {n}"),
        key=f"evt_worker_{n}",
    )
    return body, {"X-Fansly-Signature": sign(SECRET, body)}


@asynccontextmanager
async def served(worker: IngestWorker) -> AsyncIterator[httpx.AsyncClient]:
    app = create_listener_app(intake=worker.intake, secrets=[SECRET])
    async with (
        EmbeddedServer(app) as server,
        httpx.AsyncClient(base_url=server.url, timeout=20) as client,
    ):
        yield client


async def logged_keys(cache: Path) -> list[str]:
    async with await Store.open(cache) as store:
        return [event.idempotency_key for event in await store.events_since(0, 10_000)]


async def test_a_killed_worker_answers_503_and_the_retry_lands_once(tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite3"
    worker = await IngestWorker.open(cache)
    try:
        async with served(worker) as client:
            body, headers = delivery(1)
            assert (await client.post(PATH, content=body, headers=headers)).status_code == 200
            first = worker.pid
            assert first is not None
            # Frozen, the worker holds the next delivery in flight; killed, it never answers.
            os.kill(first, signal.SIGSTOP)
            body, headers = delivery(2)
            in_flight = asyncio.create_task(client.post(PATH, content=body, headers=headers))
            async with asyncio.timeout(10):
                while worker.in_flight == 0:  # noqa: ASYNC110 (a count, no event to wait on)
                    await asyncio.sleep(0.01)
            assert not in_flight.done()
            os.kill(first, signal.SIGKILL)
            refused = await in_flight
            assert refused.status_code == 503
            assert refused.json() == {"ok": False, "error": "could not store the event; retry"}
            # The gateway's retry starts a new worker and lands.
            retried = await client.post(PATH, content=body, headers=headers)
            assert retried.status_code == 200, retried.text
            assert worker.pid != first and worker.starts == 2
    finally:
        await worker.close()
    assert await logged_keys(cache) == ["evt_worker_1", "evt_worker_2"]


async def test_close_answers_and_keeps_every_delivery_in_flight(tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite3"
    worker = await IngestWorker.open(cache)
    bodies = [delivery(n) for n in range(300)]
    calls = [asyncio.create_task(worker.intake(body, headers)) for body, headers in bodies]
    await asyncio.sleep(0)  # every delivery is on its way to the worker
    assert worker.in_flight == 300
    await worker.close()
    outcomes = await asyncio.gather(*calls)
    assert {outcome.status for outcome in outcomes} == {200}
    assert sorted(outcome.seq or 0 for outcome in outcomes) == list(range(1, 301))
    assert worker.returncode == 0
    assert len(await logged_keys(cache)) == 300
    # Closed means closed: no new worker for a late delivery.
    late = await worker.intake(*delivery(301))
    assert late.status == 503 and worker.starts == 1


async def test_a_body_near_the_cap_crosses_in_pieces(tmp_path: Path) -> None:
    """A frame larger than one read of the worker's socket is reassembled, not cut."""
    text = "long message " * 70_000  # ~900 KB of text in one delivery
    body = contract("message.received", message_object(message_id="7100000000099999", content=text))
    worker = await IngestWorker.open(tmp_path / "cache.sqlite3")
    try:
        outcome = await worker.intake(body, {}, True)
    finally:
        await worker.close()
    assert outcome.status == 200
    assert outcome.event.message is not None and outcome.event.message.content == text


async def test_a_worker_that_cannot_start_is_not_respawned_per_delivery(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "cache.sqlite3"
    worker = await IngestWorker.open(cache)
    try:
        first = worker.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        assert await worker.wait() == -signal.SIGKILL
        cache.rename(tmp_path / "moved.sqlite3")
        cache.mkdir()  # the next worker cannot open it
        outcomes = [await worker.intake(*delivery(n)) for n in range(5)]
        assert [outcome.status for outcome in outcomes] == [503] * 5
        assert worker.starts == 2  # one failed attempt for the burst, not one per delivery
    finally:
        await worker.close()


async def test_the_worker_ends_when_its_listener_dies(tmp_path: Path) -> None:
    """The listener's end of the socket closed without a goodbye, as when it is SIGKILLed."""
    worker = await IngestWorker.open(tmp_path / "cache.sqlite3")
    pid = worker.pid
    assert pid is not None
    assert (await worker.intake(*delivery(1))).status == 200
    channel = worker._channel
    assert channel is not None and channel.transport is not None
    channel.transport.abort()
    async with asyncio.timeout(20):
        assert await worker.wait() == 0
    assert worker.pid == pid
    await worker.close()


async def test_a_worker_that_cannot_open_the_cache_is_a_clear_error(tmp_path: Path) -> None:
    not_a_file = tmp_path / "cache.sqlite3"
    not_a_file.mkdir()
    with pytest.raises(WorkerError, match="did not start"):
        await IngestWorker.open(not_a_file)


async def test_the_worker_refuses_a_bad_command_line() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "console.webhooks.worker", stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await process.communicate()
    assert process.returncode == 2 and b"usage" in stderr


async def test_a_reused_key_with_another_body_is_logged_once_by_the_worker(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from support.webhooks import body_digest

    first = contract("message.received", message_object(content="the first"), key="evt_twice")
    other = contract("message.received", message_object(content="not the same"), key="evt_twice")
    worker = await IngestWorker.open(tmp_path / "cache.sqlite3")  # its stderr is captured
    try:
        for body in (first, other, other, first):
            outcome = await worker.intake(body, {"X-Fansly-Signature": sign(SECRET, body)})
            assert outcome.status == 200
    finally:
        await worker.close()
    err = capfd.readouterr().err
    lines = [line for line in err.splitlines() if "different body" in line]
    assert len(lines) == 1, err
    assert body_digest(first) in lines[0] and body_digest(other) in lines[0]
