"""The queue across accounts (issue 16): order, badges, reminders, the "unanswered" filter;
a real SQLite file seeded through the store's own writes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from support.store import ACCOUNT, CREATOR, account, at, chat, message

from console.api.models import Subscription
from console.store import ChatFilter, Store
from console.store.queue import BadgeRules, QueueSort, badges

OTHER = "fansly_acc_2"
NOW = at(600)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with await Store.open(tmp_path / "cache.sqlite3") as opened:
        await opened.upsert_accounts([account(), account(OTHER, "9001", "Second")])
        yield opened


async def _seed(store: Store) -> None:
    """Four fans waiting across two accounts (waited 500, 300, 100, 50 minutes), one answered.

    fan 1 (acc 1): waited longest, spent $20, no subscription.
    fan 2 (acc 2): $300 lifetime, subscribed 2 days ago (new), tipped an hour ago.
    fan 3 (acc 1): $1,500, VIP, subscription ending in 2 days without auto-renewal.
    fan 4 (acc 2): newest, expired subscription.
    fan 5 (acc 1): answered: not in the queue.
    """
    subs = {
        "2": Subscription(id="s2", fan_id="2", status="active", created_at=NOW - timedelta(days=2)),
        "3": Subscription(
            id="s3",
            fan_id="3",
            status="active",
            created_at=NOW - timedelta(days=90),
            ends_at=NOW + timedelta(days=2),
            auto_renew=False,
        ),
        "4": Subscription(id="s4", fan_id="4", status="expired"),
    }
    spend = {"1": 20_000, "2": 300_000, "3": 1_500_000, "4": 0, "5": 5_000_000}
    waited = {"1": 500, "2": 300, "3": 100, "4": 50, "5": 10}
    for fan_id, minutes in waited.items():
        account_id = OTHER if fan_id in {"2", "4"} else ACCOUNT
        creator = "9001" if account_id == OTHER else CREATOR
        last = message(f"m{fan_id}", f"c{fan_id}", sender=fan_id, minutes=600 - minutes)
        extra = {
            "lifetime_spend_millis": spend[fan_id],
            "subscription": subs.get(fan_id),
            "lists": ["VIP"] if fan_id == "3" else [],
        }
        if fan_id == "2":
            extra["last_purchase_at"] = NOW - timedelta(hours=1)
        await store.upsert_chats(
            account_id, [chat(f"c{fan_id}", fan_id, last=last, account_id=account_id, **extra)]
        )
        await store.upsert_messages(account_id, f"c{fan_id}", [last])
        if fan_id == "5":
            answer = message("a5", "c5", sender=creator, minutes=600 - minutes + 1)
            await store.upsert_messages(account_id, "c5", [answer])


async def test_queue_is_longest_waiting_first_across_accounts(store: Store) -> None:
    await _seed(store)
    both = [ACCOUNT, OTHER]
    rows = await store.queue.window(both, now=NOW)
    assert [r.chat.chat_id for r in rows] == ["c1", "c2", "c3", "c4"]
    assert {r.chat.account_id for r in rows} == {ACCOUNT, OTHER}
    assert await store.queue.count(both, now=NOW) == 4
    by_spend = await store.queue.window(both, sort=QueueSort.SPEND, now=NOW)
    assert [r.chat.chat_id for r in by_spend] == ["c3", "c2", "c1", "c4"]
    newest = await store.queue.window(both, sort=QueueSort.NEWEST, now=NOW)
    assert [r.chat.chat_id for r in newest] == ["c4", "c3", "c2", "c1"]
    # Windows page through it; a hidden account is left out.
    assert [r.chat.chat_id for r in await store.queue.window(both, now=NOW, offset=1, limit=2)] == [
        "c2",
        "c3",
    ]
    assert [r.chat.chat_id for r in await store.queue.window([ACCOUNT], now=NOW)] == ["c1", "c3"]
    # The per-account list's "unanswered" filter is the same set, per account.
    unanswered = await store.chats(ACCOUNT, filter=ChatFilter.UNANSWERED)
    assert {r.chat_id for r in unanswered} == {"c1", "c3"}
    assert await store.count_chats(ACCOUNT, ChatFilter.UNANSWERED) == 2


async def test_badges_from_seeded_facts(store: Store) -> None:
    await _seed(store)
    rules = BadgeRules(spend_tiers=(50, 250, 1000))
    rows = {r.chat.chat_id: r.chat for r in await store.queue.window([ACCOUNT, OTHER], now=NOW)}
    words = {chat_id: badges(row, rules, NOW).words() for chat_id, row in rows.items()}
    assert words == {
        "c1": [],
        "c2": ["$$", "paid 24h", "new sub"],
        "c3": ["$$$", "VIP", "expiring"],
        "c4": ["expired"],
    }
    # Thresholds come from the config: a stricter agency sees fewer dollars.
    strict = BadgeRules(spend_tiers=(500, 1000, 5000))
    assert badges(rows["c3"], strict, NOW).tier == 2
    # A day later the purchase is old news and the subscriber is no longer new at 8 days.
    later = NOW + timedelta(days=6, hours=1)
    assert badges(rows["c2"], rules, later).words() == ["$$"]


async def test_a_reminder_hides_the_chat_until_due_then_puts_it_first(store: Store) -> None:
    await _seed(store)
    both = [ACCOUNT, OTHER]
    await store.queue.set_reminder(OTHER, "c4", NOW + timedelta(minutes=10))
    await store.queue.set_reminder(ACCOUNT, "c5", NOW + timedelta(minutes=20))  # answered, reminded
    assert [r.chat.chat_id for r in await store.queue.window(both, now=NOW)] == ["c1", "c2", "c3"]
    assert await store.queue.count(both, now=NOW) == 3
    due = await store.queue.window(both, now=NOW + timedelta(minutes=30))
    assert [(r.chat.chat_id, r.reminder_due is not None) for r in due] == [
        ("c4", True),
        ("c5", True),
        ("c1", False),
        ("c2", False),
        ("c3", False),
    ]
    assert [r.chat.chat_id for r in await store.queue.window(both, now=NOW, offset=2, limit=5)] == [
        "c3"
    ]
    assert await store.queue.next_reminder(both) == NOW + timedelta(minutes=10)
    assert await store.queue.clear_reminder("c4") is True
    assert await store.queue.clear_reminder("c4") is False
    assert [r.chat.chat_id for r in await store.queue.window(both, now=NOW)] == [
        "c1",
        "c2",
        "c3",
        "c4",
    ]
