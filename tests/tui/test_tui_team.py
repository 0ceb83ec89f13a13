"""``fansly-console --team URL``: the console on a team server, with no gateway key of its own.
A real team server on PostgreSQL (its gateway: the sandbox), a real console through Pilot."""

from __future__ import annotations

import asyncio
from typing import Any

from support.hub import post_message
from support.team import chatter, instance
from support.tui import until

from console.api.client import FanslyClient
from console.config import Settings
from console.sandbox.server import SandboxServer
from console.team.client import TeamClient, TeamNotice
from console.tui.app import ConsoleApp
from console.tui.hub_feed import HubFeed
from console.tui.launch import build_console
from console.tui.team_notices import notice_text
from console.tui.thread import Thread


async def test_the_console_works_from_the_team_server_alone(
    team_db: str, sandbox_async: SandboxServer
) -> None:
    sandbox = sandbox_async
    gateway = FanslyClient(sandbox.base_url, sandbox.api_key, requests_per_minute=100_000)
    try:
        async with instance(team_db, client=gateway, secrets=(sandbox.webhook_secret,)) as server:
            token = await chatter(team_db, "anna", [], admin=True)
            settings = Settings()  # no API key anywhere: the server holds it
            app, running = await build_console(settings, team=(server.server.url, token))
            app.open_delay = 0
            try:
                async with app.run_test(size=(120, 36)) as pilot:
                    await until(app, pilot, lambda: app.chats_screen.chat_id is not None)
                    assert app.chats_screen.account_id in sandbox.world.accounts
                    feed = next(s for s in app.services if isinstance(s, HubFeed))
                    await until(app, pilot, lambda: feed.state.state == "live")
                    notices: list[object] = []
                    message_id = await post_message(server.server, sandbox, app)
                    thread = app.query_one(Thread)
                    await until(app, pilot, lambda: thread.view_of(message_id) is not None)
                    assert await running.workspace.store.message(message_id) is not None
                    # A teammate's note reaches the console as a team notice, not an event.
                    ben_token = await chatter(team_db, "ben", [], admin=True)
                    shown = feed.on_notice
                    feed.on_notice = notices.append
                    async with TeamClient(server.server.url, ben_token) as ben:
                        await ben.add_note(app.chats_screen.account_id, "fan-1", "prefers mornings")
                    await until(app, pilot, lambda: bool(notices))
                    assert isinstance(notices[0], TeamNotice) and notices[0].type == "note.added"
                    # Ben types in the chat open here: the console says so.
                    feed.on_notice = shown
                    async with TeamClient(server.server.url, ben_token) as ben:
                        await ben.presence(app.chats_screen.chat_id, typing=True)
                    await until(app, pilot, lambda: "ben is typing…" in toasts(app))
                    # Ben answers that chat; the console's reply is asked first, naming him.
                    async with TeamClient(server.server.url, ben_token) as ben:
                        await ben.presence(app.chats_screen.chat_id, typing=False)
                        assert (
                            await ben.send(app.chats_screen.chat_id, "on it!", confirm=True)
                        ).queued
                    account, chat = app.chats_screen.account_id, app.chats_screen.chat_id
                    store = running.workspace.store
                    client_id = await running.workspace.send(account, chat, "hello from me")
                    item = await _settled(store, client_id)
                    assert item.state.value == "failed"
                    assert "ben replied" in (item.last_error or "")
                    assert "retry to send anyway" in (item.last_error or "")
                    # Retried: the chatter's "send anyway". It goes, once, through the server.
                    await store.outbox.retry_failed(client_id)
                    item = await _settled(store, client_id)
                    assert item.state.value == "sent", item.last_error
                    sent = [
                        m
                        for m in sandbox.world.accounts[account].chats[chat].messages
                        if m["content"] == "hello from me"
                    ]
                    assert len(sent) == 1
            finally:
                await running.stop()
    finally:
        await gateway.aclose()


def toasts(app: ConsoleApp) -> str:
    return " ".join(str(n.message) for n in app._notifications)


def test_notice_texts_concern_the_open_chat_and_stay_plain() -> None:
    def notice(kind: str, chat: str | None, **data: object) -> TeamNotice:
        return TeamNotice(1, kind, "acc", chat, {"chatter": "anna", **data})

    assert notice_text(notice("presence", "c1", typing=True), me="me", open_chat="c1") == (
        "anna is typing…"
    )
    assert notice_text(notice("presence", "c2", typing=True), me="me", open_chat="c1") is None
    assert notice_text(notice("presence", "c1", typing=True), me="anna", open_chat="c1") is None
    text = notice_text(
        notice("note.added", None, text="[b]x\x1b[2J" + "y" * 200), me=None, open_chat=None
    )
    assert text is not None and "\x1b" not in text and len(text) < 120 and "[b]x" in text


async def _settled(store: object, client_id: str) -> Any:
    async with asyncio.timeout(20):
        while True:
            item = await store.outbox.item(client_id)  # type: ignore[attr-defined]
            if item is not None and item.state.value in ("sent", "failed"):
                return item
            await asyncio.sleep(0.05)


async def test_the_status_line_shows_the_teams_credits_against_the_servers_budget(
    team_db: str, sandbox_async: SandboxServer
) -> None:
    import math
    import re
    import time

    from textual.content import Content

    from console.credit_rule import cycle_of, day_of
    from console.team.credits import add_usage, month_total
    from console.tui.panes import StatusLine

    sandbox = sandbox_async
    gateway = FanslyClient(sandbox.base_url, sandbox.api_key, requests_per_minute=100_000)
    try:
        async with instance(
            team_db, client=gateway, monthly_credits=5_000, reserve_credits=500
        ) as server:
            assert server.team.credits is not None
            # Earlier this month the team spent 1,234 credits (on any instance).
            await add_usage(server.team.pool, [("", "chats", day_of(time.time()), 1, 0, 1234.0)])
            token = await chatter(team_db, "anna", [], admin=True)
            # The console has no budget of its own: the figure is the team's, from the server.
            app, running = await build_console(Settings(), team=(server.server.url, token))
            app.open_delay = 0
            try:
                async with app.run_test(size=(120, 36)) as pilot:
                    status = app.chats_screen.query_one(StatusLine)

                    def shown() -> str:
                        rendered = status.render()
                        return rendered.plain if isinstance(rendered, Content) else str(rendered)

                    await until(app, pilot, lambda: "/5,000 this month" in shown())
                    found = re.search(r"credits ([\d,]+)/5,000 this month", shown())
                    assert found is not None, shown()
                    await server.team.credits.flush()
                    total = await month_total(server.team.pool, cycle_of(time.time()))
            finally:
                await running.stop()
    finally:
        await gateway.aclose()
    assert 1234 <= int(found.group(1).replace(",", "")) <= math.ceil(total)
