"""The client against the sandbox over real HTTP: every route, paging, errors, faults, limits."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import AsyncIterator

import pytest
from support.api import UNLIMITED, Sandbox, start_sandbox

from console.api.client import FanslyClient
from console.api.errors import (
    AuthError,
    GatewayUnreachable,
    InsufficientCreditsError,
    InvalidRequestError,
    NotFoundError,
    ProviderError,
    RequestTimeout,
    ServerError,
)
from console.api.models import AutomatedMessage, SubscriptionStatus, TriggerType
from console.api.routes import ROUTES
from console.sandbox.gateway import SlidingWindow


@pytest.fixture
async def live() -> AsyncIterator[Sandbox]:
    """A fresh small-world sandbox served in the test's loop (its world is mutated)."""
    async for running in start_sandbox():
        yield running


def test_route_table_matches_the_sandbox() -> None:
    """Both sides follow docs/gateway-contract.md: same names, methods and paths."""
    import console.sandbox.routes
    import console.sandbox.vault_routes  # noqa: F401
    from console.sandbox.app import ROUTES as SANDBOX_ROUTES

    def shape(path: str) -> str:
        return re.sub(r"\{[^}]+\}", "{}", path)

    sandbox = {
        spec.name: (spec.method, shape(spec.path))
        for spec in SANDBOX_ROUTES
        if not spec.path.startswith("/_sandbox")
    }
    ours = {r.name: (r.method, shape(r.path)) for r in ROUTES.values()}
    assert ours == sandbox


async def test_accounts_me_and_profiles(live: Sandbox) -> None:
    creator = live.creator
    async with live.client() as client:
        [account] = await client.list_accounts()
        me = await client.me(account.account_id)
        fan_ids = list(creator.fans)[:3]
        fans = await client.accounts_by_ids(fan_ids)
    assert account.account_id == creator.account_id
    assert account.fansly_account_id == creator.native_id
    assert me.id == creator.native_id and me.username == creator.username
    assert [f.id for f in fans] == fan_ids
    assert client.rate.limit == UNLIMITED and client.rate.remaining is not None


async def test_chats_paginate_to_the_end(live: Sandbox) -> None:
    creator = live.creator
    acc = creator.account_id
    async with live.client() as client:
        chats = [chat async for chat in client.iter_chats(acc, limit=7)]
        unread = [chat async for chat in client.unread_chats(acc)]
        oldest = await client.chats_page(acc, sort="oldest", limit=3)
        one = await client.get_chat(acc, chats[0].id)
        sent_before = client.requests_sent
        searched = await client.chats_page(acc, search=chats[0].fan.username)
    assert len(chats) == len(creator.chats)
    assert len({c.id for c in chats}) == len(chats)
    assert [c.id for c in chats] == [c.id for c in creator.chat_order()]
    assert all(c.fan.username for c in chats)
    assert {c.id for c in unread} == {c.id for c in creator.chats.values() if c.unread_count}
    assert all(c.unread_count > 0 for c in unread)
    assert oldest.items[0].id == creator.chat_order()[-1].id
    assert oldest.next_cursor is not None
    assert one.id == chats[0].id and one.fan.id == chats[0].fan.id
    assert one.fan.username == chats[0].fan.username
    assert chats[0].id in {c.id for c in searched.items}
    assert client.requests_sent == sent_before + 1


async def test_messages_paginate_to_the_end_newest_first(live: Sandbox) -> None:
    creator = live.creator
    chat = max(creator.chats.values(), key=lambda c: len(c.messages))
    async with live.client() as client:
        history = [m async for m in client.iter_messages(creator.account_id, chat.id)]
        first = await client.messages_page(creator.account_id, chat.id, limit=50)
    assert len(history) == len(chat.messages) > 10
    assert [m.id for m in history] == [m["id"] for m in reversed(chat.messages)]
    assert len(first.items) == 10  # clamped to the gateway's maximum
    times = [m.created_at for m in history]
    assert times == sorted(times, reverse=True)
    assert all(m.chat_id == chat.id for m in history)


async def test_send_reply_like_pin_and_chat_actions(live: Sandbox) -> None:
    creator = live.creator
    acc = creator.account_id
    chat = creator.chat_order()[0]
    target = chat.messages[-1]["id"]
    async with live.client() as client:
        sent = await client.send_message(acc, chat.id, "thanks [b]you[/b]!", reply_to=target)
        await client.like_message(acc, target, type=5)
        liked = (await client.messages_page(acc, chat.id)).items
        await client.unlike_message(acc, target, type=5)
        assert await client.pin_message(acc, chat.id, target) is True
        pinned = (await client.messages_page(acc, chat.id)).items
        assert await client.unpin_message(acc, chat.id, target) is False
        await client.mute(acc, chat.fan_id)
        assert chat.fan_id in creator.muted
        await client.unmute(acc, chat.fan_id)
        await client.typing(acc, chat.id)
        await client.set_read_receipts(acc, chat.id, False)
        assert chat.read_receipts is False
        await client.set_read_receipts(acc, chat.id, True)
    assert sent.content == "thanks [b]you[/b]!"
    assert sent.in_reply_to == target and sent.sender_id == creator.native_id
    assert liked[0].id == sent.id
    by_id = {m.id: m for m in liked}
    assert any(like.type == 5 for like in by_id[target].likes)
    assert {m.id: m for m in pinned}[target].pinned
    assert chat.fan_id not in creator.muted
    assert chat.read_receipts is True
    assert not any(like.get("type") == 5 for like in chat.messages[-2].get("likes", []))


