"""Issue 11, items 6 and 7, at the keyboard: a gateway killed and restarted under a running
console (the real sandbox on a real socket), quitting with actions still queued, ``--offline``
replies, and a gateway whose account turned out to be another one."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from support.sync import (
    FAST,
    another_creator_as,
    cached_with_a_queued_reply,
    count_in_sandbox,
    open_workspace,
    settings_for,
)
from support.tui import until
from textual.pilot import Pilot

from console.sandbox.server import SandboxServer
from console.tui.account_tabs import AccountTabs
from console.tui.app import ConsoleApp
from console.tui.chat_list import ChatList
from console.tui.confirm import ConfirmQuit
from console.tui.launch import build_console, build_demo
from console.tui.panes import OfflineBanner, StatusLine
from console.tui.thread import Thread


def status(app: ConsoleApp) -> str:
    return str(app.query_one(StatusLine).render())


def last_message(app: ConsoleApp) -> str:
    return str(app.query_one(Thread).message_views[-1].render())


async def type_reply(app: ConsoleApp, pilot: Pilot[int], text: str) -> None:
    await pilot.press("r", *text, "enter")
    await until(app, pilot, lambda: text in last_message(app))


async def test_a_gateway_killed_and_restarted_under_a_running_console(tmp_path: Path) -> None:
    app, running, sandbox = await build_demo(
        seed=7,
        size="small",
        simulate_per_minute=0,
        cache=tmp_path / "demo.sqlite3",
        workspace_options={"probe_backoff": FAST, "backoff": FAST, "reconcile_delay": 0.05},
    )
    app.open_delay = 0
    again: SandboxServer | None = None
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await until(app, pilot, lambda: running.workspace.engines != {})
            await running.workspace.wait_backfilled()
            await until(
                app, pilot, lambda: app.chats_screen.chat_id is not None and "● live" in status(app)
            )
            account_id, chat_id = app.chats_screen.account_id, app.chats_screen.chat_id
            assert account_id is not None and chat_id is not None
            chats = await running.workspace.store.count_chats(account_id)

            # Killed while the chatter only reads: the status line says so within 10 s.
            await sandbox.__aexit__(None, None, None)
            killed = time.monotonic()
            await until(app, pilot, lambda: "● live" not in status(app), seconds=10)
            assert time.monotonic() - killed < 10
            assert "not reachable" in status(app) or "offline" in status(app)
            assert app.query_one(OfflineBanner).display
            # (Unbilled: test_offline.py checks that an idle, live console calls no route.)

            # A reply typed meanwhile waits, and says so.
            await type_reply(app, pilot, "back in a minute")
            assert "queued until online" in last_message(app)
            assert "sending" not in last_message(app)
            assert "1 queued" in status(app)

            # The gateway restarts a minute later with the same seed: the same world (issue
            # 11.7), so the queued reply reaches the same chat, and no chat is doubled.
            again = SandboxServer(
                seed=7,
                size="small",
                reference_time=int(time.time()) // 60 * 60 + 60,
                port=sandbox.server.port,
                api_key=sandbox.api_key,
                webhook_secret=sandbox.webhook_secret,
                requests_per_minute=100_000,
            )
            await again.__aenter__()
            await until(app, pilot, lambda: "● live" in status(app))
            await until(app, pilot, lambda: "⧗" not in last_message(app))
            assert count_in_sandbox(again, chat_id, "back in a minute") == 1
            assert not app.query_one(OfflineBanner).display
            await running.workspace.wait_backfilled()
            assert await running.workspace.store.count_chats(account_id) == chats
    finally:
        await running.stop()
        if again is not None:
            await again.__aexit__(None, None, None)


async def test_offline_replies_wait_and_quitting_asks_then_they_go_at_the_next_start(
    sandbox_async: SandboxServer, tmp_path: Path
) -> None:
    cache = tmp_path / "cache.sqlite3"
    workspace = await open_workspace(sandbox_async, cache)
    async with workspace:
        await workspace.start()
        await workspace.wait_backfilled()

    app, running = await build_console(settings_for(sandbox_async), offline=True, path=cache)
    app.open_delay = 0
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await until(app, pilot, lambda: app.chats_screen.chat_id is not None)
            chat_id = app.chats_screen.chat_id
            assert chat_id is not None
            await type_reply(app, pilot, "queued offline")
            assert "queued until online" in last_message(app)
            assert "sending" not in last_message(app)

            # q (out of the composer) asks first and says how many; n stays.
            await pilot.press("escape", "q")
            await until(app, pilot, lambda: isinstance(app.screen, ConfirmQuit))
            text = str(app.screen.query_one("#quit-text").render())
            assert "1 action" in text and "next time the console runs online" in text
            await pilot.press("n")
            await until(app, pilot, lambda: not isinstance(app.screen, ConfirmQuit))
            assert app.return_code is None

            # y quits.
            await pilot.press("q")
            await until(app, pilot, lambda: isinstance(app.screen, ConfirmQuit))
            await pilot.press("y")
            await until(app, pilot, lambda: app.return_code is not None)
    finally:
        await running.stop()

    # The next start online delivers it, once.
    workspace = await open_workspace(sandbox_async, cache)
    async with workspace:
        await workspace.start()
        await workspace.wait_attached()
        async with asyncio.timeout(10):
            await workspace.drain_outbox()
    assert count_in_sandbox(sandbox_async, chat_id, "queued offline") == 1


async def test_quit_with_nothing_queued_does_not_ask(
    sandbox_async: SandboxServer, tmp_path: Path
) -> None:
    cache = tmp_path / "cache.sqlite3"
    workspace = await open_workspace(sandbox_async, cache)
    async with workspace:
        await workspace.start()
        await workspace.wait_backfilled()
    app, running = await build_console(settings_for(sandbox_async), offline=True, path=cache)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await until(app, pilot, lambda: app.chats_screen.chat_id is not None)
            await pilot.press("q")
            await until(app, pilot, lambda: app.return_code is not None)
            assert not isinstance(app.screen, ConfirmQuit)
    finally:
        await running.stop()


async def test_a_tab_whose_creator_changed_says_so_and_keeps_the_worlds_apart(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "cache.sqlite3"
    first = SandboxServer(seed=7, size="small", requests_per_minute=100_000)
    async with first:
        account_id, _chat_id = await cached_with_a_queued_reply(first, cache)
    other = SandboxServer(world=another_creator_as(account_id), requests_per_minute=100_000)
    async with other:
        app, running = await build_console(settings_for(other), path=cache)
        app.open_delay = 0
        try:
            async with app.run_test(size=(120, 36)) as pilot:
                await until(app, pilot, lambda: len(app.chats_screen.accounts) == 2)
                await running.workspace.wait_backfilled()
                notices = [n for n in app._notifications if n.title == "Account changed"]
                assert len(notices) == 1 and notices[0].severity == "error"
                assert "different Fansly account" in notices[0].message
                old_name = app.chats_screen.accounts[1].name
                assert old_name.endswith("(old)")
                tabs = app.query_one(AccountTabs).names
                assert tabs[1].startswith(old_name)
                # The tab shows the new creator's chats only (not 80: no doubled counts).
                await until(app, pilot, lambda: app.query_one(ChatList).total == 40)
                await until(app, pilot, lambda: app.chats_screen.chat_id is not None)
                assert app.chats_screen.chat_id in other.world.first_account().chats
                # The old world's reply: failed (said in the status line), not waiting.
                await until(app, pilot, lambda: "✗ 1 failed" in status(app))
                assert "queued" not in status(app)
        finally:
            await running.stop()


async def test_a_chat_opened_before_the_gateway_is_reached_fills_when_it_is(
    tmp_path: Path,
) -> None:
    """A lean sync leaves most chats with the chat list's last message only; the gateway fills
    one on open. Opened while the gateway is down, the thread shows that one message; when the
    gateway comes back, the newest page arrives in the open thread without a key."""
    cache = tmp_path / "cache.sqlite3"
    sandbox = SandboxServer(seed=7, size="small", requests_per_minute=100_000)
    await sandbox.__aenter__()
    workspace = await open_workspace(sandbox, cache, full=False)
    async with workspace:
        await workspace.start()
        await workspace.wait_backfilled()
        account_id = next(iter(workspace.engines))
        chats = await workspace.store.chats(account_id, limit=200)
        counts = [len(await workspace.store.latest_messages(c.chat_id, 30)) for c in chats]
    index = next(i for i, n in enumerate(counts) if n == 1)
    thin = chats[index].chat_id
    assert len(sandbox.world.accounts[account_id].chats[thin].messages) > 10
    await sandbox.__aexit__(None, None, None)

    app, running = await build_console(
        settings_for(sandbox), workspace=await open_workspace(sandbox, cache, full=False)
    )
    app.open_delay = 0
    again: SandboxServer | None = None
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await until(app, pilot, lambda: app.chats_screen.chat_id is not None)
            await until(app, pilot, lambda: "cannot reach the gateway" in status(app))
            await pilot.press(*["down"] * index)
            thread = app.query_one(Thread)
            await until(
                app, pilot, lambda: thread.chat_id == thin and len(thread.message_views) == 1
            )
            again = SandboxServer(
                world=sandbox.world,
                port=sandbox.server.port,
                api_key=sandbox.api_key,
                webhook_secret=sandbox.webhook_secret,
                requests_per_minute=100_000,
            )
            await again.__aenter__()
            await until(app, pilot, lambda: len(thread.message_views) >= 10)
            assert thread.chat_id == thin and thread.at_bottom
    finally:
        await running.stop()
        if again is not None:
            await again.__aexit__(None, None, None)
