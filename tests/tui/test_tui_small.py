"""Issue 11, item 8: the small things a chatter hits every hour, each on the in-memory source
through the keys they press."""

from __future__ import annotations

import pytest
from support.fakes_tui import MemorySource
from support.tui import press, running, until
from textual.widgets import Input, OptionList, SelectionList, Static
from textual.widgets._footer import FooterKey

from console.api.models import TriggerType
from console.changes import SyncProgress
from console.tui.account_tabs import AccountTabs
from console.tui.app import ConsoleApp
from console.tui.automation_form import AutomationForm
from console.tui.chat_list import ChatList
from console.tui.commands import JumpToChat
from console.tui.help_screen import HelpScreen
from console.tui.panes import StatusLine
from console.tui.profile import ListPicker


def blank_name(source: MemorySource, account_id: str, index: int) -> str:
    """Give the fan of the account's ``index``-th chat an empty display name; its chat id."""
    chat = source._chats[account_id][index]
    chat.fan = chat.fan.model_copy(update={"display_name": ""})
    return chat.chat_id


def rename(source: MemorySource, account_id: str, index: int, name: str) -> str:
    chat = source._chats[account_id][index]
    chat.fan = chat.fan.model_copy(update={"display_name": name})
    return chat.chat_id


def account_name(app: ConsoleApp, account_id: str) -> str:
    return next(a.name for a in app.chats_screen.accounts if a.account_id == account_id)


# -- toasts ------------------------------------------------------------------------------------


async def test_toasts_name_the_account_and_the_fan_or_their_username() -> None:
    async with running() as (app, pilot, source):
        other_account = source.accounts()[1].account_id
        named = source._chats[other_account][4]
        source.receive(other_account, named.chat_id, "hello from the other tab")
        blank = blank_name(source, other_account, 6)
        username = source._chats[other_account][6].fan.username
        source.receive(other_account, blank, "who am I")
        await app.settled()
        await pilot.pause()
        toasts = {n.message: n.title for n in app._notifications}
        creator = account_name(app, other_account)
        first = next(m for m in toasts if m.endswith("hello from the other tab"))
        assert first.startswith(named.fan.name) and creator in toasts[first]
        second = next(m for m in toasts if m.endswith("who am I"))
        assert second.startswith(f"@{username}:") and creator in toasts[second]


async def test_a_blank_named_fan_is_their_username_in_the_list_title_and_thread() -> None:
    source = MemorySource()
    account_id = source.accounts()[0].account_id
    newest = (await source.chats(account_id, "all", "", 0, 1))[0].chat_id  # open at start
    index = next(i for i, c in enumerate(source._chats[account_id]) if c.chat_id == newest)
    chat_id = blank_name(source, account_id, index)
    username = source._chats[account_id][index].fan.username
    async with running(source) as (app, _pilot, _source):
        assert app.chats_screen.chat_id == chat_id
        chat_list = app.query_one(ChatList)
        first_row = "".join(s.text for s in chat_list.render_line(0))
        assert f"@{username}" in first_row
        title = app.query_one("#thread-title", Static).render()
        assert str(title).startswith(f"@{username}")
        assert (
            app.chats_screen.fan_name == f"@{username}"
        )  # the thread's sender name, the mute toast


async def test_mute_toast_names_the_account_and_the_fan() -> None:
    async with running() as (app, pilot, _source):
        await press(app, pilot, "m")
        toast = list(app._notifications)[-1]
        assert toast.message.startswith("Muted ") and app.chats_screen.fan_name in toast.message
        assert account_name(app, app.chats_screen.account_id or "") in toast.message


# -- what the marks mean -----------------------------------------------------------------------


async def test_waiting_time_and_tab_badge_are_explained_in_help_and_tooltips() -> None:
    async with running(waiting_alert_minutes=25) as (app, pilot, _source):
        chat_list = app.query_one(ChatList)
        assert chat_list.tooltip and "waits" in str(chat_list.tooltip)
        tabs = app.query_one("#accounts", AccountTabs)
        assert tabs.tooltip and "unread" in str(tabs.tooltip)
        await press(app, pilot, "f1")
        assert isinstance(app.screen, HelpScreen)
        legend = str(app.screen.query_one("#help-legend", Static).render())
        assert "unanswered message" in legend and "25 min" in legend
        assert "number after an account's name" in legend


# -- footer and status line --------------------------------------------------------------------


def assert_help_key_visible(app: ConsoleApp, width: int) -> None:
    keys = list(app.screen.query(FooterKey))
    help_key = next(k for k in keys if k.action == "help")
    assert 0 <= help_key.region.x and help_key.region.right <= width
    # Nothing docked over it (the palette key sits at the right edge).
    for other in keys:
        if other is not help_key and other.styles.dock == "right":
            assert other.region.x >= help_key.region.right


@pytest.mark.parametrize("width", [120, 80, 60])
async def test_footer_keeps_f1_help_visible(width: int) -> None:
    async with running(size=(width, 24)) as (app, pilot, _source):
        await pilot.pause()
        assert_help_key_visible(app, width)


async def test_status_line_says_what_the_request_budget_is() -> None:
    async with running() as (app, _pilot, _source):
        text = str(app.query_one(StatusLine).render())
        assert "req left" not in text
        assert "API calls left this minute" in text
        assert "per-minute request budget" in str(app.query_one(StatusLine).tooltip)


async def test_a_sync_that_stopped_is_said_once_and_no_longer_shown_running() -> None:
    async with running() as (app, pilot, source):
        account_id = source.accounts()[0].account_id
        status = app.query_one(StatusLine)
        source.bus.publish(SyncProgress(account_id, 300, 301, phase="messages"))
        await until(app, pilot, lambda: "⟳ sync 300/301" in str(status.render()))
        source.bus.publish(SyncProgress(account_id, 0, 0, True, error="403 on list_messages"))
        await until(app, pilot, lambda: "⟳" not in str(status.render()))
        said = [n.message for n in app._notifications]
        name = account_name(app, account_id)
        assert said == [
            f"Sync of {name} stopped: 403 on list_messages. Cached chats work; it runs again "
            "when the gateway comes back."
        ]


