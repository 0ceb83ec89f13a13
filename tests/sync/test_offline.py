"""With the gateway gone every read works from the cache, and queued actions wait; when it is
back they are delivered, once each."""

from __future__ import annotations

import asyncio
from pathlib import Path

from support.sync import count_in_sandbox, open_workspace, wait_for

from console.changes import ConnectionChanged, Update
from console.sandbox.server import SandboxServer
from console.sandbox.world import build_world
from console.store.rows import OutboxState


async def test_gateway_down_reads_from_cache_and_queue_is_delivered_once_back(
    tmp_path: Path,
) -> None:
    world = build_world(7, "small")
    first = SandboxServer(world=world, requests_per_minute=100_000)
    port, key = first.server.port, first.api_key
    creator = next(iter(world.accounts.values()))
    chat = creator.chat_order()[0]
    account = creator.account_id

    await first.__aenter__()
    workspace = await open_workspace(first, tmp_path / "cache.sqlite3")
    try:
        await workspace.start()
        await workspace.wait_backfilled()
        await first.__aexit__(None, None, None)  # the gateway goes away

        async with workspace.bus.subscribe() as updates:
            seen: list[Update] = []

            async def state_is(state: str) -> bool:
                while not updates.empty():
                    seen.append(updates.get_nowait())
                return workspace.connection.state == state

            # Reads: the chat list, a thread, scrolling past what was fetched, the fan.
            assert await workspace.store.count_chats(account) == 40
            newest = await workspace.load_older(account, chat.id, None, 10)
            assert [r.message_id for r in newest] == [m["id"] for m in chat.messages[-10:]]
            older = await workspace.load_older(account, chat.id, newest[0], 10)
            assert [r.message_id for r in older] == [m["id"] for m in chat.messages[-15:-10]]
            assert await workspace.store.fan(account, chat.fan_id) is not None
            hits = await workspace.store.search(chat.messages[-1]["content"].split()[0])
            assert hits

            # Actions are queued and shown at once, then wait for the gateway.
            sent = await workspace.send(account, chat.id, "queued while offline")
            await workspace.like(account, chat.id, chat.messages[-2]["id"])
            await workspace.mute(account, chat.fan_id)
            await wait_for(lambda: state_is("offline"), updates)
            states = [u.state for u in seen if isinstance(u, ConnectionChanged)]
            assert states[:1] == ["reconnecting"]
            pending, _ = await workspace.store.outbox.counts(account)
            assert pending == 3
            row = await workspace.store.message(sent)
            assert row is not None and row.state == "pending"

            # A fan writes while the console cannot hear it (no webhook reaches it either).
            missed = world.add_message(
                creator, chat, sender_id=chat.fan_id, content="did you get this?"
            )

            # The gateway comes back on the same address with the same world.
            second = SandboxServer(world=world, port=port, api_key=key, requests_per_minute=100_000)
            async with second:
                await wait_for(lambda: state_is("live"), updates)
                async with asyncio.timeout(10):
                    await workspace.drain_outbox()
                assert count_in_sandbox(second, chat.id, "queued while offline") == 1
                assert chat.fan_id in creator.muted
                liked = chat.messages[-4]
                assert any(like.get("userId") == creator.native_id for like in liked["likes"])
                items = await workspace.store.outbox.items(account)
                assert [i.state for i in items] == [OutboxState.SENT] * 3
                assert second.gateway.usage.requests["send_message"] == 1

                async def caught_up() -> bool:
                    return await workspace.store.message(missed["id"]) is not None

                await wait_for(caught_up, updates)  # the catch-up sync after reconnecting
    finally:
        await workspace.stop()


async def test_a_gateway_killed_while_nobody_calls_it_is_noticed_unbilled(tmp_path: Path) -> None:
    """Issue 11: the status said "live" for 30 s after the gateway died, until the chatter
    acted. The watch notices within 10 s, and checks only the address (nothing billed)."""
    world = build_world(7, "small")
    first = SandboxServer(world=world, requests_per_minute=100_000)
    port, key = first.server.port, first.api_key
    await first.__aenter__()
    workspace = await open_workspace(first, tmp_path / "cache.sqlite3")
    connection = next(iter(workspace.connections.values()))
    checks: asyncio.Queue[None] = asyncio.Queue()
    check = connection._reachable
    assert check is not None

    async def counted() -> None:
        checks.put_nowait(None)
        await check()

    async def checked(times: int) -> None:
        async with asyncio.timeout(10):
            for _ in range(times):
                await checks.get()

    connection._reachable = counted
    connection.watch_interval = 0.05
    try:
        async with workspace.bus.subscribe() as updates:
            await workspace.start()
            await workspace.wait_backfilled()

            # Idle and live: the address is checked again and again, the API is not called.
            billed = sum(first.gateway.usage.requests.values())
            await checked(5)
            assert sum(first.gateway.usage.requests.values()) == billed
            assert workspace.connection.state == "live"

            await first.__aexit__(None, None, None)  # killed; nobody calls it
            loop = asyncio.get_running_loop()
            killed = loop.time()

            async with asyncio.timeout(10):
                while True:
                    update = await updates.get()
                    if isinstance(update, ConnectionChanged) and update.state != "live":
                        break
            assert loop.time() - killed < 10
            assert update.state == "reconnecting"
            assert update.detail.startswith("gateway not reachable"), update.detail

            # Back on the same address: live again, and watched again.
            second = SandboxServer(world=world, port=port, api_key=key, requests_per_minute=100_000)
            async with second:

                async def live() -> bool:
                    return workspace.connection.state == "live"

                await wait_for(live, updates)
                while not checks.empty():
                    checks.get_nowait()
                await checked(3)
                assert workspace.connection.state == "live"
    finally:
        await workspace.stop()
