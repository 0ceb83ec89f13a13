"""The webhook listener over a real socket: real signed POSTs through httpx to uvicorn.

Every test that goes through the module's server runs twice: with the listener committing on
its own loop (as the TUI embeds it) and with the ingest worker process (as ``listen`` runs it).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from support.fakes_webhooks import MemoryEventLog
from support.webhooks import (
    ACCOUNT,
    CAP,
    CHAT,
    FAN,
    OLD_SECRET,
    PATH,
    SECRET,
    Delivery,
    Listener,
    Served,
    all_deliveries,
    body_digest,
    contract,
    encode,
    message_object,
    ofapi,
    signed,
    subscription_object,
)

from console.events import Event, EventType
from console.serving import EmbeddedServer
from console.webhooks.app import create_listener_app
from console.webhooks.signature import sign

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.mark.parametrize("delivery", all_deliveries(), ids=lambda d: d.name)
async def test_every_event_type_of_every_vocabulary(listener: Listener, delivery: Delivery) -> None:
    response = await listener.deliver(delivery)
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True, "duplicate": False, "seq": 1}
    [event] = await listener.events()
    assert event.type is delivery.type
    assert event.provider is delivery.provider
    assert event.name == delivery.name
    assert event.account_id == ACCOUNT
    assert event.idempotency_key
    assert event.occurred_at.tzinfo is not None
    if "fan" in delivery.expect:
        assert event.fan_id == delivery.expect["fan"]
    if "amount" in delivery.expect:
        assert event.amount_millis == delivery.expect["amount"]
    if delivery.type in (EventType.MESSAGE_RECEIVED, EventType.MESSAGE_SENT):
        assert event.message is not None
        assert event.message.chat_id == CHAT == event.chat_id
    if "status" in delivery.expect:
        assert event.subscription is not None
        assert event.subscription.status.value == delivery.expect["status"]
        assert event.subscription.price_millis == 9990
    if "added" in delivery.expect:
        assert event.reaction is not None
        assert event.reaction.added is delivery.expect["added"]
        assert event.reaction.message_id == "400000000000000001"


async def test_key_comes_from_body_then_header_then_subject(listener: Listener) -> None:
    body_key = contract("message.received", message_object(), key="evt_body")
    header_key = ofapi("fansly.messages.received", message_object(message_id="41"))
    derived = encode({"event": "messages.received", "accountId": ACCOUNT, "data": message_object()})
    await listener.post(body_key, {**signed(body_key), "X-Fansly-Idempotency-Key": "evt_other"})
    await listener.post(header_key, {**signed(header_key), "X-OFAPI-Idempotency-Key": "evt_hdr"})
    await listener.post(derived, signed(derived))
    keys = [event.idempotency_key for event in await listener.events()]
    assert keys[:2] == ["evt_body", "evt_hdr"]
    assert keys[2].startswith("sha256:") and len(keys[2]) == len("sha256:") + 64


@pytest.mark.parametrize(
    ("header", "prefix", "secret"),
    [
        ("X-Fansly-Signature", "", SECRET),
        ("Signature", "", SECRET),
        ("X-Fansly-Signature", "sha256=", SECRET),
        ("X-Webhook-Signature", "sha256=", SECRET),
        ("X-Fansly-Signature", "", OLD_SECRET),  # rotation: both secrets valid
    ],
)
async def test_accepted_signature_forms(
    listener: Listener, header: str, prefix: str, secret: str
) -> None:
    body = contract("message.received", message_object())
    headers = {"Content-Type": "application/json", header: prefix + sign(secret, body)}
    response = await listener.post(body, headers)
    assert response.status_code == 200
    assert len(await listener.events()) == 1


@pytest.mark.parametrize(
    ("make_headers", "reason"),
    [
        (lambda body: {"Content-Type": "application/json"}, "missing signature"),
        (lambda body: signed(body, "whsec_wrong"), "bad signature"),
        (lambda body: {"X-Fansly-Signature": "not-hex"}, "bad signature"),
        (lambda body: {"X-Fansly-Signature": ""}, "bad signature"),
        (lambda body: {"X-Fansly-Signature": sign(SECRET, body)[:-2]}, "bad signature"),
        (lambda body: {"X-Fansly-Signature": "é" * 64}, "bad signature"),
    ],
    ids=["missing", "wrong-secret", "not-hex", "empty", "truncated", "non-ascii"],
)
async def test_unsigned_or_badly_signed_is_refused(
    listener: Listener, make_headers: object, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "console.webhooks")
    body = contract("message.received", message_object())
    headers = make_headers(body)  # type: ignore[operator]
    response = await listener.client.post(
        PATH, content=body, headers={k: v.encode("utf-8") for k, v in headers.items()}
    )
    assert response.status_code == 401
    assert response.json()["error"] == reason
    assert await listener.events() == []
    assert SECRET not in caplog.text and SECRET not in response.text


async def test_signature_of_a_reserialised_body_fails(listener: Listener) -> None:
    document = json.loads(contract("message.received", message_object()))
    signature = sign(SECRET, encode(document))
    # The same JSON value, re-serialised: the signature covers bytes, not meaning.
    for variant in (json.dumps(document).encode(), json.dumps(document, indent=1).encode()):
        response = await listener.post(variant, {"X-Fansly-Signature": signature})
        assert response.status_code == 401
    assert await listener.events() == []


async def test_body_over_the_cap_is_413(listener: Listener) -> None:
    big = contract("message.received", message_object(content="x" * (CAP + 1)))
    response = await listener.post(big, signed(big))
    assert response.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:
        # No Content-Length: the cap holds on a streamed (chunked) body too.
        for _ in range(CAP // 1024 + 8):
            yield b" " * 1024

    response = await listener.client.post(PATH, content=chunks(), headers=signed(b"x"))
    assert response.status_code == 413
    assert await listener.events() == []
    health = await listener.client.get("/healthz")
    assert health.json() == {"ok": True}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b"  \n", "empty body"),
        (b'{"event": "message.received", "accountId": "a", "data": {"id"', "not valid JSON"),
        (b'{"event": "message.received", "accountId": "\xff\xfe"}', "not UTF-8"),
        (b'{"event": "message.received", "accountId": "\\ud800"}', "not valid JSON"),
        (b"[1, 2, 3]", "not a JSON object"),
        (b'{"accountId": "a", "data": {}}', "event: missing"),
        (b'{"event": 5, "accountId": "a", "data": {}}', "event: invalid"),
        (b'{"event": "message.received", "data": {}}', "account"),
        (b'{"event": "tip.received", "accountId": "a", "data": "tip"}', "data: invalid"),
        (b'{"event": "tip.received", "accountId": "a"}', "data is missing"),
        (
            b'{"event": "message.received", "accountId": "a", "data": '
            b'{"id": "1", "senderId": "2"}}',
            "data.groupId: missing",
        ),
        (
            b'{"event": "tip.received", "accountId": "a", "data": '
            b'{"id": "1", "accountId": "2", "amount": "lots"}}',
            "data.amount: invalid",
        ),
        (
            b'{"event": "message.received", "accountId": "a", "data": '
            b'{"id": true, "groupId": "1", "senderId": "2"}}',
            "data.id: invalid",
        ),
    ],
    ids=[
        "empty",
        "blank",
        "truncated-json",
        "invalid-utf8",
        "lone-surrogate",
        "array",
        "no-event",
        "event-not-string",
        "no-account",
        "data-not-object",
        "data-missing",
        "message-without-chat",
        "amount-not-number",
        "id-boolean",
    ],
)
async def test_malformed_bodies_are_400_with_a_reason(
    listener: Listener, body: bytes, reason: str
) -> None:
    response = await listener.post(body, signed(body))
    assert response.status_code == 400
    error = response.json()["error"]
    assert reason in error
    assert len(error) < 200
    assert await listener.events() == []


async def test_reason_never_echoes_the_input(listener: Listener) -> None:
    body = b'{"event": "tip.received", "accountId": "a", "data": {"id": "1", "accountId": "2", '
    body += b'"amount": "SECRET-LOOKING-VALUE"}}'
    response = await listener.post(body, signed(body))
    assert response.status_code == 400
    assert "SECRET-LOOKING-VALUE" not in response.text


async def test_ten_deliveries_of_one_key_have_one_effect(listener: Listener) -> None:
    body = contract("message.received", message_object(), key="evt_once")
    answers = [await listener.post(body, signed(body)) for _ in range(5)]
    answers += await asyncio.gather(*(listener.post(body, signed(body)) for _ in range(5)))
    assert all(answer.status_code == 200 for answer in answers)
    assert [answer.json()["duplicate"] for answer in answers].count(False) == 1
    assert len(await listener.events()) == 1
    await listener.until(lambda: listener.hub.published == 1)
    assert listener.hub.published == 1


async def test_a_reused_key_with_another_body_keeps_the_first_and_is_logged_once(
    listener: Listener, served: Served, caplog: pytest.LogCaptureFixture
) -> None:

    first = contract("message.received", message_object(content="the first"), key="evt_twice")
    other = contract("message.received", message_object(content="not the same"), key="evt_twice")
    caplog.set_level(logging.WARNING, logger="console.store")
    answers = [await listener.post(body, signed(body)) for body in (first, other, other, first)]
    assert [answer.status_code for answer in answers] == [200] * 4
    assert [answer.json()["duplicate"] for answer in answers] == [False, True, True, True]
    (kept,) = await listener.events()
    assert kept.message is not None and kept.message.content == "the first"
    if served.worker:
        return  # its log goes to the worker's stderr: test_ingest_worker.py reads it
    lines = [line for line in caplog.text.splitlines() if "different body" in line]
    assert len(lines) == 1, caplog.text
    assert body_digest(first) in lines[0] and body_digest(other) in lines[0]
    assert "evt_twice" in lines[0]


async def test_retry_without_any_key_is_still_one_effect(listener: Listener) -> None:
    body = encode(
        {"event": "ppv.purchased", "accountId": ACCOUNT, "data": {"orderId": "8", "accountId": FAN}}
    )
    for _ in range(3):
        assert (await listener.post(body, signed(body))).status_code == 200
    assert len(await listener.events()) == 1


async def test_out_of_order_events_are_all_recorded(listener: Listener) -> None:
    subscription = subscription_object()
    expired = {**subscription, "status": 4, "updatedAt": 1_795_000_000_000}
    later = message_object(content="second")
    later["createdAt"] = 1_790_000_100
    earlier = message_object(content="first")
    # Expiry before the subscription itself, the later message before the earlier one.
    for body in (
        contract("subscription.expired", expired),
        contract("message.received", later),
        contract("subscription.new", subscription),
        contract("message.received", earlier),
    ):
        assert (await listener.post(body, signed(body))).status_code == 200
    events = await listener.events()
    assert [event.type for event in events] == [
        EventType.SUBSCRIPTION_EXPIRED,
        EventType.MESSAGE_RECEIVED,
        EventType.SUBSCRIPTION_NEW,
        EventType.MESSAGE_RECEIVED,
    ]
    assert events[0].idempotency_key != events[2].idempotency_key
    # The cache applied them by their own times, not by arrival.
    thread = await listener.store.latest_messages(CHAT)
    assert [row.text for row in thread] == ["first", "second"]
    fan = await listener.store.fan(ACCOUNT, FAN)
    assert fan is not None and fan.subscription is not None
    assert fan.subscription.status.value == "expired"


async def test_unknown_event_is_recorded_not_shown(listener: Listener) -> None:
    body = ofapi("fansly.users.typing", {"userId": FAN, "groupId": CHAT})
    response = await listener.post(body, signed(body))
    assert response.status_code == 200
    known = contract("message.received", message_object())
    await listener.post(known, signed(known))
    # Only the known event reaches the hub.
    await listener.until(lambda: listener.hub.published == 1)
    [unknown, _] = await listener.events()
    assert unknown.type is EventType.UNKNOWN and unknown.name == "fansly.users.typing"


async def test_sink_failure_answers_503_so_the_gateway_retries() -> None:
    calls = 0

    async def failing(event: object) -> int | None:
        nonlocal calls
        calls += 1
        raise RuntimeError("disk full")

    app = create_listener_app(failing, secrets=[SECRET])
    async with EmbeddedServer(app) as server, httpx.AsyncClient(base_url=server.url) as client:
        body = contract("message.received", message_object())
        response = await client.post(PATH, content=body, headers=signed(body))
    assert response.status_code == 503
    assert calls == 1


async def test_insecure_mode_accepts_unsigned() -> None:
    log = MemoryEventLog()
    app = create_listener_app(log.apply_event, secrets=[], insecure_no_signature=True)
    async with EmbeddedServer(app) as server, httpx.AsyncClient(base_url=server.url) as client:
        body = contract("message.received", message_object())
        response = await client.post(PATH, content=body)
    assert response.status_code == 200
    assert len(log.events) == 1


async def test_a_secret_is_required_unless_insecure() -> None:
    with pytest.raises(ValueError, match="secret is required"):
        create_listener_app(MemoryEventLog().apply_event, secrets=[])


async def test_one_log_line_per_delivery_without_secrets(
    listener: Listener, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "console.webhooks")
    body = contract("message.received", message_object(), key="evt_logline_0123456789")
    await listener.post(body, signed(body))
    await listener.post(body, signed(body))
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("delivery")]
    assert len(lines) == 2
    assert "message.received" in lines[0] and "status=200" in lines[0] and "seq=1" in lines[0]
    assert "evt_logline_0123" in lines[0] and "evt_logline_0123456789" not in lines[0]
    assert "duplicate" in lines[1]
    assert SECRET not in caplog.text and OLD_SECRET not in caplog.text


async def test_mounted_listener_and_other_methods() -> None:
    # The delivery POST bypasses Starlette's router; mounted under a prefix it must still be
    # found, and the other methods on its path still get Starlette's 405.
    log = MemoryEventLog()
    inner = create_listener_app(log.apply_event, secrets=[SECRET])
    outer = Starlette(routes=[Mount("/gateway", app=inner)])
    async with EmbeddedServer(outer) as server, httpx.AsyncClient(base_url=server.url) as client:
        body = contract("message.received", message_object())
        response = await client.post("/gateway" + PATH, content=body, headers=signed(body))
        assert response.status_code == 200 and response.json()["seq"] == 1
        assert (await client.get("/gateway" + PATH)).status_code == 405
        assert (await client.post("/gateway/elsewhere", content=body)).status_code == 404
        assert (await client.get("/gateway/healthz")).json() == {"ok": True}
    assert len(log.events) == 1


async def test_no_answer_before_the_sink_has_committed() -> None:
    release = asyncio.Event()
    committed: list[str] = []

    async def slow(event: Event) -> int | None:
        await release.wait()
        committed.append(event.idempotency_key)
        return len(committed)

    app = create_listener_app(slow, secrets=[SECRET])
    async with EmbeddedServer(app) as server, httpx.AsyncClient(base_url=server.url) as client:
        body = contract("message.received", message_object(), key="evt_commit_first")
        post = asyncio.create_task(client.post(PATH, content=body, headers=signed(body)))
        done, _ = await asyncio.wait({post}, timeout=0.3)
        assert not done and committed == []  # no answer while the commit is pending
        release.set()
        response = await post
    assert response.status_code == 200 and committed == ["evt_commit_first"]
