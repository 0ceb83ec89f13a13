"""The sync engine against the sandbox over real HTTP, with a real SQLite cache."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from support.sync import chat_of, creator_of, last_progress, open_workspace, set_faults

from console.api.models import Message
from console.changes import EventApplied, MessageAdded, SyncProgress, Update
from console.events import Event, EventType, Provider
from console.sandbox.server import SandboxServer
from console.store import Store


async def _message_ids(store: Store, chat_id: str) -> list[str | None]:
    return [row.message_id for row in await store.latest_messages(chat_id, 100_000)]


async def test_backfill_fetches_every_chat_and_the_latest_messages(
    sandbox_async: SandboxServer, tmp_path: Path
) -> None:
    creator = creator_of(sandbox_async)
    workspace = await open_workspace(sandbox_async, tmp_path / "cache.sqlite3")
    async with workspace, workspace.bus.subscribe() as updates:
        await workspace.start()
        await workspace.wait_backfilled()
        engine = workspace.engine(creator.account_id)
        assert engine.error is None and engine.report is not None
        assert engine.report.chats == len(creator.chats) == 40
        store = workspace.store
        assert await store.count_chats(creator.account_id) == 40
        total = 0
        for chat in creator.chats.values():
            ids = await _message_ids(store, chat.id)
            newest = [m["id"] for m in chat.messages[-15:]]
            assert ids == newest  # exactly the latest K, oldest first, no duplicates
            total += len(ids)
            gaps = await store.sync_state.gaps(creator.account_id, chat.id)
            if len(chat.messages) > 15:
                assert [(g.from_message_id, g.to_message_id) for g in gaps] == [(newest[0], None)]
            else:
                assert gaps == []
        assert engine.report.messages == total
        seen: list[Update] = []
        while not updates.empty():
            seen.append(updates.get_nowait())
        progress = [u for u in seen if isinstance(u, SyncProgress)]
        last = progress[-1]
        assert (last.account_id, last.done, last.total, last.finished) == (
            creator.account_id,
            40,
            40,
            True,
        )
        assert last.messages == total
        assert [p.done for p in progress] == sorted(p.done for p in progress)
        # The creator's own messages are told apart from the fan's.
        chat = chat_of(sandbox_async)
        rows = await store.latest_messages(chat.id, 100)
        by_id = {m["id"]: m for m in chat.messages}
        for row in rows:
            assert row.from_creator == (by_id[row.message_id]["senderId"] == creator.native_id)


async def test_resync_adds_nothing_and_fetches_only_what_changed(
    sandbox_async: SandboxServer, tmp_path: Path
) -> None:
    creator = creator_of(sandbox_async)
    workspace = await open_workspace(sandbox_async, tmp_path / "cache.sqlite3")
    async with workspace:
        await workspace.start()
        await workspace.wait_backfilled()
        store = workspace.store
        before = {chat_id: await _message_ids(store, chat_id) for chat_id in creator.chats}
        [again] = await workspace.backfill()
        assert again.messages == 0 and again.chats_synced == 0
        assert {c: await _message_ids(store, c) for c in creator.chats} == before

        # A fan writes twice while the console was closed: the next sync fetches one page of
        # that chat, which reaches the cache, so no gap is left behind.
        chat = chat_of(sandbox_async, 7)
        world = sandbox_async.world
        now = time.time()
        for n, text in enumerate(("are you there?", "hello??")):
            world.add_message(
                creator, chat, sender_id=chat.fan_id, content=text, created_at=now + n
            )
        gaps_before = await store.sync_state.gaps(creator.account_id, chat.id)
        [third] = await workspace.backfill()
        assert third.chats_synced == 1
        ids = await _message_ids(store, chat.id)
        assert ids == before[chat.id] + [m["id"] for m in chat.messages[-2:]]
        assert len(ids) == len(set(ids))
        assert await store.sync_state.gaps(creator.account_id, chat.id) == gaps_before


async def test_scrolling_into_a_gap_fills_it_from_the_gateway(
    sandbox_async: SandboxServer, tmp_path: Path
) -> None:
    creator = creator_of(sandbox_async)
    chat = max(creator.chats.values(), key=lambda c: len(c.messages))
    assert len(chat.messages) > 40
    workspace = await open_workspace(sandbox_async, tmp_path / "cache.sqlite3")
    async with workspace:
        await workspace.start()
        await workspace.wait_backfilled()
        account = creator.account_id
        shown = await workspace.load_older(account, chat.id, None, 15)
        assert [r.message_id for r in shown] == [m["id"] for m in chat.messages[-15:]]
        # Scroll up page by page, as the thread does, until the start of the chat.
        while True:
            older = await workspace.load_older(account, chat.id, shown[0], 12)
            if not older:
                break
            shown = older + shown
        assert [r.message_id for r in shown] == [m["id"] for m in chat.messages]
        assert await workspace.store.sync_state.gaps(account, chat.id) == []

        # A hole in the middle (new messages arrived beyond K while away) is filled the same way.
        world = sandbox_async.world
        now = time.time()
        for n in range(25):
            world.add_message(
                creator, chat, sender_id=chat.fan_id, content=f"burst {n}", created_at=now + n
            )
        [report] = await workspace.backfill()
        assert report.messages == 15
        [gap] = await workspace.store.sync_state.gaps(account, chat.id)
        assert gap.to_message_id == shown[-1].message_id
        newest = await workspace.load_older(account, chat.id, None, 15)
        older = await workspace.load_older(account, chat.id, newest[0], 20)
        assert [r.message_id for r in older + newest] == [m["id"] for m in chat.messages[-35:]]
        assert await workspace.store.sync_state.gaps(account, chat.id) == []
        ids = await _message_ids(workspace.store, chat.id)
        assert ids == [m["id"] for m in chat.messages]


def _event(account: str, chat_id: str, fan: str, n: int, at: float) -> Event:
    message = Message(
        id=str(900_000_000_000_000_000 + n),
        chat_id=chat_id,
        sender_id=fan,
        content=f"live {n}",
        created_at=at,
    )
    return Event(
        type=EventType.MESSAGE_RECEIVED,
        provider=Provider.FANSLY_API,
        name="message.received",
        idempotency_key=f"evt_test_{n}",
        account_id=account,
        occurred_at=datetime.fromtimestamp(at, UTC),
        chat_id=chat_id,
        fan_id=fan,
        message=message,
    )


async def test_events_out_of_order_and_twice_apply_once(
    sandbox_async: SandboxServer, tmp_path: Path
) -> None:
    creator = creator_of(sandbox_async)
    chat = chat_of(sandbox_async, 3)
    workspace = await open_workspace(sandbox_async, tmp_path / "cache.sqlite3")
    async with workspace, workspace.bus.subscribe() as updates:
        await workspace.start()
        await workspace.wait_backfilled()
        while not updates.empty():
            updates.get_nowait()
        now = time.time()
        events = [_event(creator.account_id, chat.id, chat.fan_id, n, now + n) for n in range(4)]
        order = [events[2], events[0], events[2], events[3], events[1], events[0], events[3]]
        seqs = [await workspace.apply_event(event) for event in order]
        assert seqs[2] is None and seqs[5] is None and seqs[6] is None  # the repeats
        first = [s for s in seqs if s is not None]
        assert len(first) == 4 and first == sorted(first)
        ids = await _message_ids(workspace.store, chat.id)
        assert ids[-4:] == [e.message.id for e in events if e.message is not None]
        assert len(ids) == len(set(ids))
        chat_row = await workspace.store.chat(chat.id)
        assert chat_row is not None and chat_row.preview == "live 3"
        published: list[Update] = []
        while not updates.empty():
            published.append(updates.get_nowait())
        assert sum(isinstance(u, EventApplied) for u in published) == 4
        added = {u.message_id for u in published if isinstance(u, MessageAdded)}
        assert added == {e.message.id for e in events if e.message is not None}


async def test_offline_mode_reads_the_cache_and_never_touches_the_network(
    sandbox_async: SandboxServer, tmp_path: Path
) -> None:
    creator = creator_of(sandbox_async)
    path = tmp_path / "cache.sqlite3"
    online = await open_workspace(sandbox_async, path)
    async with online:
        await online.start()
        await online.wait_backfilled()
    served = sum(sandbox_async.gateway.usage.requests.values())
    offline = await open_workspace(sandbox_async, path, offline=True)
    async with offline:
        await offline.start()
        assert offline.clients == {}
        assert offline.connection.state == "offline"
        assert [a.account_id for a in offline.accounts] == [creator.account_id]
        chat = chat_of(sandbox_async)
        rows = await offline.load_older(creator.account_id, chat.id, None, 10)
        assert [r.message_id for r in rows] == [m["id"] for m in chat.messages[-10:]]
        assert await offline.load_older(creator.account_id, chat.id, rows[0], 50) != []
        client_id = await offline.send(creator.account_id, chat.id, "written on the train")
        pending = await offline.store.message(client_id)
        assert pending is not None and pending.state == "pending"
        offline.refresh_fan(creator.account_id, chat.fan_id)
        await offline.typing(creator.account_id, chat.id)
    assert sum(sandbox_async.gateway.usage.requests.values()) == served


async def test_refresh_fan_fills_profile_lists_and_spend(
    sandbox_async: SandboxServer, tmp_path: Path
) -> None:
    creator = creator_of(sandbox_async)
    fan_id = max(creator.transactions, key=lambda f: len(creator.transactions[f]))
    chat = creator.chats[creator.chat_by_fan[fan_id]]
    creator.list_members.setdefault(creator.list_id("VIP"), set()).add(fan_id)
    workspace = await open_workspace(sandbox_async, tmp_path / "cache.sqlite3")
    async with workspace:
        await workspace.start()
        await workspace.wait_backfilled()
        task = workspace.refresh_fan(creator.account_id, chat.fan_id)
        assert task is not None
        await task
        fan = await workspace.store.fan(creator.account_id, fan_id)
        assert fan is not None
        assert "VIP" in fan.lists
        expected = sum(tx["totalGross"] for tx in creator.transactions[fan_id])
        assert fan.lifetime_spend_millis == expected > 0
        assert fan.spend_history


async def test_a_cached_chat_the_gateway_no_longer_knows_does_not_stop_the_backfill(
    sandbox_async: SandboxServer, tmp_path: Path
) -> None:
    """A webhook brought a chat the gateway has since dropped (a sandbox restarted under the
    console; a fan gone): its messages answer 404. The backfill stopped there, silently, and
    the status line said "⟳ sync 300/301" for good. Now the chat is skipped and kept."""
    creator = creator_of(sandbox_async)
    path = tmp_path / "cache.sqlite3"
    ghost = "394826286619454030"
    first = await open_workspace(sandbox_async, path)
    async with first:
        await first.start(backfill=False)
        await first.wait_attached()
        await first.apply_event(_event(creator.account_id, ghost, "394826286619454029", 1, 1e9))
    workspace = await open_workspace(sandbox_async, path)
    async with workspace, workspace.bus.subscribe() as updates:
        await workspace.start()
        await workspace.wait_backfilled()
        engine = workspace.engine(creator.account_id)
        assert engine.error is None and engine.report is not None
        assert (engine.report.chats, engine.report.chats_gone) == (41, 1)
        assert await workspace.store.count_chats(creator.account_id) == 41  # kept
        for chat in creator.chats.values():  # every chat the gateway knows was fetched
            assert await _message_ids(workspace.store, chat.id) == [
                m["id"] for m in chat.messages[-15:]
            ]
        last = last_progress(updates)
        assert last.finished and last.error is None
        assert last.done == last.total == 41


async def test_a_backfill_that_gives_up_says_so_and_is_no_longer_shown_running(
    sandbox_async: SandboxServer, tmp_path: Path
) -> None:
    """A refusal mid-backfill (here a 403 on a chat's messages): the engine stops, and the
    last progress it publishes is finished, with the error (the console shows it once)."""
    creator = creator_of(sandbox_async)
    workspace = await open_workspace(sandbox_async, tmp_path / "cache.sqlite3")
    await set_faults(sandbox_async, {"route": "list_messages", "status": 403})
    async with workspace, workspace.bus.subscribe() as updates:
        await workspace.start()
        await workspace.wait_backfilled()
        engine = workspace.engine(creator.account_id)
        assert engine.error is not None
        last = last_progress(updates)
        assert last.finished
        assert last.error is not None and "403" in last.error
