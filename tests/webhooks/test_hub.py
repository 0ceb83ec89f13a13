"""The event hub: in-process subscribers and remote consoles over the ``/events`` websocket.

The tests on the ``hub`` fixture run twice: events committed on the listener's loop (as the TUI
embeds it) and by the ingest worker process (as ``listen`` runs it).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import random
import socket
import tracemalloc
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from support.fakes_webhooks import MemoryEventLog
from support.hub import TOKEN, Console
from support.listen import wait_until
from support.webhooks import PATH, SECRET, contract, message_object
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from console.events import Event
from console.http_guard import GuardedWebSocketProtocol, Limits
from console.serving import EmbeddedServer
from console.store import Store
from console.webhooks.app import create_listener_app
from console.webhooks.hub import EventHub
from console.webhooks.normalise import event_from_delivery
from console.webhooks.remote import HubAuthError, RemoteEvents
from console.webhooks.signature import sign
from console.webhooks.sinks import as_sink
from console.webhooks.worker import IngestWorker


@dataclass
class Hub:
    store: Store
    hub: EventHub
    server: EmbeddedServer
    client: httpx.AsyncClient

    @property
    def ws_url(self) -> str:
        return self.server.url.replace("http://", "ws://") + "/events"

    async def deliver(self, text: str = "hi") -> int:
        body = contract("message.received", message_object(content=text))
        response = await self.client.post(
            PATH, content=body, headers={"X-Fansly-Signature": sign(SECRET, body)}
        )
        assert response.status_code == 200
        seq: int = response.json()["seq"]
        return seq


@pytest.fixture(params=["in-process", "worker"])
async def hub(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Hub]:
    store = await Store.open(tmp_path / "cache.sqlite3")
    event_hub = EventHub(store, token=TOKEN)
    worker = await IngestWorker.open(store.path) if request.param == "worker" else None
    if worker is not None:
        app = create_listener_app(intake=worker.intake, secrets=[SECRET], hub=event_hub)
    else:
        app = create_listener_app(as_sink(store.apply_event), secrets=[SECRET], hub=event_hub)
    try:
        async with (
            EmbeddedServer(app) as server,
            httpx.AsyncClient(base_url=server.url, timeout=10) as client,
        ):
            yield Hub(store, event_hub, server, client)
    finally:
        if worker is not None:
            await worker.close()
        await store.close()


async def test_in_process_subscriber_gets_each_applied_event(hub: Hub) -> None:
    async with hub.hub.subscribe() as queue:
        seqs = [await hub.deliver(f"m{i}") for i in range(3)]
        got = [await asyncio.wait_for(queue.get(), 5) for _ in seqs]
    assert [event.seq for event in got] == seqs == [1, 2, 3]
    assert got[0].message is not None and got[0].message.content == "m0"
    assert hub.hub.subscribers == 0


async def test_every_console_receives_every_event_once_in_order(hub: Hub) -> None:
    consoles = [Console() for _ in range(3)]
    readers = [RemoteEvents(hub.ws_url, c.on_event, token=TOKEN, after=0) for c in consoles]
    async with contextlib.AsyncExitStack() as stack:
        for reader in readers:
            await stack.enter_async_context(reader)
        await asyncio.gather(*(r.connected.wait() for r in readers))
        await asyncio.gather(*(hub.deliver(f"m{i}") for i in range(40)))
        for console in consoles:
            await console.wait_for(40)
    for console in consoles:
        assert console.seqs == list(range(1, 41))
    assert len({e.message.content for e in consoles[0].events if e.message}) == 40


async def test_resume_from_history_then_live_without_gap_or_duplicate(hub: Hub) -> None:
    for i in range(120):
        await hub.deliver(f"old{i}")
    console = Console()
    async with RemoteEvents(hub.ws_url, console.on_event, token=TOKEN, after=50) as reader:
        # Live deliveries race the history read: the switch-over must neither drop nor repeat.
        await asyncio.gather(*(hub.deliver(f"new{i}") for i in range(60)))
        await console.wait_for(130)
        assert reader.last_seq == 180
    assert console.seqs == list(range(51, 181))


async def test_console_without_after_starts_from_now(hub: Hub) -> None:
    await hub.deliver("before")
    console = Console()
    async with RemoteEvents(hub.ws_url, console.on_event, token=TOKEN) as reader:
        await reader.connected.wait()
        await hub.deliver("after")
        await console.wait_for(1)
    assert console.seqs == [2]


async def test_a_console_ahead_of_a_replaced_log_gets_all_of_it(hub: Hub) -> None:
    # A console remembers seq 500 from a hub whose cache was since replaced: this log holds 3.
    for i in range(3):
        await hub.deliver(f"new log {i}")
    console = Console()
    async with RemoteEvents(hub.ws_url, console.on_event, token=TOKEN, after=500):
        await console.wait_for(3)
        await hub.deliver("live")
        await console.wait_for(4)
    assert console.seqs == [1, 2, 3, 4]


async def test_console_resumes_after_the_hub_restarts(hub: Hub) -> None:
    console = Console()
    states: list[str] = []
    reader = RemoteEvents(
        hub.ws_url,
        console.on_event,
        token=TOKEN,
        after=0,
        on_state=lambda state, detail: states.append(state),
        min_backoff=0.05,
    )
    async with reader:
        await reader.connected.wait()
        await hub.deliver("one")
        await hub.deliver("two")
        await console.wait_for(2)
        port = hub.server.port
        await hub.server.stop()
        # Applied while no console is connected: must arrive on resume, once.
        for i in range(3):
            body = message_object(content=f"offline{i}")
            await hub.store.apply_event(event_from_delivery(contract("message.received", body)))
        app = create_listener_app(as_sink(hub.store.apply_event), secrets=[SECRET], hub=hub.hub)
        async with EmbeddedServer(app, port=port):
            await console.wait_for(5)
            assert reader.connections == 2
            assert states[0] == "live" and "reconnecting" in states and states[-1] == "live"
    assert console.seqs == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    "query_and_headers",
    [("", {}), ("?token=wrong", {}), ("", {"Authorization": "Bearer wrong"})],
    ids=["missing", "bad-query-token", "bad-bearer"],
)
async def test_bad_token_is_refused(
    hub: Hub, query_and_headers: tuple[str, dict[str, str]]
) -> None:
    query, headers = query_and_headers
    with pytest.raises(InvalidStatus) as refused:
        async with connect(hub.ws_url + query, additional_headers=headers):
            pass
    assert refused.value.response.status_code == 403
    assert hub.hub.subscribers == 0


async def test_remote_client_stops_on_a_refused_token(hub: Hub) -> None:
    reader = RemoteEvents(hub.ws_url, Console().on_event, token="wrong")
    with pytest.raises(HubAuthError):
        await asyncio.wait_for(reader.run(), 10)


async def test_token_in_query_or_bearer_is_accepted(hub: Hub) -> None:
    async with connect(f"{hub.ws_url}?token={TOKEN}&after=0") as ws:
        await hub.deliver("q")
        first = Event.model_validate_json(await asyncio.wait_for(ws.recv(), 5))
    async with connect(
        f"{hub.ws_url}?after=0", additional_headers={"Authorization": f"Bearer {TOKEN}"}
    ) as ws:
        again = Event.model_validate_json(await asyncio.wait_for(ws.recv(), 5))
    assert first.seq == again.seq == 1


def test_token_never_in_repr() -> None:
    event_hub = EventHub(MemoryEventLog(), token=TOKEN)
    reader = RemoteEvents(f"ws://127.0.0.1:1/events?token={TOKEN}", lambda event: None)
    assert TOKEN not in repr(event_hub) and TOKEN not in repr(reader)
    assert event_hub.check_token(TOKEN) and not event_hub.check_token("x")


@contextlib.asynccontextmanager
async def hub_with_history(
    tmp_path: Path, events: int, content_bytes: int, limits: Limits
) -> AsyncIterator[Hub]:
    """A hub whose log already holds ``events`` messages of ``content_bytes`` each."""
    store = await Store.open(tmp_path / "cache.sqlite3")
    for i in range(events):
        # Incompressible: the websocket compresses each message (permessage-deflate).
        noise = base64.b64encode(random.Random(i).randbytes(content_bytes)).decode()
        text = f"{i:06d} {noise[: content_bytes - 7]}"
        await store.apply_event(
            event_from_delivery(contract("message.received", message_object(content=text)))
        )
    event_hub = EventHub(store, token=TOKEN)
    app = create_listener_app(as_sink(store.apply_event), secrets=[SECRET], hub=event_hub)
    try:
        async with (
            EmbeddedServer(app, limits=limits) as server,
            httpx.AsyncClient(base_url=server.url, timeout=10) as client,
        ):
            yield Hub(store, event_hub, server, client)
    finally:
        await store.close()


def small_socket(hub: Hub) -> socket.socket:
    """A client socket with a small receive buffer: loopback's autotuning lets the kernel
    hold up to 32 MB for a peer that does not read, which a remote console's link would not."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.connect((hub.server.host, hub.server.port))
    return sock


