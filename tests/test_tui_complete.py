"""Issue 6 end to end on the demo console (real sandbox over HTTP, real store, keys pressed
as a chatter would): the fan's note across a restart, automated messages created (and
refused) from the screen, search opening the right message, and an outage survived with
every queued action delivered exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static

from console.sandbox.server import SandboxServer
from console.sync.policy import Backoff
from console.tui.app import ConsoleApp
from console.tui.automation_form import AutomationForm
from console.tui.automations import AutomationsScreen
from console.tui.launch import Running, build_demo
from console.tui.panes import OfflineBanner
from console.tui.profile import FanProfile
from console.tui.search import SearchScreen
from console.tui.thread import Thread

FAST = Backoff(base=0.02, cap=0.1)
OPTIONS = {"backoff": FAST, "probe_backoff": FAST, "reconcile_delay": 0.02}


async def until(app: ConsoleApp, pilot: Pilot[int], condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(20):
        while not condition():
            await app.settled()
            await pilot.pause(0.02)


async def keys(app: ConsoleApp, pilot: Pilot[int], *pressed: str) -> None:
    await pilot.press(*pressed)
    await app.settled()
    await pilot.pause()


async def _open(
    cache: Path, size: tuple[int, int] = (120, 36)
) -> AsyncIterator[tuple[ConsoleApp, Pilot[int], Running, Any]]:
    app, running, sandbox = await build_demo(
        seed=7, size="small", simulate_per_minute=0, cache=cache, workspace_options=OPTIONS
    )
    app.open_delay = 0
    try:
        async with app.run_test(size=size) as pilot:
            await until(app, pilot, lambda: running.workspace.engines != {})
            await running.workspace.wait_backfilled()
            await until(app, pilot, lambda: app.chats_screen.chat_id is not None)
            yield app, pilot, running, sandbox
    finally:
        await running.stop()


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[tuple[ConsoleApp, Pilot[int], Running, Any]]:
    async for opened in _open(tmp_path / "demo.sqlite3"):
        yield opened


def _requests(sandbox: SandboxServer, route: str) -> int:
    return int(sandbox.gateway.usage.requests.get(route, 0))


async def test_note_is_edited_in_place_and_survives_a_restart(tmp_path: Path) -> None:
    cache = tmp_path / "demo.sqlite3"
    note = "Prefers evening replies [b]not bold[/b]"
    fan = None
    async for app, pilot, running, sandbox in _open(cache):
        fan = (app.chats_screen.account_id, app.chats_screen.fan_id)
        await keys(app, pilot, "N", *note, "ctrl+s")
        stored = await running.workspace.store.get_note(*fan)  # type: ignore[arg-type]
        assert stored is not None and stored.text == note
        assert note in str(app.query_one("#note-text", Static).render())
        # Notes never reach the gateway: no route of the sandbox saw them.
        assert not any("note" in name for name in sandbox.gateway.usage.requests)
    async for app, pilot, _running, _sandbox in _open(cache):
        assert (app.chats_screen.account_id, app.chats_screen.fan_id) == fan
        await until(app, pilot, lambda: app.query_one(FanProfile).card is not None)  # noqa: B023
        assert note in str(app.query_one("#note-text", Static).render())


async def test_welcome_message_created_in_the_screen_exists_in_the_sandbox(demo: Any) -> None:
    app, pilot, _running, sandbox = demo
    creator = sandbox.world.accounts[app.chats_screen.account_id]
    before = set(creator.automated)
    await keys(app, pilot, "a")
    assert isinstance(app.screen, AutomationsScreen)
    await keys(app, pilot, "c")
    form = app.screen
    assert isinstance(form, AutomationForm)
    # Trigger "new subscriber" is the default; the message box has the focus.
    await keys(app, pilot, *"Welcome to the family!", "tab", "backspace", *"5m")
    await keys(app, pilot, "ctrl+s")
    await until(app, pilot, lambda: isinstance(app.screen, AutomationsScreen))
    created = [creator.automated[k] for k in set(creator.automated) - before]
    assert len(created) == 1
    rule = created[0]
    assert rule["triggerType"] == "new_subscriber"
    assert rule["content"] == "Welcome to the family!"
    assert rule["delay"] == 300 and rule["cooldown"] == 0
    screen = app.screen
    assert isinstance(screen, AutomationsScreen)
    await until(app, pilot, lambda: any(r.id == rule["id"] for r in screen.rules))
    await keys(app, pilot, "escape")
    assert not isinstance(app.screen, AutomationsScreen)


async def test_invalid_rule_is_refused_before_any_request_and_refusals_sit_by_the_field(
    demo: Any,
) -> None:
    app, pilot, _running, sandbox = demo
    await keys(app, pilot, "a", "c")
    form = app.screen
    assert isinstance(form, AutomationForm)
    form.query_one("#field-trigger", Select).value = "subscriber_renew"
    await app.settled()
    await pilot.pause()
    assert form.query_one("#row-streak").display and not form.query_one("#row-tip").display
    form.query_one("#field-streak", Input).value = "0"
    await keys(app, pilot, *"Thanks for staying!", "ctrl+s")
    assert "at least 1" in str(form.query_one("#error-streak", Static).render())
    form.query_one("#field-streak", Input).value = "2"
    form.query_one("#field-delay", Input).value = "9 days"
    await keys(app, pilot, "ctrl+s")
    assert "duration" in str(form.query_one("#error-delay", Static).render())
    assert _requests(sandbox, "create_automated") == 0 and form.requests == 0

    # Valid for us, refused by the provider: its words land next to the tier field.
    form.query_one("#field-delay", Input).value = "0"
    form.query_one("#field-tier", Input).value = "no-such-tier"
    await keys(app, pilot, "ctrl+s")
    await until(app, pilot, lambda: "refused" in str(form.query_one("#error-tier").render()))
    assert "not a tier of this account" in str(form.query_one("#error-tier").render())
    assert _requests(sandbox, "create_automated") == 1
    assert app.screen is form


async def test_search_opens_the_chat_at_the_message(demo: Any) -> None:
    app, pilot, running, _sandbox = demo
    store = running.workspace.store
    # A word from an older message of another chat than the open one.
    chats = await store.chats(app.chats_screen.account_id, limit=10)
    other = chats[-1]
    history = await store.latest_messages(other.chat_id, 20)
    target = next(r for r in history[:8] if len(r.text.split()[0]) > 3 and r.message_id)
    word = target.text.split()[0]
    hits = await store.search(word, limit=50)
    assert hits
    expected = hits[0]
    await keys(app, pilot, "ctrl+f")
    assert isinstance(app.screen, SearchScreen)
    await keys(app, pilot, *word)
    await until(app, pilot, lambda: bool(app.screen.results))  # type: ignore[attr-defined]
    await keys(app, pilot, "enter")
    thread = app.query_one(Thread)
    await until(app, pilot, lambda: app.chats_screen.chat_id == expected.chat_id)
    await until(app, pilot, lambda: thread.view_of(expected.message_id or "") is not None)
    selected = thread.selected
    assert selected is not None and selected.message_id == expected.message_id
    assert selected.has_class("-found")


async def test_outage_queues_actions_and_delivers_each_exactly_once(demo: Any) -> None:
    app, pilot, running, sandbox = demo
    workspace = running.workspace
    account, chat_id = app.chats_screen.account_id, app.chats_screen.chat_id
    creator = sandbox.world.accounts[account]
    chat = creator.chats[chat_id]
    port, key, secret = sandbox.server.port, sandbox.api_key, sandbox.webhook_secret

    await sandbox.__aexit__(None, None, None)  # the gateway goes away
    await keys(app, pilot, "r", *"still here, promise", "enter")
    await keys(app, pilot, "escape", "tab", "up", "l", "p", "m")
    banner = app.query_one(OfflineBanner)
    await until(app, pilot, lambda: workspace.connection.state != "live")
    await until(app, pilot, lambda: "4 actions queued" in str(banner.render()))
    assert banner.display and " since " in str(banner.render())
    assert "4 queued" in str(app.query_one("#status").render())
    target = app.query_one(Thread).selected
    assert target is not None and "queued" in str(target.render())
    # Cached history is still searchable while the gateway is away.
    await keys(app, pilot, "ctrl+f", *"still here")
    await until(app, pilot, lambda: bool(app.screen.results))  # type: ignore[attr-defined]
    await keys(app, pilot, "escape")

    back = SandboxServer(
        world=sandbox.world,
        port=port,
        api_key=key,
        webhook_secret=secret,
        requests_per_minute=100_000,
    )
    async with back:
        await until(app, pilot, lambda: workspace.connection.state == "live")
        async with asyncio.timeout(20):
            await workspace.drain_outbox()
        await until(app, pilot, lambda: not banner.display)
        sent = [m for m in chat.messages if m["content"] == "still here, promise"]
        assert len(sent) == 1
        assert back.gateway.usage.requests["send_message"] == 1
        liked = sandbox.world.message(creator, target.message_id)
        assert liked is not None and liked["pinned"] is True
        assert [lk["userId"] for lk in liked["likes"]].count(creator.native_id) == 1
        assert back.gateway.usage.requests["like_message"] == 1
        assert back.gateway.usage.requests["pin_message"] == 1
        assert chat.fan_id in creator.muted
