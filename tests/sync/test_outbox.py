"""The outbox against sandbox faults: every action delivered exactly once, or failed visibly."""

from __future__ import annotations

import asyncio
from pathlib import Path

from support.sync import (
    chat_of,
    count_in_sandbox,
    creator_of,
    open_workspace,
    set_faults,
)

from console.api.client import FanslyClient
from console.changes import OutboxChanged
from console.sandbox.server import SandboxServer
from console.store import Store
from console.store.rows import MessageState, OutboxKind, OutboxState
from console.sync.engine import Workspace


async def _started(server: SandboxServer, path: Path, **options: object) -> Workspace:
    workspace = await open_workspace(server, path, **options)  # type: ignore[arg-type]
    await workspace.start(backfill=False)
    await workspace.wait_attached()
    return workspace


async def _drained(workspace: Workspace) -> None:
    async with asyncio.timeout(15):
        await workspace.drain_outbox()


async def test_send_after_5xx_is_delivered_exactly_once(
    sandbox_async: SandboxServer, tmp_path: Path
) -> None:
    creator, chat = creator_of(sandbox_async), chat_of(sandbox_async)
    await set_faults(
        sandbox_async,
        {"route": "send_message", "status": 500},
        {"route": "send_message", "status": 503},
    )
    async with await _started(sandbox_async, tmp_path / "c.sqlite3") as workspace:
        client_id = await workspace.send(creator.account_id, chat.id, "after two 5xx")
        await _drained(workspace)
        item = await workspace.store.outbox.item(client_id)
        assert item is not None and item.state is OutboxState.SENT and item.attempts == 3
        assert count_in_sandbox(sandbox_async, chat.id, "after two 5xx") == 1
        row = await workspace.store.message(client_id)
        assert row is not None and row.state is MessageState.SENT
        assert row.message_id == chat.messages[-1]["id"]


async def test_send_whose_answer_is_lost_is_found_not_resent(
    sandbox_async: SandboxServer, tmp_path: Path
) -> None:
    creator, chat = creator_of(sandbox_async), chat_of(sandbox_async, 2)
    # The gateway applies each send, then answers after the client gave up. The same text
    # twice: the second must not be taken for the first one's lost copy (nor vice versa).
    await set_faults(
        sandbox_async,
        {"route": "send_message", "delay_after_apply": 2.0},
        {"route": "send_message", "delay_after_apply": 2.0},
    )
    workspace = await _started(sandbox_async, tmp_path / "c.sqlite3", timeout=0.4)
    async with workspace:
        first = await workspace.send(creator.account_id, chat.id, "ok")
        second = await workspace.send(creator.account_id, chat.id, "ok")
        await _drained(workspace)
        assert count_in_sandbox(sandbox_async, chat.id, "ok") == 2 + sum(
            1 for m in chat.messages[:-2] if m["content"] == "ok"
        )
        assert sandbox_async.gateway.usage.requests["send_message"] == 2
        rows = [await workspace.store.message(cid) for cid in (first, second)]
        assert [r.message_id for r in rows if r is not None] == [
            m["id"] for m in chat.messages[-2:]
        ]
        for cid in (first, second):
            item = await workspace.store.outbox.item(cid)
            assert item is not None and item.state is OutboxState.SENT


async def test_refused_send_fails_with_the_providers_words_and_can_be_retried(
    sandbox_async: SandboxServer, tmp_path: Path
) -> None:
    creator, chat, other = (
        creator_of(sandbox_async),
        chat_of(sandbox_async),
        chat_of(sandbox_async, 1),
    )
    foreign = other.messages[-1]["id"]  # a message of another chat: the gateway says 400
    async with (
        await _started(sandbox_async, tmp_path / "c.sqlite3") as workspace,
        workspace.bus.subscribe() as updates,
    ):
        refused = await workspace.send(creator.account_id, chat.id, "quoting", reply_to=foreign)
        await _drained(workspace)
        item = await workspace.store.outbox.item(refused)
        assert item is not None and item.state is OutboxState.FAILED
        assert item.last_error is not None
        assert "inReplyTo is not a message of this chat" in item.last_error
        row = await workspace.store.message(refused)
        assert row is not None and row.state is MessageState.FAILED and row.error == item.last_error
        assert count_in_sandbox(sandbox_async, chat.id, "quoting") == 0
        counts = [u for u in _drain(updates) if isinstance(u, OutboxChanged)]
        assert counts[-1] == OutboxChanged(creator.account_id, 0, 1)

        # A 400 the chatter can fix is not the point of retry; a one-off refusal is.
        await set_faults(sandbox_async, {"route": "send_message", "status": 400})
        once = await workspace.send(creator.account_id, chat.id, "refused once")
        await _drained(workspace)
        failed = await workspace.store.outbox.item(once)
        assert failed is not None and failed.state is OutboxState.FAILED
        await workspace.retry(once)
        await _drained(workspace)
        sent = await workspace.store.outbox.item(once)
        assert sent is not None and sent.state is OutboxState.SENT
        assert count_in_sandbox(sandbox_async, chat.id, "refused once") == 1


def _drain(queue: asyncio.Queue[object]) -> list[object]:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


async def test_later_message_never_overtakes_an_earlier_one_being_retried(
    sandbox_async: SandboxServer, tmp_path: Path
) -> None:
    creator, chat = creator_of(sandbox_async), chat_of(sandbox_async, 4)
    await set_faults(sandbox_async, {"route": "send_message", "status": 502})
    async with await _started(sandbox_async, tmp_path / "c.sqlite3") as workspace:
        for text in ("one", "two", "three"):
            await workspace.send(creator.account_id, chat.id, text)
        await _drained(workspace)
        assert [m["content"] for m in chat.messages[-3:]] == ["one", "two", "three"]


