"""The console's team UI (issue 18): the guard as a question, presence in the list and the
header, shared notes, history and search beyond the cache, the stats screen. A real team server
on PostgreSQL (its gateway: the sandbox), a real console through Pilot, a teammate ("ben")
through the team client."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from support.sync import set_faults
from support.team import Instance, chatter, instance
from support.tui import until as until_settled
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from console.api.client import FanslyClient
from console.api.models import Message
from console.config import Settings
from console.sandbox.server import SandboxServer
from console.team.client import TeamClient, TeamNotice
from console.tui.app import ConsoleApp
from console.tui.chat_list import ChatList
from console.tui.composer import Composer
from console.tui.hub_feed import HubFeed
from console.tui.launch import Running, build_console
from console.tui.profile import FanProfile
from console.tui.search import SearchScreen
from console.tui.team_screens import GuardQuestion, TeamStatsScreen, stats_rows
from console.tui.team_ui import TeamUI, guard_words
from console.tui.thread import Thread

#: A real client of a server that is not there (port 9 refuses): these tests never call it.
NOWHERE = TeamClient("http://127.0.0.1:9", "fct_0_nowhere")


async def until(pilot: Pilot[int], condition: Callable[[], bool]) -> None:
    await until_settled(pilot.app, pilot, condition)  # type: ignore[arg-type]


@dataclass
class Team:
    app: ConsoleApp
    pilot: Pilot[int]
    running: Running
    server: Instance
    sandbox: SandboxServer
    ben: TeamClient
    db: str

    @property
    def chat(self) -> tuple[str, str]:
        screen = self.app.chats_screen
        assert screen.account_id and screen.chat_id
        return screen.account_id, screen.chat_id

    @property
    def team(self) -> TeamUI:
        assert self.app.team is not None
        return self.app.team

    def sent(self, text: str) -> int:
        account, chat = self.chat
        messages = self.sandbox.world.accounts[account].chats[chat].messages
        return sum(1 for m in messages if m["content"] == text)

    async def type_and_send(self, text: str) -> None:
        composer = self.app.query_one(Composer)
        composer.focus()
        composer.load_text(text)
        await self.pilot.press("enter")


@contextlib.asynccontextmanager
async def team_console(team_db: str, sandbox: SandboxServer) -> AsyncIterator[Team]:
    """The console of "anna" on a team server, a chat open and the stream live; "ben" beside."""
    gateway = FanslyClient(sandbox.base_url, sandbox.api_key, requests_per_minute=100_000)
    try:
        async with instance(team_db, client=gateway, secrets=(sandbox.webhook_secret,)) as server:
            token = await chatter(team_db, "anna", [], admin=True)
            ben_token = await chatter(team_db, "ben", [], admin=True)
            app, running = await build_console(Settings(), team=(server.server.url, token))
            app.open_delay = 0
            try:
                async with (
                    app.run_test(size=(120, 36)) as pilot,
                    TeamClient(server.server.url, ben_token) as ben,
                ):
                    await until(pilot, lambda: app.chats_screen.chat_id is not None)
                    feed = next(s for s in app.services if isinstance(s, HubFeed))
                    await until(pilot, lambda: feed.state.state == "live")
                    yield Team(app, pilot, running, server, sandbox, ben, team_db)
            finally:
                await running.stop()
    finally:
        await gateway.aclose()


def question(app: ConsoleApp) -> GuardQuestion | None:
    return app.screen if isinstance(app.screen, GuardQuestion) else None


async def test_a_teammates_reply_makes_the_send_a_question_n_keeps_the_text_y_sends_once(
    team_db: str, sandbox_async: SandboxServer
) -> None:
    async with team_console(team_db, sandbox_async) as t:
        app, pilot = t.app, t.pilot
        _account, chat = t.chat
        assert (await t.ben.send(chat, "ben was here", confirm=True)).queued
        await t.type_and_send("hello from anna")
        await until(pilot, lambda: question(app) is not None)
        asked = question(app)
        assert asked is not None
        assert asked.question.startswith("ben replied ") and "s ago. Send anyway?" in asked.question
        # n: nothing was queued, the text is still in the composer.
        await pilot.press("n")
        await until(pilot, lambda: question(app) is None)
        assert app.query_one(Composer).text == "hello from anna"
        assert await t.running.workspace.store.outbox.counts(t.chat[0]) == (0, 0)
        # Enter twice in one burst (both posted before either is handled), then y: one
        # question, and it goes once, with the confirmation.
        composer = app.query_one(Composer)
        composer.action_send()
        composer.action_send()
        await until(pilot, lambda: question(app) is not None)
        await pilot.press("y")
        await until(pilot, lambda: t.sent("hello from anna") == 1)
        assert app.query_one(Composer).text == ""
        await asyncio.sleep(0.5)  # a second send would have been picked up by now
        assert t.sent("hello from anna") == 1
        assert question(app) is None


async def test_text_typed_while_the_server_is_asked_is_kept_and_n_puts_the_reply_before_it(
    team_db: str, sandbox_async: SandboxServer
) -> None:
    """Enter asks the team server first; a slow server (here: its presence table locked by
    another session) let the chatter type on, and that text was cleared with the sent reply.
    It stays; a "no" to the question puts the reply back before it."""
    async with team_console(team_db, sandbox_async) as t:
        app, pilot = t.app, t.pilot
        composer = app.query_one(Composer)
        locker = await asyncpg.connect(t.db)
        try:
            held = locker.transaction()
            await held.start()
            await locker.execute("LOCK TABLE presence IN ACCESS EXCLUSIVE MODE")
            composer.focus()
            composer.load_text("first reply")
            composer.action_send()  # Enter (Pilot would wait for the screen, which waits)
            # The server is being asked (the guard's read of who is here waits for the lock):
            # the chatter types on, into the composer, which takes keys while the chats screen
            # waits for the answer.
            asked = (
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND query LIKE '%JOIN chatters c ON c.id = p.chatter_id%'"
            )
            async with asyncio.timeout(10):
                while True:  # (Pilot's pause would wait for the screen, which waits)
                    # A transaction reads the activity once unless told to look again.
                    await locker.execute("SELECT pg_stat_clear_snapshot()")
                    if await locker.fetchval(asked):
                        break
                    await asyncio.sleep(0.02)
            composer.insert("next one")
            await held.rollback()
            await until(pilot, lambda: t.sent("first reply") == 1)
            assert composer.text == "next one"
            # A teammate replied: the question, "n", and the reply is back before the new text.
            _account, chat = t.chat
            assert (await t.ben.send(chat, "ben was here", confirm=True)).queued
            composer.load_text("second reply")
            await pilot.press("enter")
            await until(pilot, lambda: question(app) is not None)
            await pilot.press("n")
            await until(pilot, lambda: question(app) is None)
            assert composer.text == "second reply"
            assert t.sent("second reply") == 0
        finally:
            await locker.close()


async def test_e_sends_again_a_reply_the_gateway_refused_through_the_team_server(
    team_db: str, sandbox_async: SandboxServer
) -> None:
    """The gateway refused a reply (the team outbox failed it): the thread shows it failed,
    and `e` sends it, once. The team server took the retry for a duplicate before."""
    async with team_console(team_db, sandbox_async) as t:
        app, pilot = t.app, t.pilot
        store = t.running.workspace.store
        await set_faults(t.sandbox, {"route": "send_message", "status": 400})
        await t.type_and_send("said twice?")
        async with asyncio.timeout(20):
            while await store.outbox.counts(t.chat[0]) != (0, 1):  # failed, shown
                await pilot.pause(0.05)
        app.query_one(Thread).focus()
        await pilot.press("e")
        await until(pilot, lambda: t.sent("said twice?") == 1)
        async with asyncio.timeout(20):
            while await store.outbox.counts(t.chat[0]) != (0, 0):
                await pilot.pause(0.05)
        assert t.sent("said twice?") == 1


async def test_two_chatters_racing_a_reply_one_is_asked(
    team_db: str, sandbox_async: SandboxServer
) -> None:
    async with team_console(team_db, sandbox_async) as t:
        app, pilot = t.app, t.pilot
        _account, chat = t.chat
        composer = app.query_one(Composer)
        composer.focus()
        composer.load_text("anna's answer")
        ben_send, _ = await asyncio.gather(t.ben.send(chat, "ben's answer"), pilot.press("enter"))
        store = t.running.workspace.store

        async def console_settled() -> bool:
            if question(app) is not None:
                return True
            pending, _failed = await store.outbox.counts(t.chat[0])
            return t.sent("anna's answer") == 1 and pending == 0

        async with asyncio.timeout(20):
            while not await console_settled():
                await pilot.pause(0.05)
        console_asked = question(app) is not None
        # Exactly one of the two was asked (the keyboard's question, or the server's answer to
        # the queued send turned into the same question); the other's reply went.
        assert console_asked != (not ben_send.queued), (console_asked, ben_send)
        if console_asked:
            asked = question(app)
            assert asked is not None and "ben" in asked.question
            await pilot.press("y")
            await until(pilot, lambda: t.sent("anna's answer") == 1)
        else:
            assert ben_send.others and ben_send.others[0]["name"] == "anna"
        await until(pilot, lambda: t.sent("ben's answer") == int(ben_send.queued))
        await asyncio.sleep(0.5)
        assert t.sent("anna's answer") == 1


async def test_presence_shows_in_the_list_and_the_header_within_a_second(
    team_db: str, sandbox_async: SandboxServer
) -> None:
    async with team_console(team_db, sandbox_async) as t:
        app, pilot = t.app, t.pilot
        account, chat = t.chat
        chat_list = app.query_one(ChatList)
        title = app.query_one("#thread-title", Static)

        def row_text() -> str:
            index = next(i for i, r in chat_list.rows.items() if r.chat_id == chat)
            return "".join(
                chat_list.render_line(i - int(chat_list.scroll_y)).text
                for i in (2 * index, 2 * index + 1)
            )

        # This console said where it is: ben sees anna in the chat.
        async with asyncio.timeout(10):
            while not (await t.ben.chat_presence(chat))["presence"]:
                await pilot.pause(0.05)
        assert [p["name"] for p in (await t.ben.chat_presence(chat))["presence"]] == ["anna"]
        loop = asyncio.get_running_loop()
        started = loop.time()
        await t.ben.presence(chat, typing=True)
        await until(pilot, lambda: "ben is typing…" in row_text())
        await until(pilot, lambda: "ben is typing…" in str(title.render()))
        took = loop.time() - started
        assert took < 2.0, took  # the "within 1 s", with room for a loaded machine
        await t.ben.presence(chat, typing=False)
        await until(pilot, lambda: "ben" in row_text() and "typing" not in row_text())
        await t.ben.presence(None)
        await until(pilot, lambda: "ben" not in row_text())
        assert "ben" not in str(title.render())
        assert account


async def test_shared_notes_in_the_profile_pane_both_ways(
    team_db: str, sandbox_async: SandboxServer
) -> None:
    async with team_console(team_db, sandbox_async) as t:
        app, pilot = t.app, t.pilot
        account, _chat = t.chat
        fan = app.chats_screen.fan_id
        assert fan is not None
        profile = app.query_one(FanProfile)
        note_text = app.query_one("#note-text", Static)
        await until(pilot, lambda: "none yet" in str(note_text.render()))
        await t.ben.add_note(account, fan, "prefers [b]mornings[/b]")
        await until(pilot, lambda: "prefers [b]mornings[/b]" in str(note_text.render()))
        assert "ben" in str(note_text.render())
        # N adds one for the team (the editor starts empty); ben reads it at once.
        await pilot.press("N")
        await until(pilot, lambda: profile.editing)
        editor = app.query_one("#note-editor")
        assert editor.text == ""  # type: ignore[attr-defined]
        editor.insert("asked about a custom video")  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "custom video" in str(note_text.render()))
        notes = await t.ben.notes(account, fan)
        assert [(n["author"], n["text"]) for n in notes] == [
            ("ben", "prefers [b]mornings[/b]"),
            ("anna", "asked about a custom video"),
        ]
        assert any("Note added for the team." in str(n.message) for n in app._notifications)


async def test_the_stats_screen_shows_the_servers_numbers_per_period(
    team_db: str, sandbox_async: SandboxServer
) -> None:
    async with team_console(team_db, sandbox_async) as t:
        app, pilot = t.app, t.pilot
        _account, chat = t.chat
        assert (await t.ben.send(chat, "a reply for the stats", confirm=True, wait=True)).queued
        app.chats_screen.query_one(ChatList).focus()
        await pilot.press("T")
        await until(pilot, lambda: isinstance(app.screen, TeamStatsScreen))
        screen = app.screen
        assert isinstance(screen, TeamStatsScreen)
        table = screen.query_one(DataTable)
        await until(pilot, lambda: table.row_count == 2)
        rows = {str(table.get_row_at(i)[0]): table.get_row_at(i) for i in range(2)}
        assert str(rows["ben"][1]) == "1" and str(rows["anna"][1]) == "0"
        expected = stats_rows(await t.ben.stats("8h"))  # the server's numbers, laid out
        assert sorted(tuple(str(c) for c in r) for r in rows.values()) == sorted(expected)
        await pilot.press("tab")
        await until(pilot, lambda: "Day" in str(screen.query_one("#stats-state").render()))
        await pilot.press("tab")
        await until(pilot, lambda: "Week" in str(screen.query_one("#stats-state").render()))
        await until(pilot, lambda: table.row_count == 2)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.chats_screen)


def test_presence_labels_and_the_question_are_plain_bounded_text() -> None:
    now = [100.0]

    team = TeamUI(NOWHERE, None, me="anna", accounts=[], clock=lambda: now[0])  # type: ignore[arg-type]

    def notice(who: str, chat: str | None, typing: bool) -> TeamNotice:
        return TeamNotice(1, "presence", "acc", chat, {"chatter": who, "typing": typing})

    team.notice(notice("[red]x\x1b[2J" + "y" * 100, "c1", False))
    label = team.label("c1")
    assert "\x1b" not in label and label.startswith("[red]x") and len(label) <= 24
    team.notice(notice("anna", "c1", True))  # this console's own presence: not shown
    assert "anna" not in team.label("c1")
    team.notice(notice("ben", "c1", True))
    assert team.label("c1").startswith("ben is typing…")
    now[0] += 7  # typing ages out before presence does
    assert "typing" not in team.label("c1")
    now[0] += 60
    assert team.label("c1") == ""
    words = guard_words([{"name": "ben", "sent_seconds_ago": 12}, {"name": "cy", "typing": True}])
    assert words == "ben replied 12 s ago and cy is typing here"


async def test_older_history_and_search_come_from_the_server_past_the_cache(
    team_db: str, sandbox_async: SandboxServer
) -> None:
    # The biggest chat's oldest message says a word found nowhere else.
    account_id = next(iter(sandbox_async.world.accounts))
    creator = sandbox_async.world.accounts[account_id]
    chat_id = max(creator.chats, key=lambda c: len(creator.chats[c].messages))
    oldest = min(creator.chats[chat_id].messages, key=lambda m: m["createdAt"])
    oldest["content"] = "the zebrafinch photo set"
    async with team_console(team_db, sandbox_async) as t:
        app, pilot = t.app, t.pilot
        app.chats_screen.jump_to(account_id, chat_id)
        thread = app.query_one(Thread)
        await until(pilot, lambda: thread.chat_id == chat_id and bool(thread.message_views))

        async def cached() -> int:
            return len(await app.source.latest_messages(account_id, chat_id, 1000))

        before = await cached()
        assert before < len(creator.chats[chat_id].messages)
        shown = len(thread.message_views)
        thread.load_older()
        await until(pilot, lambda: len(thread.message_views) > shown)
        assert await cached() > before  # written into the cache: shown offline from now on
        # Search: the cache does not know the oldest message; the team server does.
        async for _page in _pages(t.ben, chat_id):  # the server pages in the whole history
            pass
        assert not await app.source.search("zebrafinch", 50)
        app.chats_screen.action_find()
        await until(pilot, lambda: bool(app.screen.query("#search-query")))
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        screen.query_one("#search-query", Input).value = "zebrafinch"
        await until(pilot, lambda: "0 found" in str(screen.query_one("#search-count").render()))
        await pilot.press("ctrl+t")
        await until(pilot, lambda: bool(screen.results))
        assert [r.message_id for r in screen.results] == [oldest["id"]]
        assert "the team server had 1" in str(screen.query_one("#search-count").render())
        # The server gone: the search and the history answer from the cache, and say so.
        t.team.client = TeamClient("http://127.0.0.1:9", "fct_0_gone")
        await pilot.press("ctrl+t")
        await until(
            pilot,
            lambda: "cannot be reached" in str(screen.query_one("#search-count").render()),
        )
        assert [r.message_id for r in screen.results] == [oldest["id"]]
        first = thread.message_views[0].row.created_at
        assert await t.team.fetch_older(account_id, chat_id, first) == 0


async def _pages(ben: TeamClient, chat_id: str) -> AsyncIterator[list[dict[str, Any]]]:
    before = None
    while page := await ben.messages(chat_id, before=before, limit=100):
        yield page
        times = [Message.model_validate(item["message"]).created_at for item in page]
        before = min(t for t in times if t is not None).isoformat()


def test_a_teammates_heartbeat_is_no_news_typing_again_is() -> None:
    now = [0.0]

    team = TeamUI(NOWHERE, None, me="you", accounts=[], clock=lambda: now[0])  # type: ignore[arg-type]

    def seen(chat: str | None, typing: bool = False) -> bool:
        return team.notice(
            TeamNotice(1, "presence", "a", chat, {"chatter": "anna", "typing": typing})
        )

    assert seen("c1")  # she opened the chat: news
    now[0] += 10
    assert not seen("c1")  # her console's heartbeat: no news
    assert seen("c1", typing=True)  # she types: news
    assert not seen("c1", typing=True)  # still typing
    now[0] += 7
    assert seen("c1", typing=True)  # typing again after a pause
    assert seen("c2")  # another chat