# -- the name filter ---------------------------------------------------------------------------


async def test_escape_leaves_the_name_filter_and_clears_it() -> None:
    async with running() as (app, pilot, _source):
        chat_list = app.query_one(ChatList)
        everyone = chat_list.total
        name = chat_list.rows[5].fan_name
        await press(app, pilot, "s", *name[:3])
        assert chat_list.total < everyone
        await press(app, pilot, "escape")
        assert app.focused is chat_list
        assert app.query_one("#search", Input).value == ""
        assert chat_list.total == everyone
        # The next keys are keys again, not letters in the filter.
        await press(app, pilot, "f")
        assert app.chats_screen.views[app.chats_screen.account_id or ""].filter == "unread"
        assert app.query_one("#search", Input).value == ""


# -- the lists dialog --------------------------------------------------------------------------


async def test_lists_dialog_ticks_with_a_glyph_not_colour_alone() -> None:
    async with running() as (app, pilot, _source):
        await press(app, pilot, "L")
        assert isinstance(app.screen, ListPicker)
        picker = app.screen.query_one(SelectionList)
        before = [picker.render_line(y).text for y in range(len(app.screen.choices))]
        await press(app, pilot, "space")
        after = [picker.render_line(y).text for y in range(len(app.screen.choices))]
        assert before[0][:3] != after[0][:3]  # the box itself changed, not just its colour
        ticked = after[0][:3] if not app.screen.choices[0].member else before[0][:3]
        assert "✓" in ticked
        unticked = before[0][:3] if not app.screen.choices[0].member else after[0][:3]
        assert "✓" not in unticked


# -- the automated-message form ----------------------------------------------------------------


async def open_form(app: ConsoleApp, pilot) -> AutomationForm:  # type: ignore[no-untyped-def]
    await press(app, pilot, "a", "c")
    form = app.screen
    assert isinstance(form, AutomationForm)
    return form


async def test_form_shows_units_before_any_error() -> None:
    async with running() as (app, pilot, _source):
        form = await open_form(app, pilot)
        hint = str(form.query_one("#hint-delay", Static).render())
        assert "seconds" in hint and "minutes" in hint and "hours" in hint
        form.query_one("#field-delay", Input).value = "90"
        await press(app, pilot)
        assert "1 min 30 s" in str(form.query_one("#hint-delay", Static).render())
        form.query_one("#field-cooldown", Input).value = "2h"
        await press(app, pilot)
        assert "2 hours" in str(form.query_one("#hint-cooldown", Static).render())
        assert not str(form.query_one("#error-delay", Static).render()).strip()


async def test_tip_amount_keeps_cents_or_is_refused_with_a_reason() -> None:
    async with running() as (app, pilot, source):
        form = await open_form(app, pilot)
        form.query_one("#field-trigger").value = TriggerType.NEW_TIP.value  # type: ignore[attr-defined]
        await press(app, pilot)
        form.query_one("#field-tip", Input).value = "2.505"
        await press(app, pilot, *"Thanks!", "ctrl+s")
        assert "cents" in str(form.query_one("#error-tip", Static).render())
        assert not [c for c in source.calls if c[0] == "create_automation"]
        form.query_one("#field-tip", Input).value = "2.5"
        await press(app, pilot, "ctrl+s")
        created = [a[1] for k, a in source.calls if k == "create_automation"]
        assert [r.tip_amount_dollars for r in created] == [2.5]  # type: ignore[attr-defined]
        shown = " ".join(
            str(o.prompt) for o in app.screen.query_one(OptionList)._options if o.prompt
        )
        assert "$2.50" in shown


async def test_a_second_rule_for_the_same_trigger_gets_a_warning() -> None:
    async with running() as (app, pilot, _source):
        form = await open_form(app, pilot)  # a welcome rule already exists in this account
        warning = str(form.query_one("#form-warning", Static).render())
        assert "already" in warning and "New subscriber" in warning
        form.query_one("#field-trigger").value = TriggerType.NEW_FOLLOWER.value  # type: ignore[attr-defined]
        await press(app, pilot)
        assert not str(form.query_one("#form-warning", Static).render()).strip()


async def test_replacing_a_rule_does_not_warn_about_itself() -> None:
    async with running() as (app, pilot, _source):
        await press(app, pilot, "a", "e")
        form = app.screen
        assert isinstance(form, AutomationForm)
        assert not str(form.query_one("#form-warning", Static).render()).strip()


# -- the command palette -----------------------------------------------------------------------


async def test_jump_to_shows_username_and_keeps_emoji() -> None:
    async with running() as (app, _pilot, source):
        account = source.accounts()[0].account_id
        fancy = "Luna 🌙 👩\u200d❤\ufe0f\u200d👨 🇫🇷"
        rename(source, account, 3, fancy)
        rename(source, account, 4, fancy)
        users = {source._chats[account][i].fan.username for i in (3, 4)}
        provider = JumpToChat(app.screen)
        hits = [str(hit.prompt) async for hit in provider.search("Luna")]
        hits = [h for h in hits if fancy in h]
        assert len(hits) == 2
        assert {u for u in users if any(f"@{u}" in h for h in hits)} == users


async def test_automations_screen_footer_keeps_f1_help_visible() -> None:
    async with running(size=(60, 24)) as (app, pilot, _source):
        await press(app, pilot, "a")
        await pilot.pause()
        assert_help_key_visible(app, 60)
