"""Keys typed ahead: several keys in one read from the terminal (a paste, a fast typist over
SSH). A form whose Enter moves to the next field moved focus only after the keys already read
were handed out, so they landed in the field just left ("1sti" in the minutes field)."""

from __future__ import annotations

from datetime import timedelta

from support.fakes_tui import MemorySource
from support.tui import burst, calls, press, running, until
from textual.widgets import Input

from console.tui.chat_list import ChatList
from console.tui.composer import Composer
from console.tui.followup import FollowUpForm
from console.tui.profile import ListPicker, NoteEditor
from console.tui.script_picker import ScriptPicker
from console.tui.vault_picker import VaultPicker


async def test_keys_typed_ahead_in_the_follow_up_form_land_in_their_fields() -> None:
    source = MemorySource(accounts=1, chats_per_account=3, messages_per_chat=2)
    async with running(source) as (app, pilot, _source):
        await press(app, pilot, "F")
        assert isinstance(app.screen, FollowUpForm)
        burst(app, "1", "5", "enter", *"still there?", "enter")
        await until(app, pilot, lambda: bool(source.follow_up_rows))
        (row,) = source.follow_up_rows
        assert row.text == "still there?"
        assert row.due == app.clock() + timedelta(minutes=15)


async def test_a_price_typed_ahead_in_the_vault_picker_is_the_price() -> None:
    source = MemorySource(accounts=1, chats_per_account=3, messages_per_chat=2)
    async with running(source) as (app, pilot, _source):
        await press(app, pilot, "r", *"new set", "ctrl+g")
        await until(app, pilot, lambda: isinstance(app.screen, VaultPicker) and app.screen.loaded)
        burst(app, "enter", "1", "5", "enter")  # tick the item under the cursor, price, attach
        await until(app, pilot, lambda: not isinstance(app.screen, VaultPicker))
        composer = app.query_one(Composer)
        assert composer.media is not None
        assert "PPV $15.00" in composer._border_title.plain  # type: ignore[union-attr]


async def test_a_script_filtered_and_chosen_in_one_burst_is_the_one_filtered() -> None:
    source = MemorySource(accounts=1, chats_per_account=3, messages_per_chat=2)
    async with running(source) as (app, pilot, _source):
        await press(app, pilot, "r", "ctrl+t")
        assert isinstance(app.screen, ScriptPicker)
        burst(app, *"busy", "enter")  # the example set's "Busy, back soon", not the first
        await until(app, pilot, lambda: not isinstance(app.screen, ScriptPicker))
        composer = app.query_one(Composer)
        await until(app, pilot, lambda: composer.text.startswith("Give me a little bit"))


async def test_a_tick_and_enter_in_one_burst_apply_the_tick() -> None:
    source = MemorySource(accounts=1, chats_per_account=3, messages_per_chat=2)
    async with running(source) as (app, pilot, _source):
        await press(app, pilot, "L")
        assert isinstance(app.screen, ListPicker)
        first = app.screen.choices[0]
        burst(app, "space", "enter")
        await until(app, pilot, lambda: bool(calls(source, "list")))
        assert calls(source, "list") == [
            (app.chats_screen.account_id, app.chats_screen.fan_id, first.list_id, not first.member)
        ]


async def test_text_typed_ahead_of_an_account_key_stays_in_its_chat() -> None:
    """alt+N is a priority key too, but the switch it asks for goes through the tab bar's
    message, behind the composer's keys: this holds without waiting (a guard, kept)."""
    source = MemorySource(accounts=2, chats_per_account=3, messages_per_chat=2)
    async with running(source) as (app, pilot, _source):
        first = (app.chats_screen.account_id, app.chats_screen.chat_id)
        await press(app, pilot, "r")
        burst(app, *"hello", "alt+2")
        await until(
            app, pilot, lambda: app.chats_screen.account_id == source._accounts[1].account_id
        )
        await app.settled()
        assert app.query_one(Composer).text == ""  # not in the other account's chat
        assert first[0] is not None and first[1] is not None
        assert await source.draft(*first) == "hello"


async def test_a_reply_typed_right_after_r_is_the_reply_not_more_keys() -> None:
    """ "r" then the text, read in one burst: the letters were keys of the list (a opened the
    automations, l liked, p pinned, m muted, q quit) until the composer had the focus."""
    source = MemorySource(accounts=1, chats_per_account=3, messages_per_chat=2)
    async with running(source) as (app, pilot, _source):
        assert not isinstance(app.focused, Composer)
        burst(app, "r", *"all lol, play more maybe", "enter")
        await until(app, pilot, lambda: bool(calls(source, "send")))
        ((_account, _chat, text, _quoted),) = calls(source, "send")
        assert text == "all lol, play more maybe"
        assert app.screen is app.chats_screen
        acted = {kind for kind, _args in source.calls} - {"send", "typing", "read", "draft"}
        assert not acted & {"like", "unlike", "pin", "unpin", "mute", "unmute"}


async def test_a_note_and_a_name_typed_right_after_their_key_land_in_their_box() -> None:
    source = MemorySource(accounts=1, chats_per_account=6, messages_per_chat=2)
    async with running(source) as (app, pilot, _source):
        burst(app, "N", *"loves puns")

        def note() -> str:
            editors = app.query(NoteEditor)
            return editors.first().text if editors else ""

        await until(app, pilot, lambda: note() == "loves puns")
        await press(app, pilot, "escape")  # saved; back to where the chatter was
        name = app.query_one(ChatList).rows[4].fan_name
        burst(app, "s", *name[:4])
        names = app.query_one("#search", Input)
        await until(app, pilot, lambda: names.value == name[:4])


async def test_an_account_name_typed_right_after_g_goes_to_the_switcher() -> None:
    """A screen a key opens gets the keys read with it (the screen hands them to its text
    box once mounted): a guard for the app's running of bindings as keys are read."""
    source = MemorySource(accounts=5, chats_per_account=3, messages_per_chat=2)
    async with running(source) as (app, pilot, _source):
        target = source._accounts[3]
        burst(app, "g", *target.name.lower(), "enter")
        await until(app, pilot, lambda: app.chats_screen.account_id == target.account_id)


def test_the_app_runs_bindings_at_once_only_for_widgets_that_do_not_read_keys() -> None:
    """A text box, and a select's type-to-search, read keys before any binding: there a
    letter stays text (``q`` in an open select is a search, not quit)."""
    from textual.widgets import OptionList, SelectionList, TextArea
    from textual.widgets._select import SelectOverlay

    from console.tui.key_order import reads_keys
    from console.tui.queue import QueueList
    from console.tui.thread import Thread

    def widget(cls: type) -> object:
        return cls.__new__(cls)

    for reader in (Input, TextArea, Composer, NoteEditor, SelectOverlay):
        assert reads_keys(widget(reader)), reader  # type: ignore[arg-type]
    for other in (ChatList, Thread, QueueList, OptionList, SelectionList):
        assert not reads_keys(widget(other)), other  # type: ignore[arg-type]