async def test_unsend_deletes_own_message_once_and_refuses_a_fans(live: Sandbox) -> None:
    creator = live.creator
    acc = creator.account_id
    chat = creator.chat_order()[0]
    fans = next(m["id"] for m in chat.messages if m["senderId"] != creator.native_id)
    async with live.client() as client:
        sent = await client.send_message(acc, chat.id, "oops, wrong chat")
        await client.unsend_message(acc, sent.id)
        await client.unsend_message(acc, sent.id)  # a repeat (lost answer) is not an error
        latest = (await client.messages_page(acc, chat.id)).items
        with pytest.raises(AuthError) as refused:
            await client.unsend_message(acc, fans)
    assert sent.id not in {m.id for m in latest}
    assert live.gateway.world.message(creator, sent.id) is None
    assert refused.value.status == 403
    assert live.gateway.world.message(creator, fans) is not None


async def test_subscribers_earnings_and_lists(live: Sandbox) -> None:
    creator = live.creator
    acc = creator.account_id
    async with live.client() as client:
        everyone = [s async for s in client.iter_subscribers(acc, limit=5)]
        active = [s async for s in client.iter_subscribers(acc, status="active")]
        payer = max(creator.transactions, key=lambda f: len(creator.transactions[f]))
        earnings = await client.fan_earnings(acc, payer)
        lists = await client.lists(acc)
        target = lists[0]
        await client.add_to_list(acc, payer, target.id)
        mine = await client.lists(acc, fan_id=payer)
        await client.remove_from_list(acc, payer, target.id)
        after = await client.lists(acc, fan_id=payer)
    assert len(everyone) == len(creator.subscriptions)
    assert all(s.status is SubscriptionStatus.ACTIVE for s in active)
    assert 0 < len(active) <= len(everyone)
    txs = creator.transactions[payer]
    assert earnings.total_gross_millis == sum(tx["totalGross"] for tx in txs)
    assert (
        earnings.tips_millis + earnings.subscriptions_millis + earnings.media_millis
        == earnings.total_gross_millis
    )
    assert len(earnings.history) == len(txs)
    assert target.id in {fan_list.id for fan_list in mine}
    assert target.id not in {fan_list.id for fan_list in after}


async def test_automated_messages_round_trip(live: Sandbox) -> None:
    acc = live.creator.account_id
    rule = AutomatedMessage(
        trigger_type=TriggerType.SUBSCRIBER_RENEW, content="3 months! 💙", subscription_streak=3
    )
    async with live.client() as client:
        created = await client.create_automated_message(acc, rule)
        listed = await client.automated_messages(acc)
        await client.delete_automated_message(acc, created.id or "")
        remaining = await client.automated_messages(acc)
        with pytest.raises(NotFoundError):
            await client.delete_automated_message(acc, created.id or "")
        rule.subscription_streak = None  # broken after construction: refused before sending
        sent = client.requests_sent
        with pytest.raises(InvalidRequestError, match="streak"):
            await client.create_automated_message(acc, rule)
        assert client.requests_sent == sent
    assert created.id and created.subscription_streak == 3 and created.content == "3 months! 💙"
    assert created.id in {r.id for r in listed}
    assert created.id not in {r.id for r in remaining}


async def test_wrong_key_is_an_auth_error_without_the_key(live: Sandbox) -> None:
    wrong = "sk_wrong_" + secrets.token_hex(6)
    async with FanslyClient(live.base_url, wrong) as client:
        with pytest.raises(AuthError) as caught:
            await client.list_accounts()
    assert caught.value.status == 401
    assert "refused the API key (401)" in str(caught.value)
    assert caught.value.attempts == 1  # a 401 is not retried
    assert wrong not in f"{caught.value} {caught.value!r} {client!r} {client.budget!r}"


async def test_not_found_and_bad_request(live: Sandbox) -> None:
    acc = live.creator.account_id
    async with live.client() as client:
        with pytest.raises(NotFoundError):
            await client.messages_page("fansly_acc_nobody", "1")
        with pytest.raises(NotFoundError):
            await client.messages_page(acc, "999")
        with pytest.raises(InvalidRequestError) as caught:
            await client.chats_page(acc, filter="bogus")  # type: ignore[arg-type]
    assert caught.value.status == 400
    assert "filter must be one of" in caught.value.message
    assert "filter must be one of" in str(caught.value)


