"""Fan-controlled text (names, messages, notes, lists, tiers, errors, tab labels) is shown as
plain text everywhere: nothing styled by it, nothing clickable, nothing crashed."""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from support.fakes_tui import FIXED_NOW, hostile_source
from support.tui import keep_notices
from textual.content import Content
from textual.widgets import Static

from console.api.models import Account
from console.sandbox.hostile import HOSTILE_STRINGS
from console.tui.account_tabs import AccountTabs
from console.tui.app import make_app
from console.tui.chat_list import ROW_LINES, ChatList
from console.tui.profile import FanProfile
from console.tui.text import clean
from console.tui.thread import Thread

VISIBLE = [clean(s, one_line=True) for s in HOSTILE_STRINGS]


def _no_actions(segments: list[Segment]) -> None:
    for segment in segments:
        style = segment.style
        if style is None:
            continue
        assert not style.link, segment
        meta = style.meta or {}
        assert "@click" not in meta, segment


def _content_is_plain(content: Any) -> None:
    if isinstance(content, Content):
        for span in content.spans:
            assert "@click" not in str(span.style) and "link" not in str(span.style), span


async def test_hostile_strings_render_literally_everywhere() -> None:
    source = hostile_source(HOSTILE_STRINGS, accounts=2, chats_per_account=12)
    # A hostile account label too (a tab label).
    source._accounts[1] = Account(
        account_id=source._accounts[1].account_id, name="[@click=app.quit]tab[/]"
    )
    source._chats[source._accounts[1].account_id] = source._chats.pop(
        source._accounts[1].account_id
    )
    app = keep_notices(make_app(source, clock=lambda: FIXED_NOW))
    app.open_delay = 0
    async with app.run_test(size=(140, 40)) as pilot:
        await app.settled()
        await pilot.pause()
        chat_list = app.query_one(ChatList)
        lines = [chat_list.render_line(y) for y in range(chat_list.size.height)]
        text = "\n".join(line.text for line in lines)
        for line in lines:
            _no_actions(list(line))
        for shown in ("[/]", "[0]", "[@click=app.quit]x[/]", "[bold unclosed", "[red]red?"):
            assert shown in text, shown
        assert "\x1b" not in text and "\u202e" not in text and "\u200b" not in text

        # Walk the first chats: thread, profile, title; every Static holds plain Content.
        for _ in range(len(HOSTILE_STRINGS)):
            for widget in app.screen.query(Static):
                _content_is_plain(widget.visual)
            thread = app.query_one(Thread)
            for view in thread.message_views:
                rendered = str(view.render())
                assert "\x1b" not in rendered and "\u202e" not in rendered
            await pilot.press("down")
            await app.settled()
            await pilot.pause()
        profile_text = str(app.query_one(FanProfile).query_one("#profile-body", Static).render())
        assert any(v in profile_text for v in VISIBLE)

        # The first chat holds every hostile string as a message (and quotes of them).
        first = source._chats[source._accounts[0].account_id][0]
        app.chats_screen.jump_to(source._accounts[0].account_id, first.chat_id)
        await app.settled()
        await pilot.pause()
        thread_text = "\n".join(str(v.render()) for v in app.query_one(Thread).message_views)
        for shown in VISIBLE[:5]:
            assert shown in thread_text, shown

        # Tab labels are plain; clicking around hostile text does not run actions.
        tabs = app.query_one(AccountTabs)
        assert "[@click=app.quit]tab[/]" in "".join(tabs.names)
        assert "[@click=app.quit]tab[/]" in tabs.render_line(0).text  # drawn as typed
        await pilot.click(ChatList, offset=(4, 4 * ROW_LINES))
        for x in range(0, tabs.size.width, 3):
            await pilot.click(AccountTabs, offset=(x, 0))
        await pilot.click(AccountTabs, offset=(2, 0))  # back to the first account
        await app.settled()
        assert app.is_running

        # Error texts and toasts: an action that fails with a hostile message.
        async def explode(*_: object) -> None:
            raise RuntimeError("[@click=app.quit]boom[/] \x1b[31mred")

        source.set_like = explode  # type: ignore[method-assign]
        app.query_one(Thread).focus()
        await pilot.press("l")
        await app.settled()
        await pilot.pause()
        errors = [n.message for n in app._notifications if n.severity == "error"]
        assert errors and errors[-1] == "[@click=app.quit]boom[/] red"
        assert all(not n.markup for n in app._notifications)
        assert app.is_running


def test_an_unterminated_osc_drops_only_the_escape() -> None:
    # A terminal ends an OSC at BEL or ST; with neither, only the escape itself goes, the
    # text after it stays (it used to hide the rest of the message).
    assert clean("before \x1b]0;never closed and after") == "before 0;never closed and after"
    assert clean("a \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ b") == "a link b"
    assert clean("a \x1b]0;title\x07b") == "a b"
    assert clean("a \x1b]52;c;aGk=\x9cb") == "a b"
    assert clean("a \x1b]0;cut \x1b[31mred") == "a 0;cut red"


async def test_an_unterminated_osc_does_not_hide_the_rest_of_the_message() -> None:
    text = "see \x1b]0;no end here, and the rest of the message stays"
    source = hostile_source([text], accounts=1, chats_per_account=2)
    app = keep_notices(make_app(source, clock=lambda: FIXED_NOW))
    app.open_delay = 0
    async with app.run_test(size=(140, 40)) as pilot:
        await app.settled()
        await pilot.pause()
        first = source._chats[source._accounts[0].account_id][0]
        app.chats_screen.jump_to(source._accounts[0].account_id, first.chat_id)
        await app.settled()
        await pilot.pause()
        shown = "\n".join(str(v.render()) for v in app.query_one(Thread).message_views)
        assert "and the rest of the message stays" in shown
        assert "\x1b" not in shown
