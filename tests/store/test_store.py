"""The cache: idempotent upserts, the chat list, paging, fans, local data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.store import ACCOUNT, CREATOR, Like, account, at, chat, fan, message

from console.api.models import AutomatedMessage, Earnings, Subscription, TriggerType
from console.changes import ChatChanged, MessageAdded, MessageChanged
from console.store import ChatFilter, Store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with await Store.open(tmp_path / "cache.sqlite3") as opened:
        await opened.upsert_accounts([account()])
        yield opened


async def _count(store: Store, table: str) -> int:
    row = await store.core._read_one(f"SELECT COUNT(*) FROM {table}")
    return int(row[0])


async def test_resync_makes_no_duplicates(store: Store) -> None:
    page = [message(f"m{i}", sender="100" if i % 2 else CREATOR, minutes=i) for i in range(30)]
    first = await store.upsert_chats(ACCOUNT, [chat(last=page[-1], unread=3)])
    assert first == [ChatChanged(ACCOUNT, "c1")]
    updates = await store.upsert_messages(ACCOUNT, "c1", page)
    assert sum(isinstance(u, MessageAdded) for u in updates) == 29  # the last came with the chat
    again = await store.upsert_messages(ACCOUNT, "c1", page)
    await store.upsert_chats(ACCOUNT, [chat(last=page[-1], unread=3)])
    await store.upsert_accounts([account()])
    assert again == []
    assert await _count(store, "messages") == 30
    assert await _count(store, "chats") == 1
    assert await _count(store, "fans") == 1
    assert await _count(store, "accounts") == 1
    rows = await store.latest_messages("c1", 100)
    assert [r.message_id for r in rows] == [f"m{i}" for i in range(30)]
    assert [r.from_creator for r in rows[:2]] == [True, False]


async def test_newest_server_state_wins(store: Store) -> None:
    await store.upsert_messages(ACCOUNT, "c1", [message("m1", text="first")])
    liked = message("m1", text="edited", likes=[Like(user_id=CREATOR)], pinned=True)
    updates = await store.upsert_messages(ACCOUNT, "c1", [liked])
    assert MessageChanged(ACCOUNT, "c1", "m1") in updates
    (row,) = await store.latest_messages("c1")
    assert (row.text, row.pinned, row.liked_by_creator) == ("edited", True, True)
    assert await store.search("first") == []
    assert [h.message_id for h in await store.search("edited")] == ["m1"]


async def test_chat_row_has_what_the_list_shows(store: Store) -> None:
    last = message("m2", text="line one\nline\x1b[31m two\t\u202e", minutes=5)
    await store.upsert_chats(
        ACCOUNT,
        [
            chat(
                last=last,
                unread=2,
                display_name="[b]Ann[/b]",
                lists=["VIP"],
                subscription=Subscription(id="s", fan_id="100", status="active"),
            )
        ],
    )
    (row,) = await store.chats(ACCOUNT)
    assert row.fan_name == "[b]Ann[/b]" and row.fan_username == "fan100"
    assert row.preview == "line one line[31m two"
    assert row.unread == 2 and row.vip and row.subscriber
    assert row.last_activity == at(5) and row.waiting_since == at(5)
    assert not row.pinned and not row.muted and not row.last_from_creator


async def test_waiting_since_is_the_oldest_unanswered_fan_message(store: Store) -> None:
    msgs = [
        message("m1", minutes=1),
        message("m2", sender=CREATOR, minutes=2),
        message("m3", minutes=3),
        message("m4", minutes=4),
    ]
    await store.upsert_messages(ACCOUNT, "c1", msgs)
    assert (await store.chat("c1")).waiting_since == at(3)  # type: ignore[union-attr]
    await store.upsert_messages(ACCOUNT, "c1", [message("m5", sender=CREATOR, minutes=5)])
    row = await store.chat("c1")
    assert row is not None and row.waiting_since is None and row.last_from_creator


async def test_chat_list_order_filters_search_and_windows(store: Store) -> None:
    chats = [
        chat(
            f"c{i}",
            str(100 + i),
            last=message(f"m{i}", f"c{i}", sender=str(100 + i), minutes=i),
            unread=i % 3,
            display_name=f"Name {i}",
        )
        for i in range(20)
    ]
    await store.upsert_chats(ACCOUNT, chats)
    await store.local.set_chat_pinned("c3", True)
    ids = [row.chat_id for row in await store.chats(ACCOUNT, limit=100)]
    assert ids[0] == "c3"
    assert ids[1:] == [f"c{i}" for i in range(19, -1, -1) if i != 3]
    window = await store.chats(ACCOUNT, offset=5, limit=4)
    assert [r.chat_id for r in window] == ids[5:9]
    assert await store.count_chats(ACCOUNT) == 20
    unread = await store.chats(ACCOUNT, filter=ChatFilter.UNREAD, limit=100)
    assert {r.chat_id for r in unread} == {f"c{i}" for i in range(20) if i % 3}
    assert await store.count_chats(ACCOUNT, "unread") == len(unread)
    assert [r.chat_id for r in await store.chats(ACCOUNT, filter="pinned")] == ["c3"]
    found = await store.chats(ACCOUNT, search="name 1")
    assert {r.chat_id for r in found} == {"c1"} | {f"c{i}" for i in range(10, 20)}
    assert await store.count_chats(ACCOUNT, search="%") == 0
    assert await store.chats(ACCOUNT, filter="muted") == []
    assert await store.chat_index(ACCOUNT, "c19", ChatFilter.ALL) == 1


async def test_unread_counts_and_next_unread_across_accounts(store: Store) -> None:
    await store.upsert_accounts([account(), account("fansly_acc_2", "9001", "Two")])
    await store.upsert_chats(
        ACCOUNT,
        [
            chat("a", "1", unread=2, last=message("ma", "a", minutes=2)),
            chat("b", "2", unread=0, last=message("mb", "b", minutes=3)),
            chat("c", "3", unread=1, last=message("mc", "c", minutes=1)),
        ],
    )
    await store.upsert_chats("fansly_acc_2", [chat("d", "4", unread=4, account_id="fansly_acc_2")])
    assert await store.unread_counts() == {ACCOUNT: 3, "fansly_acc_2": 4}
    assert await store.next_unread_chat() == (ACCOUNT, "a")
    assert await store.next_unread_chat(ACCOUNT, "a") == (ACCOUNT, "c")
    assert await store.next_unread_chat(ACCOUNT, "c") == ("fansly_acc_2", "d")
    assert await store.next_unread_chat("fansly_acc_2", "d") == (ACCOUNT, "a")
    await store.local.mark_read("a")
    await store.local.mark_read("c")
    await store.local.mark_read("d")
    assert await store.next_unread_chat() is None
    assert await store.unread_counts() == {ACCOUNT: 0, "fansly_acc_2": 0}


async def test_paging_never_skips_or_repeats(store: Store) -> None:
    msgs = [message(f"m{i:03}", minutes=i // 3) for i in range(250)]  # three per minute
    for start in range(0, 250, 50):
        await store.upsert_messages(ACCOUNT, "c1", list(reversed(msgs[start : start + 50])))
    page = await store.latest_messages("c1", 50)
    seen = [r.message_id for r in page]
    while older := await store.messages_before("c1", page[0], 50):
        seen = [r.message_id for r in older] + seen
        page = older
    assert len(seen) == 250 and len(set(seen)) == 250
    assert [r.created_at for r in await store.latest_messages("c1", 250)] == sorted(
        m.created_at for m in msgs
    )
    first = await store.messages_after("c1", -1, 10)
    nxt = await store.messages_after("c1", first[-1], 10)
    assert len(first) == len(nxt) == 10 and first[-1].pos < nxt[0].pos
    around = await store.messages_around("c1", seen[100], 21)
    assert len(around) == 21 and around[10].message_id == seen[100]
    edge = await store.messages_around("c1", seen[0], 21)
    assert len(edge) == 21 and edge[0].message_id == seen[0]
    assert await store.messages_around("other", seen[0], 21) == []


async def test_reply_quote_and_attachments(store: Store) -> None:
    await store.upsert_messages(
        ACCOUNT,
        "c1",
        [
            message("m1", text="the original\nquestion", minutes=1),
            message(
                "m2",
                sender=CREATOR,
                text="",
                in_reply_to="m1",
                minutes=2,
                attachments=[{"content_id": "77", "content_type": 1}],
            ),
        ],
    )
    await store.upsert_messages(
        ACCOUNT, "c1", [message("m1", text="the original\nquestion", minutes=1, pinned=True)]
    )
    assert [r.message_id for r in await store.pinned_messages("c1")] == ["m1"]
    rows = await store.latest_messages("c1")
    assert rows[1].reply_to_id == "m1" and rows[1].reply_to_text == "the original question"
    assert rows[1].attachments[0].content_id == "77"
    assert (await store.chat("c1")).preview == "(attachment)"  # type: ignore[union-attr]


async def test_fan_profile_earnings_and_subscription_order(store: Store) -> None:
    newer = Subscription(id="s", fan_id="100", status="active", updated_at=at(10))
    older = Subscription(id="s", fan_id="100", status="expired", updated_at=at(5))
    await store.upsert_fan(ACCOUNT, fan(lists=["VIP", "Whales"], subscription=newer))
    await store.upsert_chats(ACCOUNT, [chat(subscription=older)])
    profile = await store.fan(ACCOUNT, "100")
    assert profile is not None and profile.subscription is not None
    assert profile.subscription.status == "active"
    assert profile.lists == ["VIP", "Whales"]  # a chat-list page carries no lists: kept
    history = [(at(2), 5000), (at(1), 1000)]
    await store.set_fan_earnings(
        ACCOUNT,
        "100",
        Earnings(fan_id="100", total_gross_millis=6000, tips_millis=5000, history=history),
    )
    profile = await store.fan(ACCOUNT, "100")
    assert profile is not None
    assert (profile.lifetime_spend_millis, profile.tips_millis) == (6000, 5000)
    assert profile.spend_history == sorted(history)
    assert (profile.last_purchase_at, profile.last_purchase_millis) == (at(2), 5000)
    assert await store.fan(ACCOUNT, "nobody") is None


async def test_notes_drafts_automations_backfill_gaps(store: Store) -> None:
    assert await store.local.get_note(ACCOUNT, "100") is None
    await store.local.set_note(ACCOUNT, "100", "likes cats; [i]never[/i] call before 9")
    note = await store.local.get_note(ACCOUNT, "100")
    assert note is not None and note.text.startswith("likes cats")
    await store.local.set_note(ACCOUNT, "100", "  ")
    assert await store.local.get_note(ACCOUNT, "100") is None

    await store.local.set_draft("c1", "half a thought")
    assert await store.local.get_draft("c1") == "half a thought"
    await store.local.set_draft("c1", "")
    assert await store.local.get_draft("c1") == ""

    rules = [
        AutomatedMessage(trigger_type=TriggerType.NEW_SUBSCRIBER, content="welcome!"),
        AutomatedMessage(
            trigger_type=TriggerType.SUBSCRIBER_RENEW, content="3 months!", subscription_streak=3
        ),
    ]
    await store.automations.replace(ACCOUNT, rules)
    assert await store.automations.rules(ACCOUNT) == rules
    await store.automations.replace(ACCOUNT, rules[1:])
    assert await store.automations.rules(ACCOUNT) == rules[1:]

    assert await store.sync_state.get_backfill(ACCOUNT) is None
    await store.sync_state.set_backfill(ACCOUNT, cursor="abc", done=False, fetched=25)
    await store.sync_state.set_backfill(ACCOUNT, "c1", cursor=None, done=True, fetched=30)
    state = await store.sync_state.get_backfill(ACCOUNT)
    assert state is not None and (state.cursor, state.done, state.fetched) == ("abc", False, 25)
    chat_state = await store.sync_state.get_backfill(ACCOUNT, "c1")
    assert chat_state is not None and chat_state.done and chat_state.chat_id == "c1"

    gap = await store.sync_state.record_gap(ACCOUNT, "c1", "m50", "m20")
    assert await store.sync_state.record_gap(ACCOUNT, "c1", "m50", "m10") == gap
    (found,) = await store.sync_state.gaps(chat_id="c1")
    assert (found.id, found.to_message_id) == (gap, "m10")
    await store.sync_state.clear_gap(gap)
    assert await store.sync_state.gaps(ACCOUNT) == []