async def test_credits_exhausted_is_402() -> None:
    async for sandbox in start_sandbox(credits=2):
        async with sandbox.client() as client:
            await client.list_accounts()
            await client.list_accounts()
            with pytest.raises(InsufficientCreditsError) as caught:
                await client.list_accounts()
        assert caught.value.status == 402
        assert "credits" in str(caught.value)


async def test_429_waits_for_retry_after_then_succeeds() -> None:
    async for sandbox in start_sandbox(requests_per_minute=2):
        # A one-second window instead of a minute keeps the test short; the rules are the same.
        sandbox.gateway.window = SlidingWindow(2, window=1.0)
        creator = sandbox.creator
        chat = creator.chat_order()[0]
        before = len(chat.messages)
        async with sandbox.client() as client:
            client.budget.window = 1.0
            started = time.monotonic()
            sends = [
                client.send_message(creator.account_id, chat.id, f"burst {n}") for n in range(3)
            ]
            reads = [client.list_accounts() for _ in range(2)]
            results = await asyncio.gather(*sends, *reads)
            elapsed = time.monotonic() - started
        assert sandbox.gateway.usage.rate_limited >= 1
        assert elapsed >= 0.9  # the gateway's Retry-After (1 s) was honoured
        assert client.budget.limit == 2  # learnt from X-RateLimit-Limit
        # 429 means "not applied": the sends were retried, and each landed exactly once.
        contents = [m["content"] for m in chat.messages[before:]]
        assert sorted(contents) == ["burst 0", "burst 1", "burst 2"]
        assert len(results) == 5


async def test_local_budget_spaces_requests_without_a_429() -> None:
    async for sandbox in start_sandbox(requests_per_minute=3):
        sandbox.gateway.window = SlidingWindow(3, window=0.5)
        async with sandbox.client(requests_per_minute=3) as client:
            # The client's margin (2% + 10 ms) is sized for a minute; scaled up for a short
            # window so a loaded CI machine's request latency cannot outrun it.
            client.budget.window = 0.6
            started = time.monotonic()
            for _ in range(6):
                await client.list_accounts()
            elapsed = time.monotonic() - started
        assert sandbox.gateway.usage.rate_limited == 0
        assert elapsed >= 0.45
        assert client.budget.waited > 0


async def test_budget_is_shared_per_key_and_never_holds_the_key(live: Sandbox) -> None:
    a, b = live.client(), live.client()
    other = FanslyClient(live.base_url, live.api_key + "x")
    assert a.budget is b.budget
    assert other.budget is not a.budget
    assert live.api_key not in repr(a.budget) + repr(a) + repr(vars(a.budget))


async def test_5xx_is_retried_for_reads_only(live: Sandbox) -> None:
    creator = live.creator
    chat = creator.chat_order()[0]
    before = len(chat.messages)
    await live.faults({"route": "list_chats", "status": 500})
    async with live.client() as client:
        page = await client.chats_page(creator.account_id)
        assert client.requests_sent == 2
        await live.faults({"route": "send_message", "status": 500})
        with pytest.raises(ServerError) as caught:
            await client.send_message(creator.account_id, chat.id, "only once")
        assert caught.value.attempts == 1
        # The chatter sends it again by hand: exactly one copy exists.
        await client.send_message(creator.account_id, chat.id, "only once")
        newest = await client.messages_page(creator.account_id, chat.id)
    assert page.items
    assert [m.content for m in newest.items].count("only once") == 1
    assert len(chat.messages) == before + 1


async def test_send_timeout_reports_an_unknown_outcome(live: Sandbox) -> None:
    creator = live.creator
    chat = creator.chat_order()[0]
    await live.faults({"route": "send_message", "delay_after_apply": 1.0})
    async with live.client(timeout=0.25) as client:
        with pytest.raises(RequestTimeout) as caught:
            await client.send_message(creator.account_id, chat.id, "did it go?")
        assert caught.value.outcome_unknown
        assert client.requests_sent == 1  # never resent blindly
        await live.faults({"route": "list_chats", "delay_before": 1.0})
        page = await client.chats_page(creator.account_id)  # a read is simply retried
        newest = await client.messages_page(creator.account_id, chat.id)
    assert "may or may not" in str(caught.value)
    assert page.items
    assert [m.content for m in newest.items].count("did it go?") == 1


async def test_provider_failure_inside_a_2xx(live: Sandbox) -> None:
    await live.faults({"route": "list_chats", "provider_failure": True})
    async with live.client() as client:
        with pytest.raises(ProviderError) as caught:
            await client.chats_page(live.creator.account_id)
    assert caught.value.message
    assert "Fansly returned an error" in str(caught.value)


async def test_unreachable_gateway_is_safe_and_clear() -> None:
    from console.serving import bind

    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    client = FanslyClient(
        f"http://127.0.0.1:{port}/api/fansly", "k", max_retries=1, retry_backoff=0.01
    )
    async with client:
        with pytest.raises(GatewayUnreachable) as caught:
            await client.send_message("acc", "chat", "hello")
    assert caught.value.attempts == 2  # nothing was sent, so even a send may be retried
    assert "nothing was sent" in str(caught.value)