def stalled_sockets(server: EmbeddedServer) -> int:
    """Websockets whose sends wait for the peer to read."""
    return sum(
        1
        for connection in server.server.server_state.connections
        if isinstance(connection, GuardedWebSocketProtocol) and not connection.writable.is_set()
    )


async def test_consoles_that_stop_reading_pin_one_page_not_the_history(tmp_path: Path) -> None:
    # 120 events of ~100 KB of JSON each (the content, and the raw delivery that repeats it).
    async with hub_with_history(tmp_path, 120, 50_000, Limits()) as hub:
        tracemalloc.start()
        try:
            async with contextlib.AsyncExitStack() as stack:
                for _ in range(4):
                    # Connected, never read: the client stops reading its socket once its own
                    # queue is full, then the kernel's buffers fill, then the hub's.
                    await stack.enter_async_context(
                        connect(
                            f"{hub.ws_url}?token={TOKEN}&after=0",
                            sock=small_socket(hub),
                            close_timeout=0.1,  # it will not read the hub's close either
                        )
                    )
                await wait_until(lambda: stalled_sockets(hub.server) >= 4, 20)
                _now, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    # Before: each console's stream held its page of up to 500 events (here all 12 MB of
    # history, twice over as rows and as objects): 66 MB for four, 15 MB after.
    # After: a page of ~1 MB per console, plus the clients' own queues (16 messages each).
    assert peak < 30 * 1024 * 1024, peak / 1e6


async def test_a_console_that_stops_reading_is_dropped_and_resumes_from_its_last_seq(
    tmp_path: Path,
) -> None:
    async with hub_with_history(tmp_path, 150, 50_000, Limits(ws_stall_timeout=0.5)) as hub:
        guard = hub.server.guard
        assert guard is not None
        console = Console()
        reading = asyncio.Event()

        async def on_event(event: Event) -> None:
            if event.seq == 1:
                await reading.wait()  # the console stops reading after its first event
            await console.on_event(event)

        reader = RemoteEvents(hub.ws_url, on_event, token=TOKEN, after=0, min_backoff=0.05)
        async with reader:
            await wait_until(lambda: guard.stats.stalled_websockets >= 1, 20)
            reading.set()
            await console.wait_for(150)
            live = await hub.deliver("live")
            await console.wait_for(151)
        assert reader.connections >= 2
    assert console.seqs == list(range(1, 152)) and live == 151
