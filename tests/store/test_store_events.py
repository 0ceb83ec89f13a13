"""Webhook events: applied once, in one transaction, in any order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.store import (
    ACCOUNT,
    CREATOR,
    account,
    at,
    chat,
    event,
    message,
    message_event,
    reaction_event,
    subscription_event,
)

from console.changes import ChatChanged, EventApplied, FanChanged, MessageAdded
from console.events import EventType
from console.store import Store
from console.store._writes import refresh_chat


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with await Store.open(tmp_path / "cache.sqlite3") as opened:
        await opened.upsert_accounts([account()])
        yield opened


async def test_a_message_event_is_applied_once(store: Store) -> None:
    ev = message_event("k1", message("m1", text="hi there", minutes=1))
    applied = await store.apply_event(ev)
    assert applied is not None and applied.seq == 1 and applied.event.seq == 1
    assert MessageAdded(ACCOUNT, "c1", "m1") in applied.updates
    assert ChatChanged(ACCOUNT, "c1") in applied.updates
    assert isinstance(applied.updates[-1], EventApplied)
    assert await store.apply_event(ev) is None
    # The same message under another key (a redelivery with a new key) adds nothing either.
    again = await store.apply_event(message_event("k1-bis", message("m1", text="hi there")))
    assert again is not None and again.updates[:-1] == []
    row = await store.chat("c1")
    assert row is not None and row.unread == 1 and row.preview == "hi there"
    assert row.waiting_since == at(1) and row.fan_id == "100"
    assert len(await store.latest_messages("c1")) == 1
    assert [e.idempotency_key for e in await store.events_since(0)] == ["k1", "k1-bis"]


async def test_an_older_message_does_not_replace_the_last_one(store: Store) -> None:
    await store.apply_event(message_event("k2", message("m2", text="newer", minutes=2)))
    await store.apply_event(message_event("k1", message("m1", text="older", minutes=1)))
    row = await store.chat("c1")
    assert row is not None
    assert (row.preview, row.last_activity, row.unread) == ("newer", at(2), 2)
    assert row.waiting_since == at(1)
    assert [r.message_id for r in await store.latest_messages("c1")] == ["m1", "m2"]


async def test_the_creator_answering_clears_unread_unless_older(store: Store) -> None:
    await store.apply_event(message_event("k1", message("m1", minutes=1)))
    await store.apply_event(message_event("k3", message("m3", minutes=3)))
    # An old creator message arriving late says nothing about m3.
    late = message("m0", sender=CREATOR, text="old reply", minutes=0)
    await store.apply_event(message_event("k0", late, sent=True))
    row = await store.chat("c1")
    assert row is not None and row.unread == 2 and row.waiting_since == at(1)
    answer = message("m4", sender=CREATOR, text="answer", minutes=4)
    await store.apply_event(message_event("k4", answer, sent=True))
    row = await store.chat("c1")
    assert row is not None and row.unread == 0 and row.waiting_since is None
    assert row.last_from_creator


async def test_subscription_events_out_of_order(store: Store) -> None:
    await store.upsert_chats(ACCOUNT, [chat()])
    new = await store.apply_event(subscription_event("s1", EventType.SUBSCRIPTION_NEW, "100", 1))
    assert new is not None and FanChanged(ACCOUNT, "100") in new.updates
    assert ChatChanged(ACCOUNT, "c1") in new.updates
    assert (await store.chat("c1")).subscriber  # type: ignore[union-attr]
    expired = subscription_event("s3", EventType.SUBSCRIPTION_EXPIRED, "100", 3)
    await store.apply_event(expired)
    late_renewal = subscription_event("s2", EventType.SUBSCRIPTION_RENEWED, "100", 2)
    applied = await store.apply_event(late_renewal)
    assert applied is not None and applied.updates[:-1] == []  # recorded, no effect
    fan = await store.fan(ACCOUNT, "100")
    assert fan is not None and fan.subscription is not None
    assert fan.subscription.status == "expired"
    assert not (await store.chat("c1")).subscriber  # type: ignore[union-attr]


async def test_tips_and_sales_add_up_once(store: Store) -> None:
    tip = event(
        EventType.TIP_RECEIVED, "t1", minutes=5, fan_id="100", chat_id="c1", amount_millis=20_000
    )
    sale = event(EventType.SALE_COMPLETED, "p1", minutes=2, fan_id="100", amount_millis=5_000)
    for ev in (tip, sale, tip, sale):
        await store.apply_event(ev)
    fan = await store.fan(ACCOUNT, "100")
    assert fan is not None
    assert (fan.lifetime_spend_millis, fan.tips_millis) == (25_000, 20_000)
    # The later purchase stays the last one although the sale was applied after it.
    assert (fan.last_purchase_at, fan.last_purchase_millis) == (at(5), 20_000)
    assert fan.spend_history == [(at(2), 5_000), (at(5), 20_000)]


async def test_reactions_land_on_the_message(store: Store) -> None:
    await store.upsert_messages(ACCOUNT, "c1", [message("m1", sender=CREATOR)])
    await store.apply_event(reaction_event("r1", "m1", "100"))
    (row,) = await store.latest_messages("c1")
    assert [(like.user_id, like.type) for like in row.likes] == [("100", 1)]
    await store.apply_event(reaction_event("r2", "m1", CREATOR))
    assert (await store.latest_messages("c1"))[0].liked_by_creator
    await store.apply_event(reaction_event("r3", "m1", "100", added=False))
    (row,) = await store.latest_messages("c1")
    assert [like.user_id for like in row.likes] == [CREATOR]
    # A reaction on a message not in the cache is only recorded.
    assert await store.apply_event(reaction_event("r4", "nope", "100")) is not None


async def test_a_like_removed_stays_removed_when_its_added_arrives_late(store: Store) -> None:
    await store.upsert_messages(ACCOUNT, "c1", [message("m1", sender=CREATOR)])

    async def likes() -> list[str | None]:
        (row,) = await store.latest_messages("c1")
        return [like.user_id for like in row.likes]

    # Liked at minute 1, unliked at minute 2; the unlike is delivered first.
    await store.apply_event(reaction_event("off", "m1", "100", added=False, minutes=2))
    await store.apply_event(reaction_event("on", "m1", "100", minutes=1))
    assert await likes() == []
    # A later like wins again, whatever came before.
    await store.apply_event(reaction_event("again", "m1", "100", minutes=3))
    assert await likes() == ["100"]
    # Another fan's reactions are ordered on their own.
    await store.apply_event(reaction_event("other", "m1", "200", minutes=0))
    assert sorted(await likes()) == ["100", "200"]


async def test_unknown_events_are_recorded_and_resumable(store: Store) -> None:
    odd = event(EventType.UNKNOWN, "u1", raw={"event": "payout.sent", "data": {"x": 1}})
    first = await store.apply_event(odd)
    assert first is not None and first.updates == [EventApplied(first.event)]
    for i in range(5):
        await store.apply_event(message_event(f"k{i}", message(f"m{i}", minutes=i)))
    assert await store.last_event_seq() == 6
    resumed = await store.events_since(2, limit=3)
    assert [e.seq for e in resumed] == [3, 4, 5]
    assert resumed[0].message is not None and resumed[0].message.id == "m1"
    assert (await store.events_since(0, 1))[0].raw == {"event": "payout.sent", "data": {"x": 1}}


async def test_events_for_an_unknown_account_or_chat_create_them(store: Store) -> None:
    ev = message_event("x1", message("m1", "new-chat", sender="555"))
    ev = ev.model_copy(update={"account_id": "fansly_acc_new"})
    assert await store.apply_event(ev) is not None
    assert "fansly_acc_new" in {a.account_id for a in await store.accounts()}
    (row,) = await store.chats("fansly_acc_new")
    assert (row.chat_id, row.fan_id, row.unread) == ("new-chat", "555", 1)


async def test_chat_summaries_match_a_full_recount_in_any_order(store: Store) -> None:
    """Live events take a shortcut for the chat summary; any order of new, old, duplicate, fan
    and creator messages must leave what a full recount from the messages gives."""
    import random

    rng = random.Random(7)
    events = []
    for n in range(120):
        chat_id = f"c{n % 4}"
        sent = rng.random() < 0.3
        sender = CREATOR if sent else f"10{n % 4}"
        msg = message(f"m{n}", chat_id, sender=sender, text=f"text {n}", minutes=n)
        events.append(message_event(f"k{n}", msg, sent=sent))
    rng.shuffle(events)
    events += rng.sample(events, 20)  # redeliveries
    columns = "last_message_id, last_message_at, last_preview, last_from_creator, waiting_since"
    sql = f"SELECT chat_id, {columns} FROM chats ORDER BY chat_id"
    unread: dict[str, int] = {}
    newest: dict[str, float] = {}
    seen: set[str] = set()
    for ev in events:
        await store.apply_event(ev)
        assert ev.message is not None and ev.chat_id is not None
        # After every event, not only at the end: a later full recount would hide a mistake.
        applied = await store.core._read(sql)
        chat_id = ev.chat_id
        await store.core._write(refresh_chat, chat_id)
        assert await store.core._read(sql) == applied, ev.idempotency_key
        if ev.message.id in seen:
            continue
        seen.add(ev.message.id)
        when = ev.message.created_at.timestamp()
        if ev.type is EventType.MESSAGE_SENT:
            if when > newest.get(ev.chat_id, -1):
                unread[ev.chat_id] = 0
        else:
            unread[ev.chat_id] = unread.get(ev.chat_id, 0) + 1
        newest[ev.chat_id] = max(newest.get(ev.chat_id, -1), when)

    for chat_id, count in unread.items():
        row = await store.chat(chat_id)
        assert row is not None and row.unread == count


def test_the_store_s_mirrored_enum_values_match_the_enums() -> None:
    # console.store compares by value to stay free of pydantic at import; the values must not
    # drift from the enums they mirror.
    from console.api.models import SubscriptionStatus
    from console.store import _events, _writes

    mirrored = {
        _events._MESSAGE_RECEIVED: EventType.MESSAGE_RECEIVED,
        _events._MESSAGE_SENT: EventType.MESSAGE_SENT,
        _events._TIP_RECEIVED: EventType.TIP_RECEIVED,
        _events._SALE_COMPLETED: EventType.SALE_COMPLETED,
        _events._CHAT_REACTION: EventType.CHAT_REACTION,
        _writes._ACTIVE: SubscriptionStatus.ACTIVE,
        _writes._UNKNOWN: SubscriptionStatus.UNKNOWN,
    }
    assert all(value == enum.value for value, enum in mirrored.items())
    for kind, status in _events._SUBSCRIPTION_STATUS.items():
        assert EventType(kind) and SubscriptionStatus(status)
