"""Follow-ups (issue 16): a message kept in the outbox for a due time, sent once, cancelled by
any message from the fan, held (not sent late) when it came due while nothing ran. The real
sandbox over HTTP, the real store, the real outbox sender."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from support.sync import chat_of, count_in_sandbox, creator_of, open_workspace

from console.api.models import Message
from console.events import Event, EventType, Provider
from console.sandbox.server import SandboxServer
from console.store.rows import OutboxState
from console.sync.engine import Workspace


async def _started(server: SandboxServer, path: Path) -> Workspace:
    workspace = await open_workspace(server, path)
    await workspace.start(backfill=False)
    await workspace.wait_attached()
    return workspace


async def _drained(workspace: Workspace) -> None:
    async with asyncio.timeout(15):
        await workspace.drain_outbox()


async def _follow_ups_done(workspace: Workspace, chat_id: str) -> None:
    """Until the chat's follow-ups are sent or cancelled: ``drain_outbox`` does not wait for
    one before its time (it is no send waiting for the gateway)."""
    async with asyncio.timeout(15), workspace.bus.subscribe() as updates:
        while await workspace.store.queue.follow_ups(chat_id):
            await updates.get()  # the outbox says so when an item is sent or dropped
    await _drained(workspace)


def _fan_writes(account_id: str, chat_id: str, fan_id: str, key: str) -> Event:
    now = datetime.now(UTC) + timedelta(seconds=1)  # after the follow-up was set
    message = Message(id=key, chat_id=chat_id, sender_id=fan_id, content="hi!", created_at=now)
    return Event(
        type=EventType.MESSAGE_RECEIVED,
        provider=Provider.FANSLY_API,
        name="message.received",
        idempotency_key=f"evt_{key}",
        account_id=account_id,
        occurred_at=now,
        chat_id=chat_id,
        fan_id=fan_id,
        message=message,
    )


async def test_a_due_follow_up_is_sent_once(sandbox_async: SandboxServer, tmp_path: Path) -> None:
    account, chat = creator_of(sandbox_async).account_id, chat_of(sandbox_async, 1)
    async with await _started(sandbox_async, tmp_path / "c.sqlite3") as workspace:
        due = datetime.now(UTC) + timedelta(seconds=0.4)
        await workspace.follow_up(account, chat.id, "still there? 😊", due)
        (waiting,) = await workspace.store.queue.follow_ups(chat.id)
        assert waiting.next_attempt_at >= due - timedelta(milliseconds=5)
        # Waiting for its time holds nothing else of the chat back: a reply goes at once.
        await workspace.send(account, chat.id, "a normal reply")
        await _drained(workspace)
        assert count_in_sandbox(sandbox_async, chat.id, "a normal reply") == 1
        await _follow_ups_done(workspace, chat.id)
        assert count_in_sandbox(sandbox_async, chat.id, "still there? 😊") == 1
        assert chat.messages[-1]["content"] == "still there? 😊"
        assert await workspace.store.queue.follow_ups(chat.id) == []
        await _drained(workspace)
        assert count_in_sandbox(sandbox_async, chat.id, "still there? 😊") == 1
        # The sent follow-up is in the thread like any message of the creator's.
        rows = await workspace.store.latest_messages(chat.id, 1)
        assert rows[-1].text == "still there? 😊" and rows[-1].from_creator


async def test_a_fan_message_cancels_the_follow_up(
    sandbox_async: SandboxServer, tmp_path: Path
) -> None:
    creator = creator_of(sandbox_async)
    account, chat = creator.account_id, chat_of(sandbox_async, 2)
    async with await _started(sandbox_async, tmp_path / "c.sqlite3") as workspace:
        later = datetime.now(UTC) + timedelta(minutes=30)
        await workspace.follow_up(account, chat.id, "miss me?", later)
        assert len(await workspace.store.queue.follow_ups(chat.id)) == 1
        # Before its time it is no send waiting: the status line does not count it.
        assert await workspace.store.outbox.counts(account) == (0, 0)
        await workspace.apply_event(
            _fan_writes(account, chat.id, chat.fan_id, "990000000000000001")
        )
        assert await workspace.store.queue.follow_ups(chat.id) == []
        assert await workspace.store.outbox.counts(account) == (0, 0)
        # Arrived another way (a backfill, no webhook): the sender's check cancels it.
        soon = datetime.now(UTC) + timedelta(seconds=0.3)
        await workspace.follow_up(account, chat.id, "second try", soon)
        await workspace.store.upsert_messages(
            account,
            chat.id,
            [
                Message(
                    id="990000000000000002",
                    chat_id=chat.id,
                    sender_id=chat.fan_id,
                    content="I'm here",
                    created_at=datetime.now(UTC) + timedelta(seconds=0.1),
                )
            ],
        )
        await _follow_ups_done(workspace, chat.id)
        assert count_in_sandbox(sandbox_async, chat.id, "second try") == 0
        assert await workspace.store.queue.follow_ups(chat.id) == []
        assert await workspace.store.outbox.counts(account) == (0, 0)


async def test_a_missed_follow_up_is_held_until_the_chatter_says_send(
    sandbox_async: SandboxServer, tmp_path: Path
) -> None:
    account, chat = creator_of(sandbox_async).account_id, chat_of(sandbox_async, 3)
    async with await _started(sandbox_async, tmp_path / "c.sqlite3") as workspace:
        past = datetime.now(UTC) - timedelta(minutes=10)  # due while nothing ran
        client_id = await workspace.follow_up(account, chat.id, "late one", past)
        await _drained(workspace)  # held: failed items wait for the chatter, not the sender
        (held,) = await workspace.store.queue.missed_follow_ups([account])
        assert held.state is OutboxState.FAILED and held.client_id == client_id
        assert count_in_sandbox(sandbox_async, chat.id, "late one") == 0
        await workspace.store.queue.confirm_follow_up(client_id)
        next(iter(workspace.engines.values())).sender.wake()  # type: ignore[union-attr]
        await _drained(workspace)
        assert count_in_sandbox(sandbox_async, chat.id, "late one") == 1
        assert await workspace.store.queue.missed_follow_ups([account]) == []
