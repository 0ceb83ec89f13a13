"""The reference's own JSON examples (tests/fixtures) parse into the domain models.

The client half is driven through httpx's MockTransport serving the recorded bodies, so the
envelope handling is exercised through the real request path, not called piecemeal.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from console.api import parse
from console.api.client import FanslyClient
from console.api.errors import ProviderError
from console.api.models import SubscriptionStatus, TriggerType
from console.api.routes import ROUTES, Standing

FIXTURES = Path(__file__).parents[1] / "fixtures"


def load(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def serve(
    bodies: dict[str, tuple[int, Any]],
) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["x-api-key"] == "k"
        status, body = bodies[request.url.path]
        return httpx.Response(status, json=body)

    return handler


def client_for(bodies: dict[str, tuple[int, Any]]) -> FanslyClient:
    transport = httpx.MockTransport(serve(bodies))
    return FanslyClient(
        "http://gateway.test/api/fansly", "k", transport=transport, retry_backoff=0.001
    )


def test_route_table_is_complete_and_consistent() -> None:
    assert len(ROUTES) == 29
    assert not ROUTES["send_message"].idempotent
    assert not ROUTES["create_automated"].idempotent
    assert all(r.idempotent for r in ROUTES.values() if r.method == "GET")
    assert not ROUTES["list_accounts"].nested
    assert ROUTES["get_chat"].standing is Standing.EMULATOR_ONLY
    assert ROUTES["list_lists"].standing is Standing.EMULATOR_ONLY
    assert ROUTES["me"].url(account_id="fansly_acc_1") == "/fansly_acc_1/me"
    # An id can never smuggle another path segment in.
    assert ROUTES["get_chat"].url(account_id="a", chat_id="../x") == "/a/chats/..%2Fx"
    with pytest.raises(ValueError, match="chat_id"):
        ROUTES["get_chat"].url(account_id="a")


def test_accounts_fixture() -> None:
    [account] = parse.accounts(load("accounts")["data"])
    assert account.account_id == "fansly_acc_XXXX"
    assert account.fansly_account_id == "300000000000000001"
    assert (account.name, account.username, account.country) == ("Dashboard label", "creator", "US")


def test_chats_fixture_joins_profiles_and_last_message() -> None:
    response = load("chats")["data"]["data"]["response"]
    [chat] = parse.chats(response, "fansly_acc_XXXX")
    assert chat.id == "200000000000000001"
    assert chat.account_id == "fansly_acc_XXXX"
    assert chat.fan.id == "300000000000000001"
    assert chat.fan.name == "Fan"
    assert chat.fan.avatar_url == "https://cdn3.fansly.com/..."
    assert chat.fan.created_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert chat.unread_count == 1
    assert chat.last_message is not None
    assert chat.last_message.content == "hey there"
    assert chat.last_message.created_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert chat.last_unread_message_id == "400000000000000001"


def test_chat_row_without_profile_falls_back_to_partner_username() -> None:
    response = {"data": [{"groupId": 2, "partnerAccountId": 3, "partnerUsername": "x"}]}
    [chat] = parse.chats(response, "acc")
    assert (chat.id, chat.fan.id, chat.fan.username) == ("2", "3", "x")


def test_messages_fixture() -> None:
    response = load("messages")["data"]["data"]["response"]
    items, cursor = parse.messages(response, "200000000000000001")
    [message] = items
    assert cursor == "400000000000000001"
    assert message.id == "400000000000000003"
    assert message.sender_id == "300000000000000001"
    assert message.created_at == datetime.fromtimestamp(1700000200, tz=UTC)
    assert message.attachments[0].content_id == "700000000000000001"
    assert message.read_at == datetime.fromtimestamp(1700000200, tz=UTC)
    assert message.in_reply_to is None


def test_send_response_fixture() -> None:
    message = parse.message(load("send_message")["data"]["data"]["response"])
    assert message.in_reply_to == "400000000000000003"
    assert message.created_at.microsecond == 123000
    assert message.read_at is None  # readAt 0 means unread


def test_subscribers_fixture_money_in_thousandths() -> None:
    [sub] = parse.subscriptions(load("subscribers")["data"]["data"]["response"])
    assert sub.fan_id == "600000000000000001"
    assert sub.status is SubscriptionStatus.ACTIVE
    assert sub.price_millis == 5000
    assert sub.auto_renew is True
    assert sub.renew_date == datetime.fromtimestamp(1780479709, tz=UTC)


def test_automated_message_fixture_and_lenient_parse() -> None:
    rule = parse.automated_message(load("automated_message"))
    assert rule.id == "900000000000000001"
    assert rule.trigger_type is TriggerType.NEW_SUBSCRIBER
    assert rule.content == "Welcome!"
    # A rule created elsewhere that breaks our create-time rules is still shown.
    odd = parse.automated_message(
        {"id": 1, "triggerType": "subscriber_renew", "messageTemplate": '{"content": "hi"}'}
    )
    assert (odd.id, odd.content, odd.subscription_streak) == ("1", "hi", None)


def test_earnings_combines_three_routes() -> None:
    earnings = parse.earnings(
        "f1",
        {"totalGross": 30000, "totalNet": 24000, "datapoints": []},
        [
            {"id": "1", "type": 1100, "totalGross": 5000, "createdAt": 1700000100000},
            {"id": "2", "type": 2110, "totalGross": 20000, "createdAt": 1700000000000},
            {"id": "3", "type": 3100, "totalGross": 5000, "createdAt": 1700000200000},
        ],
        {"totalTips": 5000, "tips": [{"id": "3", "amount": 5000}]},
    )
    assert earnings.total_gross_millis == 30000
    assert (earnings.subscriptions_millis, earnings.media_millis) == (5000, 20000)
    assert earnings.tips_millis == 5000
    assert [gross for _, gross in earnings.history] == [20000, 5000, 5000]


def test_bad_shapes_raise_provider_error() -> None:
    with pytest.raises(ProviderError, match="message"):
        parse.message({"id": "1"})
    with pytest.raises(ProviderError, match="chats"):
        parse.chats({"nope": []}, "acc")
    with pytest.raises(ProviderError):
        parse.accounts({"accounts": "x"})


@pytest.mark.parametrize(
    ("fixture", "event_type"),
    [
        ("webhook_message_received", "message.received"),
        ("webhook_ppv_purchased", "sale.completed"),
        ("webhook_tips_received", "tip.received"),
        ("webhook_subscriptions_new", "subscription.new"),
    ],
)
def test_webhook_fixtures_normalise(fixture: str, event_type: str) -> None:
    from console.webhooks.normalise import event_from_delivery

    event = event_from_delivery((FIXTURES / f"{fixture}.json").read_bytes())
    assert event.type == event_type
    assert event.account_id == "fansly_acc_XXXX"
    message = load(fixture)["data"]
    if event_type == "message.received":
        assert parse.message(message).id == event.message.id  # type: ignore[union-attr]
    if event_type == "subscription.new":
        assert parse.subscription(message).price_millis == 5000


async def test_client_unwraps_recorded_envelopes() -> None:
    async with client_for(
        {
            "/api/fansly/accounts": (200, load("accounts")),
            "/api/fansly/acc/chats": (200, load("chats")),
            "/api/fansly/acc/chats/200000000000000001/messages": (201, load("send_message")),
        }
    ) as client:
        [account] = await client.list_accounts()
        page = await client.chats_page("acc")
        sent = await client.send_message("acc", "200000000000000001", "unlock")
    assert account.account_id == "fansly_acc_XXXX"
    assert page.next_cursor == "4000000000000000001"
    assert page.items[0].fan.username == "fan"
    assert sent.id == "400000000000000099"


async def test_client_upstream_failure_and_missing_payload_are_errors() -> None:
    empty = load("envelope_nested")
    del empty["data"]["data"]["response"]
    async with client_for(
        {
            "/api/fansly/acc/chats": (200, load("envelope_upstream_failure")),
            "/api/fansly/acc/automated-messages": (200, empty),
            "/api/fansly/accounts": (200, load("envelope_outer") | {"data": None}),
        }
    ) as client:
        with pytest.raises(ProviderError) as failure:
            await client.chats_page("acc")
        with pytest.raises(ProviderError, match="no response"):
            await client.automated_messages("acc")
        with pytest.raises(ProviderError, match="no data"):
            await client.list_accounts()
    assert failure.value.message == "You cannot message this user"
    assert failure.value.status == 403
    assert failure.value.code == 1003
    assert "You cannot message this user" in str(failure.value)


async def test_client_400_surfaces_the_provider_message_and_never_the_key() -> None:
    from console.api.errors import InvalidRequestError

    secret = "sk_live_very_secret"
    body = load("envelope_error") | {"message": f"content is required (key {secret})"}
    transport = httpx.MockTransport(lambda request: httpx.Response(400, json=body))
    async with FanslyClient("http://gateway.test/api/fansly", secret, transport=transport) as c:
        with pytest.raises(InvalidRequestError) as caught:
            await c.send_message("acc", "chat", "hi")
        assert secret not in repr(c)
    text = f"{caught.value} {caught.value!r}"
    assert "content is required" in text
    assert secret not in text
