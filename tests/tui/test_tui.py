"""The console UI driven by the keys a chatter presses, on an in-memory source.

The in-memory source (``tests/support/fakes_tui.py``) publishes the same updates as the sync engine;
the sandbox-backed tests live in ``test_tui_sandbox.py``.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from support.fakes_tui import FIXED_NOW, MemorySource
from support.tui import calls, press, running
from textual.command import CommandList, CommandPalette

from console.changes import EventApplied
from console.events import Event, EventType, Provider
from console.tui.account_tabs import AccountTabs
from console.tui.chat_list import ChatList
from console.tui.composer import Composer
from console.tui.help_screen import HelpScreen
from console.tui.panes import ReplyBar
from console.tui.profile import FanProfile
from console.tui.source import MessageState
from console.tui.thread import DateSeparator, MessageView, Thread


async def test_opens_on_the_newest_chat_with_its_thread() -> None:
    async with running() as (app, _pilot, source):
        first = (await source.chats(app.chats_screen.account_id or "", "all", "", 0, 1))[0]
        assert app.chats_screen.chat_id == first.chat_id
        views = app.query_one(Thread).message_views
        assert views and views[-1].row.text == first.preview
        assert app.focused is app.query_one(ChatList)


async def test_reply_appears_pending_then_sent() -> None:
    async with running() as (app, pilot, source):
        await press(app, pilot, "down", "r", *"hi there", "enter")
        sent = calls(source, "send")
        assert sent == [(app.chats_screen.account_id, app.chats_screen.chat_id, "hi there", None)]
        last = app.query_one(Thread).message_views[-1]
        assert last.row.state is MessageState.PENDING
        assert "sending" in str(last.render())
        assert app.query_one(Composer).text == ""
        source.settle(
            app.chats_screen.account_id or "", app.chats_screen.chat_id or "", last.message_id
        )
        await app.settled()
        await pilot.pause()
        assert app.query_one(Thread).message_views[-1].row.state is MessageState.SENT


async def test_failed_message_shows_reason_and_retries() -> None:
    async with running() as (app, pilot, source):
        await press(app, pilot, "r", *"x", "enter")
        last = app.query_one(Thread).message_views[-1]
        source.settle(
            app.chats_screen.account_id or "",
            app.chats_screen.chat_id or "",
            last.message_id,
            "Insufficient credits",
        )
        await app.settled()
        await pilot.pause()
        view = app.query_one(Thread).message_views[-1]
        assert view.has_class("-failed") and "Insufficient credits" in str(view.render())
        await press(app, pilot, "escape", "e")
        assert calls(source, "retry") == [(app.chats_screen.account_id, view.message_id)]


async def test_e_retries_a_failed_message_of_the_page_not_yet_shown() -> None:
    # A chat opens with the messages that fill the thread; the failed reply further up its
    # page is still the one ``e`` retries.
    from console.tui.thread import FIRST_PAINT_MIN

    async with running() as (app, pilot, source):
        account, chat = app.chats_screen.account_id or "", app.chats_screen.chat_id or ""
        await press(app, pilot, "r", *"x", "enter")
        failed = app.query_one(Thread).message_views[-1].message_id
        source.settle(account, chat, failed, "Insufficient credits")
        for n in range(FIRST_PAINT_MIN + 2):
            source.receive(account, chat, f"later {n}")
        await app.settled()
        await press(app, pilot, "escape", "down", "up")  # away and back: the chat reopens
        assert app.chats_screen.chat_id == chat
        assert app.query_one(Thread).view_of(failed) is None  # held, not mounted
        await press(app, pilot, "e")
        assert calls(source, "retry") == [(account, failed)]


async def test_reply_to_the_selected_message() -> None:
    async with running() as (app, pilot, source):
        await press(app, pilot, "tab", "up", "up")
        assert app.focused is app.query_one(Thread)
        target = app.query_one(Thread).selected
        assert target is not None
        await press(app, pilot, "R")
        bar = app.query_one(ReplyBar)
        assert bar.display and target.row.text in str(bar.render())
        await press(app, pilot, *"yes!", "enter")
        assert calls(source, "send")[-1][3] == target.message_id
        assert not app.query_one(ReplyBar).display
        quoted = app.query_one(Thread).message_views[-1]
        assert target.row.text in str(quoted.render())


async def test_escape_cancels_reply_to() -> None:
    async with running() as (app, pilot, _source):
        await press(app, pilot, "tab", "R")
        assert app.query_one(ReplyBar).display
        await press(app, pilot, "escape")
        assert not app.query_one(ReplyBar).display and app.chats_screen.reply_to is None


async def test_like_pin_and_mute_keys() -> None:
    async with running() as (app, pilot, source):
        await press(app, pilot, "tab", "up")
        selected = app.query_one(Thread).selected
        assert selected is not None
        await press(app, pilot, "l", "p")
        assert calls(source, "like") == [(app.chats_screen.account_id, selected.message_id)]
        assert calls(source, "pin") == [(app.chats_screen.account_id, selected.message_id)]
        view = app.query_one(Thread).view_of(selected.message_id)
        assert view is not None and view.has_class("-pinned")
        assert "♥ 1 (you)" in str(view.render())
        assert app.query_one("#pinned").display
        await press(app, pilot, "l", "p")
        assert calls(source, "unlike") and calls(source, "unpin")
        await press(app, pilot, "m")
        assert calls(source, "mute") == [(app.chats_screen.account_id, app.chats_screen.fan_id)]
        assert "muted" in str(app.query_one("#thread-title").render())
        await press(app, pilot, "m")
        assert calls(source, "unmute") == [(app.chats_screen.account_id, app.chats_screen.fan_id)]


async def test_typing_indicator_is_throttled() -> None:
    now = [100.0]
    async with running() as (app, pilot, source):
        app.query_one(Composer).clock = lambda: now[0]
        await press(app, pilot, "r", *"hello there")
        assert len(calls(source, "typing")) == 1
        now[0] += 3.1
        await press(app, pilot, *"abc")
        assert len(calls(source, "typing")) == 2
        now[0] += 60  # idle: nothing is sent without a key
        await app.settled()
        assert len(calls(source, "typing")) == 2


async def test_empty_and_too_long_messages_are_refused() -> None:
    async with running() as (app, pilot, source):
        await press(app, pilot, "r", "enter")
        composer = app.query_one(Composer)
        composer.insert("x" * 5001)
        await press(app, pilot, "enter")
        assert calls(source, "send") == []
        notices = [n.message for n in app._notifications]
        assert any("empty" in n for n in notices) and any("5,000" in n for n in notices)


async def test_ctrl_j_makes_a_newline() -> None:
    async with running() as (app, pilot, source):
        await press(app, pilot, "r", "a", "ctrl+j", "b", "enter")
        assert calls(source, "send")[0][2] == "a\nb"


async def test_draft_per_chat_survives_switching() -> None:
    async with running() as (app, pilot, source):
        first = app.chats_screen.chat_id
        await press(app, pilot, "r", *"half written")
        await press(app, pilot, "escape", "escape", "down")
        assert app.chats_screen.chat_id != first
        assert source.drafts[(app.chats_screen.account_id or "", first or "")] == "half written"
        assert app.query_one(Composer).text == ""
        await press(app, pilot, "up")
        assert app.chats_screen.chat_id == first and app.query_one(Composer).text == "half written"


async def test_account_switching_keys_and_next_unread() -> None:
    async with running(MemorySource(chats_per_account=7, messages_per_chat=6)) as (
        app,
        pilot,
        source,
    ):
        accounts = [a.account_id for a in source.accounts()]
        await press(app, pilot, "alt+2")
        assert app.chats_screen.account_id == accounts[1]
        await press(app, pilot, "ctrl+pagedown")
        assert app.chats_screen.account_id == accounts[0]
        await press(app, pilot, "ctrl+pageup")
        assert app.chats_screen.account_id == accounts[1]
        seen = set()
        for _ in range(6):
            await press(app, pilot, "n")
            seen.add(app.chats_screen.account_id)
        assert seen == set(accounts)
        assert (await source.unread_counts())[accounts[0]] == 0


async def test_filter_and_incremental_search() -> None:
    async with running() as (app, pilot, _source):
        chat_list = app.query_one(ChatList)
        everyone = chat_list.total
        await press(app, pilot, "f")
        assert app.chats_screen.views[app.chats_screen.account_id or ""].filter == "unread"
        assert 0 < chat_list.total < everyone
        await press(app, pilot, "f")  # unanswered: the fans waiting for an answer
        assert app.chats_screen.views[app.chats_screen.account_id or ""].filter == "unanswered"
        assert 0 < chat_list.total < everyone
        assert all(r.waiting_since is not None for r in chat_list.rows.values())
        await press(app, pilot, "f", "f", "f")
        assert chat_list.total == everyone
        name = chat_list.rows[5].fan_name
        await press(app, pilot, "s", *name[:4])
        assert 0 < chat_list.total < everyone
        assert all(name[:4].casefold() in r.fan_name.casefold() for r in chat_list.rows.values())
        await press(app, pilot, "enter")
        assert app.focused is chat_list


async def test_live_message_updates_list_thread_and_badge() -> None:
    async with running() as (app, pilot, source):
        account = app.chats_screen.account_id or ""
        other = (await source.chats(account, "all", "", 5, 1))[0]
        source.receive(account, other.chat_id, "are you there?")
        await app.settled()
        await pilot.pause()
        chat_list = app.query_one(ChatList)
        assert chat_list.rows[0].chat_id == other.chat_id or chat_list.rows[0].pinned
        assert any(n.message.endswith("are you there?") for n in app._notifications)
        # The open chat: shown in the thread, kept at the bottom, not notified, marked read.
        before = len(app._notifications)
        source.receive(account, app.chats_screen.chat_id or "", "in the open chat")
        await app.settled()
        await pilot.pause()
        thread = app.query_one(Thread)
        assert thread.message_views[-1].row.text == "in the open chat"
        assert thread.at_bottom
        assert len(app._notifications) == before
        row = await source.chat(account, app.chats_screen.chat_id or "")
        assert row is not None and row.unread == 0


async def test_live_message_reaches_the_thread_while_a_modal_screen_is_open() -> None:
    # The help screen covers the main one: live updates must still reach its widgets.
    async with running() as (app, pilot, source):
        await press(app, pilot, "f1")
        assert isinstance(app.screen, HelpScreen)
        source.receive(
            app.chats_screen.account_id or "", app.chats_screen.chat_id or "", "while help was open"
        )
        await app.settled()
        await pilot.pause()
        await press(app, pilot, "escape")
        thread = app.query_one(Thread)
        assert thread.message_views[-1].row.text == "while help was open"
        assert app.query_one(ChatList).rows[0].chat_id == app.chats_screen.chat_id


async def test_old_news_updates_the_list_without_a_toast() -> None:
    # A hub catching a console up after hours closed must not pour out a toast per event.
    async with running() as (app, pilot, source):
        account = app.chats_screen.account_id or ""
        other = (await source.chats(account, "all", "", 5, 1))[0]
        before = len(app._notifications)
        source.receive(account, other.chat_id, "sent hours ago", at=FIXED_NOW - timedelta(hours=3))
        await app.settled()
        await pilot.pause()
        assert len(app._notifications) == before
        row = await source.chat(account, other.chat_id)
        assert row is not None and row.unread >= 1
        source.receive(account, other.chat_id, "just now")
        await app.settled()
        await pilot.pause()
        assert any(n.message.endswith("just now") for n in app._notifications)


def reader_sees(thread: Thread) -> tuple[str, int]:
    """The message at the top of the thread's view, and the row its top is on (negative:
    above the view, partly scrolled out)."""
    top = thread.content_region.y
    for view in thread.message_views:
        region = view.region
        if region and region.bottom > top:
            return view.row.key, region.y - top
    raise AssertionError("no message in view")


async def test_new_message_does_not_scroll_a_reader_who_scrolled_up() -> None:
    async with running() as (app, pilot, source):
        thread = app.query_one(Thread)
        thread.scroll_to(y=0, animate=False, immediate=True)
        await app.settled()
        await pilot.pause()
        seen = reader_sees(thread)
        source.receive(app.chats_screen.account_id or "", app.chats_screen.chat_id or "", "later")
        await app.settled()
        await pilot.pause()
        assert thread.message_views[-1].row.text == "later"
        assert reader_sees(thread) == seen and not thread.at_bottom


async def test_a_reader_who_scrolled_up_stays_put_while_the_page_joins_and_messages_come() -> None:
    # Up at the top of an opened chat, the rest of its page joins above, and new messages
    # arrive below in the same moment: what the reader looks at stays where it is, in the
    # frame the page joins in (no frame shows the page's top first).
    async with running() as (app, pilot, source):
        thread = app.query_one(Thread)
        account, chat = app.chats_screen.account_id or "", app.chats_screen.chat_id or ""
        first = thread.message_views[0]
        before = len(thread.message_views)
        thread.scroll_to(y=0, animate=False, immediate=True)
        source.receive(account, chat, "later")
        await pilot.pause()
        seen = reader_sees(thread)
        for n in range(3):
            source.receive(account, chat, f"and later {n}")
        frames: list[tuple[str, int]] = []
        app.screen.call_after_refresh(lambda: frames.append(reader_sees(thread)))
        await app.settled()
        await pilot.pause()
        assert len(thread.message_views) > before + 4  # the page joined, the messages came
        assert seen[0] == first.row.key and reader_sees(thread) == seen and not thread.at_bottom
        assert set(frames) <= {seen}


async def test_a_reader_who_scrolled_up_stays_put_while_older_messages_come_in_above() -> None:
    # A message that arrives late (a delayed webhook) belongs above what the reader looks at.
    source = MemorySource(accounts=1, chats_per_account=3, messages_per_chat=100)
    async with running(source) as (app, pilot, _source):
        thread = app.query_one(Thread)
        account, chat = app.chats_screen.account_id or "", app.chats_screen.chat_id or ""
        thread.focus()
        await press(app, pilot, *["up"] * (len(thread.message_views) + 8))
        seen = reader_sees(thread)
        at = thread.message_views[3].row.created_at + timedelta(seconds=1)
        source.receive(account, chat, "late", at=at)
        await app.settled()
        await pilot.pause()
        assert thread.message_views[4].row.text == "late"
        assert reader_sees(thread) == seen


async def test_paging_up_to_the_top_ends_where_it_was_going_as_the_page_joins() -> None:
    # PageUp scrolls with an animation; the rest of the page joins as it nears the top. The
    # reader ends at the top they paged to (the first message shown at opening, on its row),
    # not moved on by the animation's last frames nor by the page joining.
    source = MemorySource(accounts=1, chats_per_account=3, messages_per_chat=100)
    async with running(source) as (app, pilot, _source):
        thread = app.query_one(Thread)
        first = thread.message_views[0]
        row = first.virtual_region.y
        before = len(thread.message_views)
        thread.focus()
        for _ in range(10):
            await press(app, pilot, "pageup")
            if len(thread.message_views) > before:
                break
        assert len(thread.message_views) > before
        assert reader_sees(thread) == (first.row.key, row)


async def test_a_reader_at_the_top_of_a_full_window_is_not_moved_by_new_messages() -> None:
    # The window holds MAX_MESSAGES: a new message would push its top out, the message the
    # reader looks at. It is not shown until the reader goes down to the end (or presses End).
    from console.tui.thread import MAX_MESSAGES, PAGE

    source = MemorySource(accounts=1, chats_per_account=3, messages_per_chat=2 * PAGE)
    async with running(source) as (app, pilot, _source):
        thread = app.query_one(Thread)
        account, chat = app.chats_screen.account_id or "", app.chats_screen.chat_id or ""
        for n in range(MAX_MESSAGES - 2 * PAGE):
            source.receive(account, chat, f"burst {n}")
        await app.settled()
        first = (await source.latest_messages(account, chat, 500))[0].key
        for _ in range(5):  # up to the chat's first message (its pages join as it goes)
            thread.scroll_to(y=0, animate=False, immediate=True)
            await app.settled()
            await pilot.pause()
            if thread.message_views[0].row.key == first:
                break
        thread.scroll_to(y=0, animate=False, immediate=True)  # the page joined below the reader
        await app.settled()
        await pilot.pause()
        assert len(thread.message_views) == MAX_MESSAGES
        seen = reader_sees(thread)
        assert seen[0] == first
        source.receive(account, chat, "one more")
        await app.settled()
        await pilot.pause()
        assert reader_sees(thread) == seen
        thread.focus()
        await press(app, pilot, "end")
        assert thread.message_views[-1].row.text == "one more"


async def test_big_tip_raises_a_toast_and_rings_the_bell(monkeypatch: pytest.MonkeyPatch) -> None:
    async with running(tip_alert_dollars=20) as (app, pilot, source):
        rings: list[bool] = []
        monkeypatch.setattr(app, "bell", lambda: rings.append(True))
        account = app.chats_screen.account_id or ""
        other = (await source.chats(account, "all", "", 4, 1))[0]
        for millis in (5_000, 25_000):
            source.bus.publish(
                EventApplied(
                    Event(
                        type=EventType.TIP_RECEIVED,
                        provider=Provider.FANSLY_API,
                        name="tip.received",
                        idempotency_key=f"k{millis}",
                        account_id=account,
                        occurred_at=FIXED_NOW,
                        chat_id=other.chat_id,
                        amount_millis=millis,
                    )
                )
            )
        await app.settled()
        await pilot.pause()
        tips = [n.message for n in app._notifications if n.title == "Tip · Creator 1"]
        assert tips == [f"{other.fan_name} tipped $25.00"] and rings == [True]


async def test_profile_folds_away_at_80_columns_and_comes_back() -> None:
    async with running(size=(80, 24)) as (app, pilot, _source):
        profile = app.query_one(FanProfile)
        assert not profile.display
        await press(app, pilot, "i")
        assert profile.display
        await press(app, pilot, "i")
        assert not profile.display
    async with running(size=(120, 36)) as (app, pilot, _source):
        assert app.query_one(FanProfile).display
        # A terminal made narrower folds it too, and wider brings it back.
        await pilot.resize_terminal(80, 24)
        await app.settled()
        assert not app.query_one(FanProfile).display
        await pilot.resize_terminal(120, 36)
        await app.settled()
        assert app.query_one(FanProfile).display


async def test_keymap_remaps_bindings_and_help_shows_it() -> None:
    async with running(keymap={"like": "L"}) as (app, pilot, source):
        await press(app, pilot, "tab", "l")
        assert calls(source, "like") == []
        await press(app, pilot, "L")
        assert len(calls(source, "like")) == 1
        await press(app, pilot, "f1")
        body = str(app.screen.query_one("#help-body").render())
        assert "Like or unlike the selected message" in body
        line = next(li for li in body.splitlines() if "Like or unlike" in li)
        assert line.strip().startswith("L ")
        await press(app, pilot, "escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_every_binding_has_an_id_and_a_tooltip() -> None:
    async with running() as (app, _pilot, _source):
        for owner in (app, app.query_one(ChatList), app.query_one(Thread), app.query_one(Composer)):
            for binding in owner.BINDINGS:
                assert getattr(binding, "id", None), binding
        for binding in app.BINDINGS:
            assert binding.tooltip, binding  # type: ignore[union-attr]


async def test_palette_offers_actions_jump_to_chat_and_themes() -> None:
    async with running() as (app, pilot, source):
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for wanted in ("Like", "Pin", "Mute", "Next unread", "Reply to", "Theme"):
            assert wanted in titles
        second = source.accounts()[1].account_id
        target = (await source.chats(second, "all", "", 7, 1))[0]
        app.chats_screen.jump_to(second, target.chat_id)
        await app.settled()
        await pilot.pause()
        assert (app.chats_screen.account_id, app.chats_screen.chat_id) == (second, target.chat_id)


async def test_chats_actions_are_offered_and_act_only_over_the_chats() -> None:
    """Over another screen (help, search, automated messages) a chat action, from a key or
    the palette, would change a chat nobody is looking at."""
    async with running() as (app, pilot, source):
        await press(app, pilot, "tab")
        await press(app, pilot, "f1")
        assert isinstance(app.screen, HelpScreen)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Help" in titles and not {"Like", "Pin", "Mute", "Next unread"} & set(titles)
        await press(app, pilot, "l", "p")
        assert calls(source, "like") == [] and calls(source, "pin") == []
        await press(app, pilot, "escape")
        assert "Like" in [c.title for c in app.get_system_commands(app.screen)]
        await press(app, pilot, "l")
        assert len(calls(source, "like")) == 1


async def test_a_palette_command_acts_on_the_open_chat() -> None:
    async with running() as (app, pilot, source):
        await press(app, pilot, "tab", "ctrl+p", *"Like")
        commands = app.screen.query_one(CommandList)
        async with asyncio.timeout(10):
            while not commands.option_count:
                await pilot.pause(0.05)
        await press(app, pilot, "down", "enter")
        assert not isinstance(app.screen, CommandPalette)
        assert len(calls(source, "like")) == 1


async def test_themes_switch_and_carry_the_app_variables() -> None:
    async with running(theme="fansly-high-contrast") as (app, pilot, _source):
        assert app.theme == "fansly-high-contrast"
        assert app.theme_variables["unread-badge"] == "#ffff00"
        app.theme = "fansly-light"
        await pilot.pause()
        assert app.theme_variables["unread-badge"] == "#d6246e"
    async with running(theme="no-such-theme") as (app, _pilot, _source):
        assert app.theme == "fansly-dark"
        assert any("no-such-theme" in n.message for n in app._notifications)


async def test_a_chat_opens_with_the_messages_that_fill_it_and_the_rest_of_its_page_above() -> None:
    """Opening a chat mounts only the newest messages that fill the thread (each widget costs
    the opening ~1 ms); the rest of the page is mounted as the chatter goes up to it, as it is
    now (a change to a message while it was held shows), with the selection kept."""
    from console.tui.thread import FIRST_PAINT_MIN, PAGE

    source = MemorySource(accounts=1, chats_per_account=3, messages_per_chat=100)
    async with running(source) as (app, pilot, _source):
        account, chat = app.chats_screen.account_id or "", app.chats_screen.chat_id or ""
        page = await source.latest_messages(account, chat, PAGE)
        thread = app.query_one(Thread)
        views = thread.message_views
        assert FIRST_PAINT_MIN <= len(views) < PAGE
        assert [v.row.key for v in views] == [r.key for r in page[-len(views) :]]
        assert thread.max_scroll_y > 0  # they fill it: it scrolls
        held = page[0]
        await source.set_like(account, chat, held.key, True)
        await app.settled()
        thread.focus()
        # Up to the first message mounted: the thread scrolls to its top, the held part comes
        # in above it and the selection stays on the message the chatter went to.
        await press(app, pilot, *["up"] * (len(views) - 1))
        assert thread.selected is views[0]
        assert [v.row.key for v in thread.message_views[-PAGE:]] == [r.key for r in page]
        await press(app, pilot, "up")
        selected = thread.selected
        assert selected is not None and selected.row.key == page[-len(views) - 1].key
        assert selected.has_class("-selected") and not views[0].has_class("-selected")
        first = thread.view_of(held.key)
        assert first is not None and first.row.liked_by_creator and "(you)" in str(first.render())
        days = [s.day for s in thread.query(DateSeparator)]  # one per day, where they join too
        assert len(days) == len(set(days)) > 1


async def test_a_held_page_part_is_dropped_when_new_messages_push_the_window_top_out() -> None:
    from console.tui.thread import MAX_MESSAGES

    source = MemorySource(accounts=1, chats_per_account=3, messages_per_chat=100)
    async with running(source) as (app, pilot, _source):
        account, chat = app.chats_screen.account_id or "", app.chats_screen.chat_id or ""
        for n in range(MAX_MESSAGES):
            source.receive(account, chat, f"burst {n}")
        await app.settled()
        thread = app.query_one(Thread)
        for _ in range(4):  # up, and up again as older pages join (quicker than ~95 keys)
            thread.scroll_to(y=0, animate=False, immediate=True)
            await app.settled()
            await pilot.pause()
        assert len(thread.message_views) == MAX_MESSAGES
        everything = [r.key for r in await source.latest_messages(account, chat, 500)]
        shown = [v.row.key for v in thread.message_views]
        start = everything.index(shown[0])
        assert shown == everything[start : start + len(shown)]  # no gap, no repeat


async def test_older_messages_load_when_scrolling_up() -> None:
    source = MemorySource(accounts=1, chats_per_account=3, messages_per_chat=100)
    async with running(source) as (app, pilot, _source):
        thread = app.query_one(Thread)
        thread.focus()
        for _ in range(35):
            await pilot.press("up")
        await app.settled()
        await pilot.pause()
        assert len(thread.message_views) >= 60
        selected = thread.selected
        assert isinstance(selected, MessageView)
        assert selected.has_class("-selected")


async def test_a_tab_takes_the_name_the_gateway_lists_later() -> None:
    from console.api.models import Account
    from console.tui.messages import UnreadStale

    async with running() as (app, pilot, source):
        first = source._accounts[0]
        source._accounts[0] = Account(account_id=first.account_id, name="Renamed")
        app.chats_screen.post_message(UnreadStale())
        await app.settled()
        await pilot.pause()
        assert app.query_one(AccountTabs).names[0] == "Renamed"
