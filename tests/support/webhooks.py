"""Delivery samples for the webhook tests: every event of the three vocabularies (§16.0–16.2).

Kept in a ``test_`` module so it sits with the tests that own it; the checks below make sure
the samples themselves stay well-formed.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from console.events import Event, EventType, Provider
from console.serving import EmbeddedServer
from console.store import Store
from console.webhooks.hub import EventHub
from console.webhooks.intake import Outcome
from console.webhooks.signature import sign
from console.webhooks.worker import IngestWorker

#: Where the listener takes the gateway's deliveries (console.webhooks.app's default).
PATH = "/webhooks/fansly"


SECRET = "whsec_test_0123456789abcdef"
OLD_SECRET = "whsec_old_fedcba9876543210"
ACCOUNT = "fansly_acc_1001"
CREATOR = "300000000000000001"
FAN = "600000000000000042"
CHAT = "200000000000000007"

_counter = itertools.count(1)


def snowflake(prefix: int = 4) -> str:
    return f"{prefix}{next(_counter):017d}"


def message_object(
    *, message_id: str | None = None, sender: str = FAN, content: str = "hi there"
) -> dict[str, Any]:
    return {
        "id": message_id or snowflake(4),
        "type": 1,
        "content": content,
        "groupId": CHAT,
        "senderId": sender,
        "inReplyTo": None,
        "createdAt": 1_790_000_000,
        "attachments": [],
        "interactions": [{"userId": CREATOR if sender == FAN else FAN, "readAt": 0}],
        "likes": [],
        "totalTipAmount": 0,
    }


def tip_object() -> dict[str, Any]:
    return {
        "id": snowflake(9),
        "accountId": FAN,
        "receiverId": CREATOR,
        "amount": 25000,
        "message": "for you",
        "chatGroupId": CHAT,
        "createdAt": 1_790_000_000_000,
    }


def sale_object() -> dict[str, Any]:
    return {
        "orderId": snowflake(8),
        "accountMediaId": "700000000000000001",
        "accountId": FAN,
        "correlationAccountId": CREATOR,
        "chatGroupId": CHAT,
        "orderMetadata": {"accountMediaPrice": 12000},
        "createdAt": 1_790_000_000_000,
    }


def subscription_object(status: int = 3) -> dict[str, Any]:
    return {
        "id": snowflake(5),
        "subscriberId": FAN,
        "subscriptionTierId": "700000000000000009",
        "subscriptionTierName": "Gold",
        "status": status,
        "price": 9990,
        "renewPrice": 9990,
        "autoRenew": 1,
        "createdAt": 1_780_000_000_000,
        "updatedAt": 1_790_000_000_000,
        "renewDate": 1_792_000_000_000,
        "endsAt": 1_792_000_000_000,
    }


def reaction_object(action: str = "added") -> dict[str, Any]:
    return {
        "id": snowflake(6),
        "messageId": "400000000000000001",
        "groupId": CHAT,
        "accountId": FAN,
        "type": 5,
        "action": action,
        "createdAt": 1_790_000_000_000,
    }


@dataclass
class Delivery:
    """One webhook delivery: the exact bytes, headers, and what the listener should make of it."""

    name: str
    body: bytes
    headers: dict[str, str]
    type: EventType
    provider: Provider
    expect: dict[str, Any] = field(default_factory=dict)

    def signed(self, secret: str = SECRET, header: str = "X-Fansly-Signature") -> dict[str, str]:
        return {**self.headers, header: sign(secret, self.body)}


def encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def contract(name: str, data: dict[str, Any], key: str | None = None) -> bytes:
    """A §16.0 delivery body."""
    return encode(
        {
            "event": name,
            "idempotencyKey": key or f"evt_{snowflake(1)}",
            "accountId": ACCOUNT,
            "timestamp": "2026-09-22T12:00:00.000Z",
            "data": data,
        }
    )


def apifansly(name: str, data: dict[str, Any]) -> bytes:
    """A §16.1 delivery body (no key: derived from the subject)."""
    return encode(
        {"event": name, "accountId": ACCOUNT, "timestamp": "2026-09-22T12:00:00.000Z", "data": data}
    )


def ofapi(name: str, payload: dict[str, Any]) -> bytes:
    """A §16.2 delivery body (the key travels in a header)."""
    return encode({"event": name, "account_id": ACCOUNT, "payload": payload})


def all_deliveries() -> list[Delivery]:
    """One delivery of every event name the listener knows, in all three vocabularies."""
    json_headers = {"Content-Type": "application/json"}
    out: list[Delivery] = []
    fansly = Provider.FANSLY_API
    api = Provider.APIFANSLY
    of = Provider.ONLYFANSAPI

    def add(name: str, body: bytes, kind: EventType, provider: Provider, **expect: Any) -> None:
        headers = dict(json_headers)
        if provider is of:
            headers["X-OFAPI-Idempotency-Key"] = f"evt_{snowflake(2)}"
        out.append(Delivery(name, body, headers, kind, provider, expect))

    for name, body_of, provider in (
        ("message.received", contract, fansly),
        ("messages.received", apifansly, api),
        ("fansly.messages.received", ofapi, of),
    ):
        add(name, body_of(name, message_object()), EventType.MESSAGE_RECEIVED, provider, fan=FAN)
    for name, body_of, provider in (
        ("message.sent", contract, fansly),
        ("messages.sent", apifansly, api),
        ("fansly.messages.sent", ofapi, of),
    ):
        body = body_of(name, message_object(sender=CREATOR))
        add(name, body, EventType.MESSAGE_SENT, provider, fan=FAN)
    for name, body_of, provider in (
        ("tip.received", contract, fansly),
        ("tips.received", apifansly, api),
        ("fansly.tips.received", ofapi, of),
    ):
        add(name, body_of(name, tip_object()), EventType.TIP_RECEIVED, provider, amount=25000)
    for name, body_of, provider in (
        ("sale.completed", contract, fansly),
        ("ppv.purchased", apifansly, api),
        ("fansly.media.purchased", ofapi, of),
        ("fansly.stories.purchased", ofapi, of),
        ("fansly.transactions.new", ofapi, of),
    ):
        add(name, body_of(name, sale_object()), EventType.SALE_COMPLETED, provider, amount=12000)
    for name, body_of, provider, kind, status in (
        ("subscription.new", contract, fansly, EventType.SUBSCRIPTION_NEW, 3),
        ("subscription.renewed", contract, fansly, EventType.SUBSCRIPTION_RENEWED, 3),
        ("subscription.expired", contract, fansly, EventType.SUBSCRIPTION_EXPIRED, 4),
        ("subscriptions.new", apifansly, api, EventType.SUBSCRIPTION_NEW, 3),
        ("fansly.subscriptions.new", ofapi, of, EventType.SUBSCRIPTION_NEW, 3),
        ("fansly.subscriptions.expired", ofapi, of, EventType.SUBSCRIPTION_EXPIRED, 4),
    ):
        body = body_of(name, subscription_object(status))
        add(name, body, kind, provider, fan=FAN, status="active" if status == 3 else "expired")
    add(
        "chat.reaction",
        contract("chat.reaction", reaction_object("added")),
        EventType.CHAT_REACTION,
        fansly,
        added=True,
    )
    add(
        "chat.reaction",
        contract("chat.reaction", reaction_object("removed")),
        EventType.CHAT_REACTION,
        fansly,
        added=False,
    )
    add(
        "fansly.messages.reaction_added",
        ofapi("fansly.messages.reaction_added", reaction_object()),
        EventType.CHAT_REACTION,
        of,
        added=True,
    )
    add(
        "fansly.messages.reaction_removed",
        ofapi("fansly.messages.reaction_removed", reaction_object()),
        EventType.CHAT_REACTION,
        of,
        added=False,
    )
    return out


CAP = 64 * 1024


@dataclass
class Listener:
    client: httpx.AsyncClient
    store: Store
    hub: EventHub
    applied: asyncio.Condition

    async def post(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return await self.client.post(PATH, content=body, headers=headers)

    async def deliver(self, delivery: Delivery, secret: str = SECRET) -> httpx.Response:
        return await self.client.post(PATH, content=delivery.body, headers=delivery.signed(secret))

    async def events(self) -> list[Event]:
        """What the cache's event log holds, oldest first."""
        return list(await self.store.events_since(0, 10_000))

    async def until(self, condition: Callable[[], bool]) -> None:
        """Wait for what happens after the answer (hub fan-out, ``on_applied``)."""
        async with asyncio.timeout(5), self.applied:
            await self.applied.wait_for(condition)


