"""The outbox: state machine, optimistic effects, reconciliation without duplicates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.store import ACCOUNT, CREATOR, account, at, chat, message, message_event

from console.store import MessageState, OutboxKind, OutboxNotFound, OutboxState, Store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with await Store.open(tmp_path / "cache.sqlite3") as opened:
        await opened.upsert_accounts([account()])
        await opened.upsert_chats(ACCOUNT, [chat(last=message("m1", minutes=1), unread=1)])
        yield opened


async def _ids(store: Store) -> list[tuple[str | None, str | None, MessageState]]:
    return [(r.message_id, r.client_id, r.state) for r in await store.latest_messages("c1")]


async def test_send_shows_a_pending_message_then_the_server_one(store: Store) -> None:
    item = await store.outbox.add(ACCOUNT, "c1", OutboxKind.SEND, {"content": "on my way"}, "cl-1")
    assert (item.state, item.attempts, item.kind) == (OutboxState.QUEUED, 0, OutboxKind.SEND)
    assert await _ids(store) == [("m1", None, "sent"), (None, "cl-1", "pending")]
    pending = (await store.latest_messages("c1"))[-1]
    assert pending.key == "cl-1" and pending.from_creator and pending.sender_id == CREATOR
    assert (await store.chat("c1")).waiting_since is None  # type: ignore[union-attr]
    assert await store.outbox.counts(ACCOUNT) == (1, 0)
    assert [i.client_id for i in await store.outbox.due(ACCOUNT)] == ["cl-1"]

    flying = await store.outbox.mark_in_flight("cl-1")
    assert (flying.state, flying.attempts) == (OutboxState.IN_FLIGHT, 1)
    assert await store.outbox.due(ACCOUNT) == []
    server = message("m9", sender=CREATOR, text="on my way", minutes=9)
    sent = await store.outbox.mark_sent("cl-1", server)
    assert sent.state is OutboxState.SENT
    assert await _ids(store) == [("m1", None, "sent"), ("m9", "cl-1", "sent")]
    assert (await store.latest_messages("c1"))[-1].created_at == at(9)
    assert await store.outbox.counts(ACCOUNT) == (0, 0)
    # The webhook copy and a re-sync come later: still one message.
    await store.apply_event(message_event("w9", server, sent=True))
    await store.upsert_messages(ACCOUNT, "c1", [server], creator_id=CREATOR)
    assert len(await store.latest_messages("c1")) == 2


async def test_the_webhook_copy_arriving_first_is_merged(store: Store) -> None:
    await store.outbox.add(ACCOUNT, "c1", "send", {"content": "race"}, "cl-2")
    await store.outbox.mark_in_flight("cl-2")
    server = message("m10", sender=CREATOR, text="race", created=datetime.now(UTC))
    applied = await store.apply_event(message_event("w10", server, sent=True))
    assert applied is not None
    assert await _ids(store) == [("m1", None, "sent"), ("m10", "cl-2", "sent")]
    # The outbox learnt it went through (this reconciles an 'unknown' send too).
    assert (await store.outbox.item("cl-2")).state is OutboxState.SENT  # type: ignore[union-attr]
    await store.outbox.mark_sent("cl-2", server)
    assert len(await store.latest_messages("c1")) == 2


async def test_an_older_server_message_with_the_same_text_is_not_taken_for_the_send(
    store: Store,
) -> None:
    # A backfill page brings last week's "ok" while today's "ok" is in flight: two messages,
    # and the send is still to be confirmed (it must not be marked sent and never go out).
    await store.outbox.add(ACCOUNT, "c1", "send", {"content": "ok"}, "cl-old")
    await store.outbox.mark_in_flight("cl-old")
    old = message("m-old", sender=CREATOR, text="ok", created=datetime.now(UTC) - timedelta(days=7))
    await store.upsert_messages(ACCOUNT, "c1", [old], creator_id=CREATOR)
    assert ("m-old", None, "sent") in await _ids(store)
    assert (None, "cl-old", "pending") in await _ids(store)
    assert (await store.outbox.item("cl-old")).state is OutboxState.IN_FLIGHT  # type: ignore[union-attr]


async def test_a_webhook_copy_that_was_not_merged_is_deduplicated_on_mark_sent(
    store: Store,
) -> None:
    # A queued (not yet sent) item is never matched: identical text may be a second message.
    await store.outbox.add(ACCOUNT, "c1", "send", {"content": "ok"}, "cl-3")
    await store.upsert_messages(
        ACCOUNT, "c1", [message("m11", sender=CREATOR, text="ok", minutes=11)], creator_id=CREATOR
    )
    assert len(await store.latest_messages("c1")) == 3
    await store.outbox.mark_sent("cl-3", message("m11", sender=CREATOR, text="ok", minutes=11))
    assert await _ids(store) == [("m1", None, "sent"), ("m11", "cl-3", "sent")]


async def test_retry_unknown_and_failure(store: Store) -> None:
    await store.outbox.add(ACCOUNT, "c1", "send", {"content": "flaky"}, "cl-4")
    await store.outbox.mark_in_flight("cl-4")
    later = at(0) + timedelta(days=36500)
    retry = await store.outbox.mark_retry("cl-4", "HTTP 503", later)
    assert (retry.state, retry.last_error) == (OutboxState.QUEUED, "HTTP 503")
    assert await store.outbox.due(ACCOUNT) == []
    assert [i.client_id for i in await store.outbox.due(ACCOUNT, later)] == ["cl-4"]
    assert (await store.latest_messages("c1"))[-1].error == "HTTP 503"
    await store.outbox.mark_in_flight("cl-4")
    unknown = await store.outbox.mark_unknown("cl-4", "timeout")
    assert unknown.state is OutboxState.UNKNOWN and unknown.attempts == 2
    assert await store.outbox.counts(ACCOUNT) == (1, 0)
    failed = await store.outbox.mark_failed("cl-4", "content is required")
    assert failed.state is OutboxState.FAILED
    last = (await store.latest_messages("c1"))[-1]
    assert (last.state, last.error) == (MessageState.FAILED, "content is required")
    assert await store.outbox.counts(ACCOUNT) == (0, 1)
    # A failed reply does not count as an answer.
    assert (await store.chat("c1")).waiting_since == at(1)  # type: ignore[union-attr]
    again = await store.outbox.retry_failed("cl-4")
    assert (again.state, again.attempts) == (OutboxState.QUEUED, 0)
    assert (await store.latest_messages("c1"))[-1].state is MessageState.PENDING
    await store.outbox.mark_failed("cl-4", "still no")
    await store.outbox.discard("cl-4")
    assert await _ids(store) == [("m1", None, "sent")]
    assert await store.outbox.counts(ACCOUNT) == (0, 0)
    with pytest.raises(OutboxNotFound):
        await store.outbox.mark_sent("cl-4")


async def test_flags_show_at_once_and_revert_on_failure(store: Store) -> None:
    like = await store.outbox.add(ACCOUNT, "c1", "like", {"message_id": "m1", "type": 1})
    pin = await store.outbox.add(ACCOUNT, "c1", "pin", {"message_id": "m1", "chat_id": "c1"})
    mute = await store.outbox.add(ACCOUNT, "c1", "mute", {"fan_id": "100"})
    (row,) = await store.latest_messages("c1")
    assert row.liked_by_creator and row.pinned
    assert (await store.chat("c1")).muted  # type: ignore[union-attr]
    assert [i.kind for i in await store.outbox.due(ACCOUNT)] == ["like", "pin", "mute"]
    await store.outbox.mark_sent(pin.client_id)
    await store.outbox.mark_failed(like.client_id, "404 message not found")
    await store.outbox.mark_failed(mute.client_id, "403")
    (row,) = await store.latest_messages("c1")
    assert not row.liked_by_creator and row.pinned
    assert not (await store.chat("c1")).muted  # type: ignore[union-attr]
    await store.outbox.retry_failed(mute.client_id)
    assert (await store.chat("c1")).muted  # type: ignore[union-attr]


async def test_a_crash_turns_in_flight_into_unknown(store: Store) -> None:
    await store.outbox.add(ACCOUNT, "c1", "send", {"content": "a"}, "x1")
    await store.outbox.add(ACCOUNT, "c1", "send", {"content": "b"}, "x2")
    await store.outbox.mark_in_flight("x1")
    assert await store.outbox.recover() == 1
    states = {i.client_id: i.state for i in await store.outbox.items(ACCOUNT)}
    assert states == {"x1": OutboxState.UNKNOWN, "x2": OutboxState.QUEUED}
    assert [i.client_id for i in await store.outbox.items(ACCOUNT, ["unknown"])] == ["x1"]


async def test_a_duplicate_client_id_is_refused(store: Store) -> None:
    import sqlite3

    await store.outbox.add(ACCOUNT, "c1", "send", {"content": "once"}, "dup")
    with pytest.raises(sqlite3.IntegrityError):
        await store.outbox.add(ACCOUNT, "c1", "send", {"content": "twice"}, "dup")
    assert len(await store.latest_messages("c1")) == 2  # the failed transaction left nothing


async def test_a_send_on_its_way_cannot_be_unsent_and_nothing_is_queued(store: Store) -> None:
    await store.outbox.add(ACCOUNT, "c1", OutboxKind.SEND, {"content": "on my way"}, "cl-1")
    await store.outbox.mark_in_flight("cl-1")
    with pytest.raises(ValueError, match="being sent"):
        await store.outbox.add(ACCOUNT, "c1", OutboxKind.UNSEND, {"message_id": "cl-1"}, "un-1")
    assert await store.outbox.item("un-1") is None  # the refused unsend left no trace
    assert await _ids(store) == [("m1", None, "sent"), (None, "cl-1", "pending")]
    await store.outbox.mark_failed("cl-1", "refused")  # a failed send can be unsent: never sent
    unsent = await store.outbox.add(ACCOUNT, "c1", OutboxKind.UNSEND, {"message_id": "cl-1"})
    assert unsent.state is OutboxState.SENT and await store.outbox.item("cl-1") is None
    assert await _ids(store) == [("m1", None, "sent"), (None, "cl-1", "unsent")]
    assert await store.outbox.counts(ACCOUNT) == (0, 0)


async def test_a_late_copy_of_an_unsent_message_leaves_it_unsent(store: Store) -> None:
    # The creator sent m9, then unsent it; the webhook copy of the send (or a sync page read
    # before the unsend landed) arrives after: the message stays unsent, its copy changes
    # nothing the chatter sees.
    server = message("m9", sender=CREATOR, text="oops", minutes=9)
    await store.upsert_messages(ACCOUNT, "c1", [server], creator_id=CREATOR)
    unsend = await store.outbox.add(ACCOUNT, "c1", OutboxKind.UNSEND, {"message_id": "m9"})
    await store.outbox.mark_in_flight(unsend.client_id)
    await store.outbox.mark_sent(unsend.client_id)
    assert await _ids(store) == [("m1", None, "sent"), ("m9", None, "unsent")]
    await store.apply_event(message_event("w9", server, sent=True))
    assert await _ids(store) == [("m1", None, "sent"), ("m9", None, "unsent")]
    edited = server.model_copy(update={"content": "oops!"})  # a later copy, edited
    await store.upsert_messages(ACCOUNT, "c1", [edited], creator_id=CREATOR)
    assert await _ids(store) == [("m1", None, "sent"), ("m9", None, "unsent")]
    assert (await store.message("m9")).text == "oops!"  # type: ignore[union-attr]