async def test_like_pin_and_mute_are_retried_and_reach_the_gateway(
    sandbox_async: SandboxServer, tmp_path: Path
) -> None:
    creator, chat = creator_of(sandbox_async), chat_of(sandbox_async, 5)
    target = chat.messages[-1]
    await set_faults(
        sandbox_async,
        {"route": "like_message", "status": 500},
        {"route": "pin_message", "status": 429},
        {"route": "mute_chat", "status": 503},
    )
    workspace = await open_workspace(sandbox_async, tmp_path / "c.sqlite3")
    async with workspace:
        await workspace.start()
        await workspace.wait_backfilled()
        await workspace.like(creator.account_id, chat.id, target["id"])
        await workspace.pin(creator.account_id, chat.id, target["id"])
        await workspace.mute(creator.account_id, chat.fan_id)
        row = await workspace.store.message(target["id"])
        assert row is not None and row.liked_by_creator and row.pinned  # shown at once
        await _drained(workspace)
        assert any(like.get("userId") == creator.native_id for like in target["likes"])
        assert target.get("pinned") is True
        assert chat.fan_id in creator.muted
        items = await workspace.store.outbox.items(creator.account_id)
        assert [i.kind for i in items] == [OutboxKind.LIKE, OutboxKind.PIN, OutboxKind.MUTE]
        assert all(i.state is OutboxState.SENT for i in items)
        assert sandbox_async.gateway.faults.queue == []  # each one met its fault first


async def test_send_in_flight_when_the_process_died_is_reconciled(
    sandbox_async: SandboxServer, tmp_path: Path
) -> None:
    creator, chat = creator_of(sandbox_async), chat_of(sandbox_async, 6)
    path = tmp_path / "c.sqlite3"
    # The previous run queued it, sent it, and died before hearing back.
    async with await Store.open(path) as store:
        item = await store.outbox.add(
            creator.account_id, chat.id, OutboxKind.SEND, {"content": "sent before the crash"}
        )
        await store.outbox.mark_in_flight(item.client_id)
    async with FanslyClient(sandbox_async.base_url, sandbox_async.api_key) as client:
        await client.send_message(creator.account_id, chat.id, "sent before the crash")
    async with await _started(sandbox_async, path) as workspace:
        await _drained(workspace)
        settled = await workspace.store.outbox.item(item.client_id)
        assert settled is not None and settled.state is OutboxState.SENT
        row = await workspace.store.message(item.client_id)
        assert row is not None and row.message_id == chat.messages[-1]["id"]
    assert count_in_sandbox(sandbox_async, chat.id, "sent before the crash") == 1


async def test_unsend_of_a_queued_send_cancels_it_and_nothing_reaches_the_gateway(
    sandbox_async: SandboxServer, tmp_path: Path
) -> None:
    creator, chat = creator_of(sandbox_async), chat_of(sandbox_async, 6)
    workspace = await open_workspace(sandbox_async, tmp_path / "c.sqlite3")
    async with workspace:  # not started: the send waits in the outbox
        client_id = await workspace.send(creator.account_id, chat.id, "wrong fan, sorry")
        unsend = await workspace.act(
            creator.account_id, chat.id, OutboxKind.UNSEND, {"message_id": client_id}
        )
        row = await workspace.store.message(client_id)
        assert row is not None and row.state is MessageState.UNSENT
        await workspace.start(backfill=False)
        await workspace.wait_attached()
        await _drained(workspace)
        items = await workspace.store.outbox.items(creator.account_id)
        assert [(i.client_id, i.state) for i in items] == [(unsend, OutboxState.SENT)]
        assert await workspace.store.outbox.counts(creator.account_id) == (0, 0)
    assert count_in_sandbox(sandbox_async, chat.id, "wrong fan, sorry") == 0
    usage = sandbox_async.gateway.usage.requests
    assert usage.get("send_message", 0) == 0 and usage.get("unsend_message", 0) == 0


async def test_unsend_shows_at_once_reaches_the_gateway_and_a_refusal_undoes_it(
    sandbox_async: SandboxServer, tmp_path: Path
) -> None:
    creator, chat = creator_of(sandbox_async), chat_of(sandbox_async, 7)
    async with await _started(sandbox_async, tmp_path / "c.sqlite3") as workspace:
        kept = await workspace.send(creator.account_id, chat.id, "keep this one")
        gone = await workspace.send(creator.account_id, chat.id, "take this back")
        await _drained(workspace)
        sent = [await workspace.store.message(cid) for cid in (kept, gone)]
        kept_id, gone_id = [r.message_id for r in sent if r is not None]
        assert kept_id and gone_id
        await set_faults(sandbox_async, {"route": "unsend_message", "status": 400})
        await workspace.act(creator.account_id, chat.id, "unsend", {"message_id": kept_id})
        await workspace.act(creator.account_id, chat.id, "unsend", {"message_id": gone_id})
        row = await workspace.store.message(gone_id)
        assert row is not None and row.state is MessageState.UNSENT  # shown at once
        await _drained(workspace)
        refused, done = [await workspace.store.message(m) for m in (kept_id, gone_id)]
        assert refused is not None and refused.state is MessageState.SENT  # undone
        assert done is not None and done.state is MessageState.UNSENT
    assert count_in_sandbox(sandbox_async, chat.id, "keep this one") == 1
    assert count_in_sandbox(sandbox_async, chat.id, "take this back") == 0