class Swappable:
    """The module's one server writes to the cache the current test opened: through that
    store, or through an ingest worker started on its file."""

    store: Store | None = None
    worker: IngestWorker | None = None

    async def apply_event(self, event: Event) -> int | None:
        assert self.store is not None
        applied = await self.store.apply_event(event)
        return None if applied is None else applied.seq

    async def intake(self, body: bytes, headers: Mapping[str, str], want_event: bool) -> Outcome:
        assert self.worker is not None
        return await self.worker.intake(body, headers, want_event)


@dataclass
class Served:
    server: EmbeddedServer
    sink: Swappable
    hub: EventHub
    applied: asyncio.Condition
    worker: bool


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Fansly-Signature": sign(secret, body)}


def body_digest(body: bytes) -> str:
    """SHA-256 of a delivery's document in canonical JSON (what a key conflict logs)."""
    import hashlib

    canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def deliver_message(url: str, sandbox: Any, account_id: str, message: dict[str, Any]) -> None:
    """The gateway's signed ``message.received`` for a message of the sandbox's world, posted
    to a listener or a hub at ``url`` (its base URL)."""
    from console.sandbox.simulator import sign_delivery

    event = {
        "event": "message.received",
        "idempotencyKey": f"evt_test_{message['id']}",
        "accountId": account_id,
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "data": message,
    }
    body, headers = sign_delivery(event, sandbox.webhook_secret)
    async with httpx.AsyncClient() as client:
        answer = await client.post(url + PATH, content=body, headers=headers)
    assert answer.status_code == 200, answer.text


async def fan_writes(
    url: str, sandbox: Any, account_id: str, chat_id: str, content: str
) -> dict[str, Any]:
    """A fan writes in a chat: the sandbox's world stores the message and its signed webhook
    goes to ``url``. Returns the message."""
    creator = sandbox.world.accounts[account_id]
    chat = creator.chats[chat_id]
    message: dict[str, Any] = sandbox.world.add_message(
        creator, chat, sender_id=chat.fan_id, content=content
    )
    await deliver_message(url, sandbox, account_id, message)
    return message
