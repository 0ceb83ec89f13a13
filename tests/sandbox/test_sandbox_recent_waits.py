"""The seeded world reads as a live inbox: the chats waiting for an answer are recent (issue
16: the demo's queue showed "8w" at its top), and the world stays the same for a seed."""

from __future__ import annotations

import pytest

from console.sandbox.world import ANSWERED_AFTER, DAY, build_world


def _waiting(world: object) -> list[tuple[int, int]]:
    """(last fan message's time, unread count) of every chat the fan had the last word in."""
    return [
        (chat.messages[-1]["createdAt"], chat.unread_count)
        for creator in world.accounts.values()  # type: ignore[attr-defined]
        for chat in creator.chats.values()
        if chat.messages and chat.messages[-1]["senderId"] == chat.fan_id
    ]


@pytest.mark.parametrize("size", ["default", "agency"])
def test_waiting_chats_are_hours_old_at_most(size: str) -> None:
    world = build_world(7, size, reference_time=1_800_000_000)
    waiting = _waiting(world)
    assert waiting, "a live inbox has fans waiting"
    ages = [world.reference_time - at for at, _ in waiting]
    assert max(ages) <= ANSWERED_AFTER <= DAY
    assert min(ages) < 6 * 3600  # some wrote within hours


def test_older_chats_were_answered_and_read() -> None:
    world = build_world(7, "agency", reference_time=1_800_000_000)
    old = [
        chat
        for creator in world.accounts.values()
        for chat in creator.chats.values()
        if world.reference_time - chat.messages[-1]["createdAt"] > ANSWERED_AFTER
    ]
    assert old
    for chat in old:
        assert chat.messages[-1]["senderId"] != chat.fan_id
        assert chat.unread_count == 0
        times = [m["createdAt"] for m in chat.messages]
        assert times == sorted(times)
        ids = [int(m["id"]) for m in chat.messages]
        assert ids == sorted(ids)  # message cursors rely on id order within a chat


def test_the_same_seed_gives_the_same_waits() -> None:
    first = build_world(7, "agency", reference_time=1_800_000_000)
    again = build_world(7, "agency", reference_time=1_800_000_000)
    assert _waiting(first) == _waiting(again)
    assert [m["id"] for c in first.first_account().chat_order() for m in c.messages] == [
        m["id"] for c in again.first_account().chat_order() for m in c.messages
    ]


def test_a_waiting_chats_messages_since_the_answer_are_unread() -> None:
    """So the lean sync fetches the history of a chat with several, and the console's wait
    starts at the first of them, as the sandbox's does."""
    world = build_world(7, "agency", reference_time=1_800_000_000)
    waiting = 0
    for creator in world.accounts.values():
        for chat in creator.chats.values():
            tail = 0
            for message in reversed(chat.messages):
                if message["senderId"] != chat.fan_id:
                    break
                tail += 1
            if tail:
                waiting += 1
                assert chat.unread_count == tail
    assert waiting > 25
