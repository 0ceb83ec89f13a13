"""One listener app per mode (in-process, ingest worker) for a whole module, each test on its own
SQLite cache: starting uvicorn per test would cost more than the tests themselves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from support.webhooks import CAP, OLD_SECRET, SECRET, Listener, Served, Swappable

from console.events import Event
from console.serving import EmbeddedServer
from console.store import Store
from console.webhooks.app import create_listener_app
from console.webhooks.hub import EventHub
from console.webhooks.worker import IngestWorker


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["in-process", "worker"])
async def served(request: pytest.FixtureRequest) -> AsyncIterator[Served]:
    # One server per mode for the whole module: starting and stopping uvicorn per test would
    # cost more than the tests themselves. Each test still gets its own SQLite cache.
    sink = Swappable()
    hub = EventHub(token="hub-token-for-tests")
    applied = asyncio.Condition()

    async def notify(event: Event) -> None:
        async with applied:
            applied.notify_all()

    where = {"intake": sink.intake} if request.param == "worker" else {"sink": sink.apply_event}
    app = create_listener_app(
        **where,  # type: ignore[arg-type]
        secrets=[SECRET, OLD_SECRET],
        hub=hub,
        max_body_bytes=CAP,
        on_applied=notify,
    )
    async with EmbeddedServer(app) as server:
        yield Served(server, sink, hub, applied, worker=request.param == "worker")


@pytest_asyncio.fixture(loop_scope="module")
async def listener(served: Served, tmp_path: Path) -> AsyncIterator[Listener]:
    store = await Store.open(tmp_path / "cache.sqlite3")
    served.sink.store = store
    if served.worker:
        served.sink.worker = await IngestWorker.open(store.path)
    served.hub.published = 0
    try:
        async with httpx.AsyncClient(base_url=served.server.url, timeout=10) as client:
            yield Listener(client, store, served.hub, served.applied)
    finally:
        served.sink.store = None
        if served.sink.worker is not None:
            await served.sink.worker.close()
            served.sink.worker = None
        await store.close()
