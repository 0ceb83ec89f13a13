"""The generated world: deterministic, the promised sizes, Fansly units, hostile text."""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from console.sandbox.hostile import (
    HOSTILE_MESSAGE_CHATS,
    HOSTILE_NAME_CHATS,
    HOSTILE_STRINGS,
    HOSTILE_USERNAME_CHATS,
)
from console.sandbox.world import World, build_world


def digest(world: World) -> str:
    """A fingerprint of everything generated (accounts, fans, chats, messages, money)."""
    h = hashlib.sha256()
    for creator in world.accounts.values():
        h.update(json.dumps(creator.account, sort_keys=True).encode())
        for chat in creator.chat_order():
            h.update(json.dumps(creator.fans[chat.fan_id], sort_keys=True).encode())
            h.update(json.dumps(chat.messages, sort_keys=True).encode())
        h.update(json.dumps(creator.subscriptions, sort_keys=True).encode())
        h.update(json.dumps(creator.transactions, sort_keys=True).encode())
        h.update(json.dumps(sorted(map(sorted, creator.list_members.values()))).encode())
    return h.hexdigest()


def test_same_seed_same_world_other_seed_other_world() -> None:
    assert digest(build_world(7, "small")) == digest(build_world(7, "small"))
    assert digest(build_world(7, "small")) != digest(build_world(8, "small"))
    assert build_world(7, "small").reference_time == build_world(7, "default").reference_time
    assert build_world(7, "small").reference_time < time.time()


def test_small_and_default_sizes() -> None:
    small = build_world(3, "small")
    assert len(small.accounts) == 1 and small.chat_count == 40
    assert 1_300 <= small.message_count <= 1_700
    started = time.perf_counter()
    default = build_world(3, "default")
    elapsed = time.perf_counter() - started
    assert len(default.accounts) == 3
    assert all(len(a.chats) == 300 for a in default.accounts.values())
    assert 18_000 <= default.message_count <= 22_000
    assert elapsed < 5  # ~0.2 s here; a loose bound so a loaded CI box does not flake


@pytest.mark.slow
def test_large_size() -> None:
    large = build_world(3, "large")
    assert len(large.accounts) == 5
    assert all(len(a.chats) == 2_000 for a in large.accounts.values())
    assert 180_000 <= large.message_count <= 220_000


def test_units_ids_and_time_window() -> None:
    world = build_world(7, "small")
    creator = world.first_account()
    assert creator.account_id.startswith("fansly_acc_")
    ref = world.reference_time
    for chat in creator.chats.values():
        assert len(chat.id) == 18 and chat.id.isdigit()
        assert chat.message_ids == sorted(chat.message_ids)
        for message in chat.messages:
            assert len(message["id"]) == 18
            assert ref - 61 * 86_400 <= message["createdAt"] <= ref  # unix seconds
    for sub in creator.subscriptions.values():
        assert sub["createdAt"] > 10**12 and sub["renewDate"] > 10**12  # unix ms
        assert sub["price"] in {t["price"] for t in creator.tiers.values()}
        assert sub["status"] in (3, 4)
    assert {t["color"] for t in creator.tiers.values()} == {"#FF6F61", "#8E44AD", "#F1C40F"}


def test_realistic_features_present() -> None:
    world = build_world(7, "default")
    messages = [m for a in world.accounts.values() for c in a.chats.values() for m in c.messages]
    assert any(m["inReplyTo"] for m in messages)
    assert any(m["pinned"] for m in messages)
    assert any(m["likes"] for m in messages)
    assert any(m["attachments"] for m in messages)
    assert any(m["totalTipAmount"] for m in messages)
    assert any(len(m["content"]) > 250 for m in messages)
    assert any("?" in m["content"] for m in messages)
    assert any(not m["interactions"][0]["readAt"] for m in messages)
    for creator in world.accounts.values():
        assert {row["label"] for row in creator.lists.values()} >= {"VIP", "Big spenders"}
        assert creator.automated and creator.tips and creator.purchases
        statuses = {s["status"] for s in creator.subscriptions.values()}
        assert statuses == {3, 4}
        assert sum(1 for c in creator.chats.values() if c.unread_count) > 10


