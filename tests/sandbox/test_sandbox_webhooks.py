"""The simulator's signed webhooks, delivered to a tiny real receiver over HTTP."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from console.sandbox.server import SandboxServer
from console.sandbox.simulator import EVENT_KINDS, make_event, sign_delivery
from console.serving import EmbeddedServer


@dataclass
class Receiver:
    """Records every POST; answers 500 to the first ``fail_first`` attempts of each key."""

    fail_first: int = 0
    always_fail: bool = False
    attempts: dict[str, list[tuple[bytes, dict[str, str]]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    order: list[str] = field(default_factory=list)

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            body = await request.body()
            key = request.headers["x-fansly-idempotency-key"]
            self.attempts[key].append((body, dict(request.headers)))
            if self.always_fail or len(self.attempts[key]) <= self.fail_first:
                return Response(status_code=500)
            self.order.append(key)
            return Response(status_code=204)

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    rec = Receiver()
    async with EmbeddedServer(rec.app()) as server:
        yield rec, f"{server.url}/hook"


def _expect_signed(secret: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["x-fansly-signature"] == expected
    assert headers["content-type"] == "application/json"
    event = json.loads(body)
    assert headers["x-fansly-idempotency-key"] == event["idempotencyKey"]
    return dict(event)


async def _simulate(sandbox: SandboxServer, count: int, kinds: list[str] | None = None) -> Any:
    async with httpx.AsyncClient(base_url=sandbox.url, headers=sandbox.headers) as client:
        response = await client.post("/_sandbox/simulate", json={"count": count, "kinds": kinds})
    assert response.status_code == 201, response.text
    return response.json()["data"]


async def test_every_event_kind_is_signed_and_shaped(
    sandbox_async: SandboxServer, receiver: tuple[Receiver, str]
) -> None:
    rec, url = receiver
    sandbox_async.simulator.webhook_url = url
    creator = sandbox_async.world.first_account()
    emitted = await _simulate(sandbox_async, 70)
    async with asyncio.timeout(20):
        await sandbox_async.simulator.drain()
    # The seeded automated messages answer some of them (a welcome, a thank-you for a tip).
    automated = sandbox_async.simulator.automated_sent
    assert automated > 0
    assert len(rec.order) == 70 + automated == sandbox_async.simulator.delivered
    seen: set[str] = set()
    for key in rec.order:
        ((body, headers),) = rec.attempts[key]
        event = _expect_signed(sandbox_async.webhook_secret, body, headers)
        assert event["accountId"] == creator.account_id
        assert event["timestamp"].endswith("Z")
        data, name = event["data"], event["event"]
        seen.add(name)
        if name == "message.received":
            message = sandbox_async.world.message(creator, data["id"])
            assert message is not None and message["senderId"] != creator.native_id
            assert data["createdAt"] < 10**10  # seconds
        elif name == "tip.received":
            assert data["receiverId"] == creator.native_id and data["amount"] >= 1000
            assert data["createdAt"] > 10**12  # milliseconds
        elif name == "sale.completed":
            assert data["correlationAccountId"] == creator.native_id
            assert data["orderMetadata"]["accountMediaPrice"] > 0
            assert (data["accountId"], data["accountMediaId"]) in creator.purchases
        elif name.startswith("subscription."):
            assert data["subscriberId"] in creator.fans
            assert data["status"] == (4 if name == "subscription.expired" else 3)
            assert data["renewDate"] > 10**12 and data["price"] in (5000, 14990, 29990)
        elif name == "chat.reaction":
            assert data["action"] in ("added", "removed") and 1 <= data["type"] <= 7
        elif name == "message.sent":
            assert data["senderId"] == creator.native_id
    assert seen == set(EVENT_KINDS) | {"message.sent"}
    fans = [e for e in sandbox_async.simulator.events if e["event"] != "message.sent"]
    assert [e["idempotencyKey"] for e in emitted["events"]] == [
        e["idempotencyKey"] for e in fans[-70:]
    ]


async def test_sending_a_message_emits_message_sent(
    sandbox_async: SandboxServer, receiver: tuple[Receiver, str]
) -> None:
    rec, url = receiver
    sandbox_async.simulator.webhook_url = url
    creator = sandbox_async.world.first_account()
    chat = creator.chat_order()[0]
    async with httpx.AsyncClient(base_url=sandbox_async.base_url) as client:
        response = await client.post(
            f"/{creator.account_id}/chats/{chat.id}/messages",
            json={"content": "on my way"},
            headers=sandbox_async.headers,
        )
    sent = response.json()["data"]["data"]["response"]
    async with asyncio.timeout(10):
        await sandbox_async.simulator.drain()
    ((body, headers),) = rec.attempts[rec.order[0]]
    event = _expect_signed(sandbox_async.webhook_secret, body, headers)
    assert event["event"] == "message.sent" and event["data"]["id"] == sent["id"]


async def test_retries_with_the_same_key_and_bytes(
    sandbox_async: SandboxServer, receiver: tuple[Receiver, str]
) -> None:
    rec, url = receiver
    rec.fail_first = 2
    simulator = sandbox_async.simulator
    simulator.webhook_url = url
    simulator.backoff_base = 0.01
    await _simulate(sandbox_async, 10, ["message.received"])
    async with asyncio.timeout(20):
        await simulator.drain()
    assert simulator.delivered == 10 and simulator.retried == 20 and simulator.pending == 0
    for attempts in rec.attempts.values():
        assert len(attempts) == 3
        bodies = {body for body, _ in attempts}
        signatures = {headers["x-fansly-signature"] for _, headers in attempts}
        assert len(bodies) == 1 and len(signatures) == 1


async def test_gives_up_after_max_attempts_and_keeps_going(
    sandbox_async: SandboxServer, receiver: tuple[Receiver, str]
) -> None:
    rec, url = receiver
    rec.always_fail = True
    simulator = sandbox_async.simulator
    simulator.webhook_url = url
    simulator.backoff_base = 0.005
    simulator.max_attempts = 3
    await _simulate(sandbox_async, 4)
    async with asyncio.timeout(20):
        await simulator.drain()
    assert simulator.failed == 4 and simulator.pending == 0
    assert all(len(a) == 3 for a in rec.attempts.values())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_listener_down_then_up_everything_arrives(sandbox_async: SandboxServer) -> None:
    """Like a listener killed mid-burst and restarted: retries deliver everything, once."""
    port = _free_port()
    simulator = sandbox_async.simulator
    simulator.webhook_url = f"http://127.0.0.1:{port}/hook"
    simulator.backoff_base = 0.05
    simulator.backoff_cap = 0.3
    await _simulate(sandbox_async, 300)
    async with asyncio.timeout(10):  # every event has failed at least once
        await simulator.wait_for(lambda sim: sim.retried >= 300)
    rec = Receiver()
    async with EmbeddedServer(rec.app(), port=port):
        async with asyncio.timeout(30):
            await simulator.drain()
    total = 300 + simulator.automated_sent  # the seeded rules answer some events
    assert simulator.delivered == total and simulator.failed == 0
    assert len(rec.order) == len(set(rec.order)) == total


async def test_duplicate_and_out_of_order_knobs(
    sandbox_async: SandboxServer, receiver: tuple[Receiver, str]
) -> None:
    rec, url = receiver
    simulator = sandbox_async.simulator
    simulator.webhook_url = url
    async with httpx.AsyncClient(base_url=sandbox_async.url, headers=sandbox_async.headers) as c:
        knobs = {"webhook_duplicate_rate": 1.0, "webhook_out_of_order_rate": 1.0}
        response = await c.post("/_sandbox/faults", json=knobs)
    assert response.status_code == 200
    emitted = await _simulate(sandbox_async, 30, ["message.received"])
    async with asyncio.timeout(20):
        await simulator.drain()
    keys = [e["idempotencyKey"] for e in emitted["events"]]
    assert sorted(rec.order) == sorted(keys * 2)  # each delivered twice, same key
    first_seen = list(dict.fromkeys(rec.order))
    assert first_seen != keys  # and not in emission order
    assert simulator.duplicates == 30


async def test_burst_of_1000_is_delivered_quickly(
    sandbox_async: SandboxServer, receiver: tuple[Receiver, str]
) -> None:
    rec, url = receiver
    simulator = sandbox_async.simulator
    simulator.webhook_url = url
    loop = asyncio.get_running_loop()
    started = loop.time()
    await _simulate(sandbox_async, 1000, ["message.received", "tip.received"])
    async with asyncio.timeout(60):
        await simulator.drain()
    elapsed = loop.time() - started
    assert len(rec.order) == 1000 + simulator.automated_sent
    assert elapsed < 30, elapsed


def test_sign_delivery_is_reusable() -> None:
    event = make_event("tip.received", "fansly_acc_x", {"id": "1", "amount": 5000}, key="evt_1")
    body, headers = sign_delivery(event, "s3cret")
    assert json.loads(body) == event
    assert headers["X-Fansly-Idempotency-Key"] == "evt_1"
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-Fansly-Signature"] == expected


def test_simulate_from_another_thread_and_wait(sandbox: SandboxServer) -> None:
    events = sandbox.simulator.simulate(5, ["chat.reaction"])
    assert [e["event"] for e in events] == ["chat.reaction"] * 5
    assert sandbox.simulator.wait_delivered(5) is True  # no URL: nothing pending
    assert sandbox.simulator.counters()["emitted"] == 5


async def test_webhook_target_and_rate_can_change_while_running(
    sandbox_async: SandboxServer, receiver: tuple[Receiver, str]
) -> None:
    rec, url = receiver
    async with httpx.AsyncClient(base_url=sandbox_async.url, headers=sandbox_async.headers) as c:
        response = await c.post("/_sandbox/webhook", json={"url": url, "rate_per_minute": 6000})
        assert response.json()["data"] == {"url": url, "rate_per_minute": 6000.0}
        async with asyncio.timeout(10):  # ~100 events a second from the fans' own clock
            await sandbox_async.simulator.wait_for(lambda sim: sim.delivered >= 5)
        await c.post("/_sandbox/webhook", json={"rate_per_minute": 0})
        bad = await c.post("/_sandbox/webhook", json={"url": "ftp://x"})
        assert bad.status_code == 400
    assert len(rec.order) >= 5


async def test_a_new_fan_writes_and_a_new_chat_is_listed(sandbox_async: SandboxServer) -> None:
    simulator = sandbox_async.simulator
    simulator.new_fan_rate = 1.0
    creator = sandbox_async.world.first_account()
    (event,) = (await _simulate(sandbox_async, 1, ["message.received"]))["events"]
    assert len(creator.chats) == 41
    newest = creator.chat_order()[0]
    assert newest.messages[-1]["id"] == simulator.events[-1]["data"]["id"]
    async with httpx.AsyncClient(base_url=sandbox_async.base_url) as client:
        response = await client.get(
            f"/{creator.account_id}/chats", params={"limit": 1}, headers=sandbox_async.headers
        )
    row = response.json()["data"]["data"]["response"]["data"][0]
    assert row["groupId"] == newest.id and row["unreadCount"] == 1
    assert event["event"] == "message.received"
