"""Issue 6 end to end on the demo console (real sandbox over HTTP, real store, keys pressed
as a chatter would): the fan's note across a restart, automated messages created (and
refused) from the screen, search opening the right message, and an outage survived with
every queued action delivered exactly once."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from support.tui import keys, open_demo, until
from textual.widgets import Input, Select, Static

from console.sandbox.server import SandboxServer
from console.tui.automation_form import AutomationForm
from console.tui.automations import AutomationsScreen
from console.tui.panes import OfflineBanner
from console.tui.profile import FanProfile
from console.tui.search import SearchScreen
from console.tui.thread import Thread


def _requests(sandbox: SandboxServer, route: str) -> int:
    return int(sandbox.gateway.usage.requests.get(route, 0))


async def test_note_is_edited_in_place_and_survives_a_restart(tmp_path: Path) -> None:
    cache = tmp_path / "demo.sqlite3"
    note = "Prefers evening replies [b]not bold[/b]"
    fan = None
    async for app, pilot, running, sandbox in open_demo(cache):
        fan = (app.chats_screen.account_id, app.chats_screen.fan_id)
        await keys(app, pilot, "N", *note, "ctrl+s")
        stored = await running.workspace.store.local.get_note(*fan)  # type: ignore[arg-type]
        assert stored is not None and stored.text == note
        assert note in str(app.query_one("#note-text", Static).render())
        # Notes never reach the gateway: no route of the sandbox saw them.
        assert not any("note" in name for name in sandbox.gateway.usage.requests)
    async for app, pilot, _running, _sandbox in open_demo(cache):
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
    # A word from an older message of another chat than the open one (one whose history the
    # start-up sync fetched: a lean sync leaves most chats with their last message only).
    target = None
    for other in reversed(await store.chats(app.chats_screen.account_id, limit=10)):
        history = await store.latest_messages(other.chat_id, 20)
        if other.chat_id == app.chats_screen.chat_id or len(history) < 8:
            continue
        target = next((r for r in history[:8] if len(r.text.split()[0]) > 3 and r.message_id), None)
        if target is not None:
            break
    assert target is not None
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


async def test_a_lone_letter_says_how_far_back_it_searched(
    demo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 1-letter search reads a bounded number of the newest messages (issue 14); past it
    the screen says from when on it searched, and that another letter searches everything."""
    import console.store._queries as queries

    monkeypatch.setattr(queries, "SCAN_BUDGET", 20)
    app, pilot, _running, _sandbox = demo
    await keys(app, pilot, "ctrl+f")
    assert isinstance(app.screen, SearchScreen)
    count = app.screen.query_one("#search-count", Static)
    await keys(app, pilot, "t")
    await until(app, pilot, lambda: "type another letter" in str(count.render()))
    assert " found in messages since " in str(count.render())
    await keys(app, pilot, "h", "a", "n", "k", "s")
    await until(app, pilot, lambda: "type another letter" not in str(count.render()))


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
