"""Issue 11: a reply never goes to the wrong fan, and what the chatter did shows at once.

On the in-memory source (its ``calls`` are what reached the "gateway"); the same on the demo
(real sandbox, store and outbox) is in ``test_tui_reply_sandbox.py``.
"""

from __future__ import annotations

import random

import pytest
from support.fakes_tui import MemorySource
from support.tui import calls, press, running

from console.tui.chat_list import ChatList
from console.tui.composer import Composer


def _header(app: object) -> str:
    composer = app.query_one(Composer)  # type: ignore[attr-defined]
    return str(composer.border_title or "")


@pytest.mark.parametrize("pause", [0.0, 0.05], ids=["applied-at-once", "applied-on-pause"])
async def test_fifty_events_reordering_the_list_never_misroute_a_reply(pause: float) -> None:
    """50 fans write while the chatter types and moves through the list: every Enter sends to
    the chat named in the composer's header at that moment, and the list's cursor stays on
    the chat it was on."""
    source = MemorySource(accounts=1, chats_per_account=60, messages_per_chat=4)
    rng = random.Random(11)
    async with running(source) as (app, pilot, _source):
        chat_list = app.query_one(ChatList)
        chat_list.reorder_pause = pause
        account = app.chats_screen.account_id or ""
        await press(app, pilot, "down", "down", "down", "enter")
        sent_before = 0
        moved = 0
        for event in range(50):
            # A fan (never the one being written to) writes: their chat jumps to the top.
            chats = await source.chats(account, "all", "", 0, 60)
            others = [c for c in chats if c.chat_id != app.chats_screen.chat_id]
            before = [r.chat_id for r in chats]
            source.receive(account, rng.choice(others).chat_id, f"event {event}")
            after = [r.chat_id for r in await source.chats(account, "all", "", 0, 60)]
            moved += before != after
            await pilot.press("m", str(event % 10))  # typed while the update is on its way
            if event % 5 == 4:
                header = _header(app)
                target = app.query_one(Composer).target
                assert target is not None
                await pilot.press("enter")
                await app.settled()
                sends = calls(source, "send")
                assert len(sends) == sent_before + 1
                sent_before += 1
                _account, chat_id, text, _reply_to = sends[-1]
                assert text.startswith("m")
                row = await source.chat(account, chat_id)  # type: ignore[arg-type]
                assert row is not None
                # The fan who got it is the one the header named when Enter was pressed.
                assert row.fan_name in header and f"@{row.fan_username}" in header, header
                assert chat_id == target.chat_id
            if event % 10 == 9:
                # Back to the list: its cursor is still on the open chat's row, wherever that
                # row went; one down and Enter opens (and binds) the chat below it.
                await press(app, pilot, "escape")
                assert app.focused is chat_list
                assert chat_list.selected is not None
                assert chat_list.selected.chat_id == app.chats_screen.chat_id
                await press(app, pilot, "down")
                below = chat_list.selected
                assert below is not None
                await press(app, pilot, "enter")
                assert app.chats_screen.chat_id == below.chat_id
                assert app.query_one(Composer).target.chat_id == below.chat_id  # type: ignore[union-attr]
                assert below.fan_name in _header(app)
        await app.settled()
        assert moved >= 25  # the list really did reorder under the chatter
        assert sent_before == 10


async def test_the_list_does_not_reorder_while_the_chatter_types() -> None:
    source = MemorySource(accounts=1, chats_per_account=30, messages_per_chat=4)
    async with running(source) as (app, pilot, _source):
        chat_list = app.query_one(ChatList)
        chat_list.reorder_pause = 2.0  # longer than the keys below take, even on a busy machine
        account = app.chats_screen.account_id or ""
        await press(app, pilot, "r", *"hello")
        order = [chat_list.rows[i].chat_id for i in sorted(chat_list.rows)]
        last = order[-1]
        source.receive(account, last, "me first!")
        await pilot.pause()
        await pilot.press("x")
        assert chat_list.holding
        assert [chat_list.rows[i].chat_id for i in sorted(chat_list.rows)] == order
        # The pause applies the new order.
        await app.settled()
        await pilot.pause()
        assert not chat_list.holding
        top = [r.chat_id for r in await source.chats(account, "all", "", 0, 3)]
        assert last in top
        assert chat_list.rows[top.index(last)].chat_id == last