@pytest.mark.parametrize("size", ["small", "default"])
def test_hostile_text_in_every_size(size: str) -> None:
    world = build_world(7, size)
    creator = world.first_account()
    order = creator.chat_order()
    for n, index in enumerate(HOSTILE_NAME_CHATS):
        assert creator.fans[order[index].fan_id]["displayName"] == HOSTILE_STRINGS[n]
    for index, username in HOSTILE_USERNAME_CHATS.items():
        assert creator.fans[order[index].fan_id]["username"] == username
    for index in HOSTILE_MESSAGE_CHATS:
        contents = [m["content"] for m in order[index].messages]
        assert all(text in contents for text in HOSTILE_STRINGS)
    assert world.hostile_chat() is order[2]
    assert order[2].messages[-1]["content"] in HOSTILE_STRINGS
    for other in list(world.accounts.values())[1:]:
        assert other.fans[other.chat_order()[2].fan_id]["displayName"] in HOSTILE_STRINGS


def test_hostile_strings_cover_the_required_cases() -> None:
    required = ["[/]", "[0]", "[@click=app.quit]x[/]", "[red]red?", "\x1b[31mred\x1b[0m"]
    assert all(text in HOSTILE_STRINGS for text in required)
    assert any(t.startswith("[bold") and "]" not in t for t in HOSTILE_STRINGS)
    assert "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\" in HOSTILE_STRINGS
    assert "\u202eevil" in HOSTILE_STRINGS and "a\u200bb\u200d" in HOSTILE_STRINGS
    assert any(len(t) > 200 and " " not in t for t in HOSTILE_STRINGS)


def _ids(world: World) -> list[str]:
    """Every id a console caches: accounts, creators, fans, chats, messages, lists, tiers."""
    ids: list[str] = []
    for creator in world.accounts.values():
        ids += [creator.account_id, creator.native_id, *creator.tiers, *creator.lists]
        for chat in creator.chat_order():
            ids += [chat.id, chat.fan_id, *(m["id"] for m in chat.messages)]
        ids += [t["id"] for txs in creator.transactions.values() for t in txs]
        ids += list(creator.automated)
    return ids


def test_a_restarted_sandbox_keeps_every_id_whatever_its_start_time() -> None:
    # `fansly-console sandbox` and the demo anchor history to the minute they start; a
    # restart a minute (or a day) later must still be the same world, ids and all (issue 11):
    # the console's cache, its queued replies and its tab counts depend on them.
    first = build_world(7, "small", reference_time=1_796_000_000)
    later = build_world(7, "small", reference_time=1_796_000_000 + 86_400 + 60)
    assert _ids(first) == _ids(later)
    assert _ids(first) == _ids(build_world(7, "small"))

    # Only the times move: the history still ends at each start.
    def newest(world: World) -> int:
        return max(m["createdAt"] for c in world.first_account().chats.values() for m in c.messages)

    assert newest(later) - newest(first) == later.reference_time - first.reference_time
    # Live ids still sort after the generated ones (cursors rely on it).
    creator = later.first_account()
    chat = creator.chat_order()[0]
    sent = later.add_message(creator, chat, sender_id=creator.native_id, content="hi")
    assert int(sent["id"]) > max(chat.message_ids[:-1])


def test_agency_size_has_25_distinct_creators_and_some_whales() -> None:
    """Issue 16: the queue across accounts is tried on an agency's 25 accounts, with a few
    big spenders for its $$$ badge."""
    started = time.perf_counter()
    agency = build_world(7, "agency")
    assert time.perf_counter() - started < 10  # ~0.7 s here
    assert len(agency.accounts) == 25
    assert len({a.label for a in agency.accounts.values()}) == 25
    assert len({a.account["username"] for a in agency.accounts.values()}) == 25
    spend = [
        sum(t["totalGross"] for t in txs) / 1000
        for a in agency.accounts.values()
        for txs in a.transactions.values()
    ]
    assert sum(1 for s in spend if s >= 1000) >= 5
    # The other sizes are unchanged by it: the same seed gives the same default world.
    assert build_world(3, "small").chat_count == 40
