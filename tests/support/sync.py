"""Helpers shared by the sync, outbox and offline tests (and the pure parts they rest on).

A sandbox-backed :class:`Workspace` is built from plain :class:`Settings`, the way the console
builds it, with a real SQLite file under ``tmp_path``.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from console.changes import SyncProgress, Update
from console.config import Profile, Secret, Settings, SyncSettings
from console.sandbox.server import SandboxServer
from console.sandbox.world import ChatState, CreatorState, World, build_world
from console.sync.engine import Workspace
from console.sync.policy import Backoff

FAST = Backoff(base=0.02, factor=2.0, cap=0.2, jitter=0.5)


def settings_for(
    server: SandboxServer,
    *,
    messages_per_chat: int = 15,
    concurrency: int = 4,
    timeout: float = 10.0,
) -> Settings:
    profile = Profile(
        api_key=Secret(server.api_key),
        base_url=server.base_url,
        requests_per_minute=100_000,
        timeout_seconds=timeout,
    )
    return Settings(
        profiles={"default": profile},
        sync=SyncSettings(messages_per_chat=messages_per_chat, concurrency=concurrency),
    )


async def open_workspace(
    server: SandboxServer,
    path: Path,
    *,
    offline: bool = False,
    full: bool = True,
    **options: Any,
) -> Workspace:
    """A Workspace on ``server`` with fast retries (the policy is the real one, the pauses
    shorter so the tests stay quick). ``full``: backfill every chat (``sync --full``; the
    tests of the backfill's mechanics), or the console's lean pass."""
    workspace = await Workspace.open(
        settings_for(server, **options), path=path, offline=offline, full_sync=full
    )
    workspace.backoff = FAST
    for connection in workspace.connections.values():
        connection._backoff = FAST
    for client in workspace.clients.values():
        client.retry_backoff = 0.01
    workspace.reconcile_delay = 0.05
    return workspace


def creator_of(server: SandboxServer) -> CreatorState:
    return next(iter(server.world.accounts.values()))


def chat_of(server: SandboxServer, index: int = 0) -> ChatState:
    """A chat by position in the newest-first order."""
    return creator_of(server).chat_order()[index]


def count_in_sandbox(server: SandboxServer, chat_id: str, content: str) -> int:
    """How many messages with this text the gateway holds in the chat."""
    chat = creator_of(server).chats[chat_id]
    return sum(1 for m in chat.messages if m["content"] == content)


async def set_faults(server: SandboxServer, *faults: dict[str, Any]) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{server.url}/_sandbox/faults", json={"next": list(faults)}, headers=server.headers
        )
    assert answer.status_code == 200, answer.text


def last_progress(queue: asyncio.Queue[Update]) -> SyncProgress:
    """The last sync progress published so far (the queue is emptied)."""
    progress = []
    while not queue.empty():
        update = queue.get_nowait()
        if isinstance(update, SyncProgress):
            progress.append(update)
    assert progress, "no sync progress was published"
    return progress[-1]


async def wait_for(condition: Callable[[], Awaitable[bool]], queue: asyncio.Queue[Update]) -> None:
    """Re-check ``condition`` after every published update until it holds (within 10 s)."""
    async with asyncio.timeout(10):
        while not await condition():
            await queue.get()


# -- the pure parts ----------------------------------------------------------------------------


def another_creator_as(account_id: str, seed: int = 8) -> World:
    """Another world whose (one) account the gateway lists under ``account_id``: the same tab,
    a different Fansly creator, different chats."""
    world = build_world(seed, "small")
    creator = world.first_account()
    world.accounts = {account_id: dataclasses.replace(creator, account_id=account_id)}
    return world


async def cached_with_a_queued_reply(sandbox: SandboxServer, cache: Path) -> tuple[str, str]:
    """Sync ``sandbox`` into ``cache``, then queue a reply offline; returns (account, chat)."""
    workspace = await open_workspace(sandbox, cache)
    async with workspace:
        await workspace.start()
        await workspace.wait_backfilled()
    offline = await open_workspace(sandbox, cache, offline=True)
    async with offline:
        await offline.start()
        creator = sandbox.world.first_account()
        chat = creator.chat_order()[0]
        await offline.send(creator.account_id, chat.id, "meant for the first world")
        return creator.account_id, chat.id