async def test_header_names_fan_username_and_account() -> None:
    async with running() as (app, pilot, source):
        await press(app, pilot, "down", "enter")
        row = await source.chat(app.chats_screen.account_id or "", app.chats_screen.chat_id or "")
        assert row is not None
        header = _header(app)
        account = source.accounts()[0].name
        assert header.startswith("To ") and row.fan_name in header
        assert f"@{row.fan_username}" in header and account in header
        # On screen, on the composer's top edge.
        assert f"@{row.fan_username}" in app.export_screenshot()


async def test_a_long_message_shows_folded_and_x_unfolds_it() -> None:
    from console.tui.thread import FOLD_CHARS, UNFOLDED_CHARS, Thread

    source = MemorySource(accounts=1, chats_per_account=5, messages_per_chat=4)
    account = source.accounts()[0].account_id
    first = (await source.chats(account, "all", "", 0, 1))[0]
    huge = ("all work and no play " * 50_000)[:1_000_000]  # 1 MB, inside the webhook cap
    source.receive(account, first.chat_id, huge)
    async with running(source) as (app, pilot, _source):
        assert app.chats_screen.chat_id == first.chat_id
        thread = app.query_one(Thread)
        view = thread.message_views[-1]
        assert view.row.text == huge
        shown = str(view.render())
        assert "folded: 1,000,000 characters in all (x shows more)" in shown
        assert len(shown) < FOLD_CHARS + 300  # only the fold is laid out
        # The chat list's preview and the toast of the long message are bounded too.
        await press(app, pilot, "tab")
        assert app.focused is thread and thread.selected is view
        await press(app, pilot, "x")
        shown = str(view.render())
        assert f"{1_000_000 - UNFOLDED_CHARS:,} more characters not shown (x folds)" in shown
        assert len(shown) < UNFOLDED_CHARS + 300
        await press(app, pilot, "x")
        assert "folded" in str(view.render())
        # A short message has nothing to fold: x does nothing to it.
        await press(app, pilot, "up", "x")
        short = thread.selected
        assert short is not None and not short.unfolded and "folded" not in str(short.render())


async def test_header_shows_hostile_names_as_plain_text() -> None:
    from support.fakes_tui import hostile_source
    from textual.content import Content

    from console.sandbox.hostile import HOSTILE_STRINGS
    from console.tui.text import clean

    source = hostile_source(HOSTILE_STRINGS, accounts=1, chats_per_account=12)
    async with running(source) as (app, pilot, _source):
        shown: set[str] = set()
        for _ in range(len(HOSTILE_STRINGS)):
            composer = app.query_one(Composer)
            header = composer._border_title  # the Content on screen (the getter gives markup)
            assert isinstance(header, Content) and composer.target is not None
            assert not any("@click" in str(s.style) or "link" in str(s.style) for s in header.spans)
            assert "\x1b" not in header.plain and "\u202e" not in header.plain
            assert clean(composer.target.fan_name, one_line=True) in header.plain
            shown.add(header.plain)
            await press(app, pilot, "down")
        assert any("[@click=app.quit]x[/]" in text for text in shown)


async def test_two_enters_in_one_burst_send_once() -> None:
    """Both Enters handled by the composer before the screen handles the first send (keys
    arrive bunched over SSH or on a loaded machine): one send; this sent the text twice."""
    source = MemorySource(accounts=1, chats_per_account=3, messages_per_chat=2)
    async with running(source) as (app, pilot, _source):
        await press(app, pilot, "r", *"hello")
        composer = app.query_one(Composer)
        composer.action_send()
        composer.action_send()
        await app.settled()
        await pilot.pause()
        assert [args[2] for args in calls(source, "send")] == ["hello"]
        assert composer.text == ""
