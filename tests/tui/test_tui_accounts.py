"""Many accounts (issue 16): the scrolling tab bar, the account switcher, hidden accounts and
groups. The in-memory source with 25 accounts (the sandbox's agency world is in
test_tui_queue.py)."""

from __future__ import annotations

from support.fakes_tui import MemorySource
from support.tui import press, running

from console.tui.account_switcher import AccountLayout, AccountSwitcher, fuzzy_score, tab_name
from console.tui.account_tabs import AccountTabs
from console.tui.chat_list import ChatList
from console.tui.composer import Composer
from console.tui.queue import QueueScreen


def test_fuzzy_match_and_tab_names() -> None:
    assert fuzzy_score("lvr", "Luna Rivers") is not None
    assert fuzzy_score("xyz", "Luna Rivers") is None
    assert (fuzzy_score("riv", "Luna Rivers") or 0) > (fuzzy_score("lvr", "Luna Rivers") or 0)
    assert tab_name("Short") == "Short"
    long = tab_name("Sofia ✏️ Sketches and more sketches every day")
    assert long.endswith("…") and len(long) <= 24 and " " not in long[-2:]
    assert tab_name("\x1b[31mRed\u202e name") == "Red name"


async def test_switcher_reaches_account_23_and_the_tab_bar_scrolls_to_it() -> None:
    source = MemorySource(accounts=25, chats_per_account=5, messages_per_chat=4)
    async with running(source, size=(100, 30)) as (app, pilot, _source):
        assert len(app.chats_screen.accounts) == 25
        target = app.chats_screen.accounts[22]
        await press(app, pilot, "g")
        assert isinstance(app.screen, AccountSwitcher)
        # With nothing typed, the accounts with unread messages come first.
        unread = [c.unread for c in app.screen.shown]
        assert unread == sorted(unread, reverse=True)
        await press(app, pilot, *"creator 23", "enter")
        assert app.chats_screen.account_id == target.account_id
        assert isinstance(app.focused, ChatList)
        assert app.query_one(ChatList).account_id == target.account_id
        # The active tab is scrolled into the tab bar's view, its name whole.
        tabs = app.query_one(AccountTabs)
        assert tabs.active == 22
        await pilot.pause()
        assert "Creator 23" in tabs.render_line(0).text
        # Esc closes the switcher without moving.
        await press(app, pilot, "g", "escape")
        assert app.chats_screen.account_id == target.account_id


async def test_hidden_accounts_and_groups() -> None:
    source = MemorySource(accounts=5, chats_per_account=3, messages_per_chat=3)
    layout = AccountLayout(hidden=("Creator 2",), groups={"Team B": ["creator 4"]})
    async with running(source, account_layout=layout) as (app, pilot, _source):
        assert [a.name for a in app.chats_screen.accounts] == [
            "Creator 4",
            "Creator 1",
            "Creator 3",
            "Creator 5",
        ]
        labels = app.query_one(AccountTabs).names
        assert [label.split(" ")[0] + " " + label.split(" ")[1] for label in labels] == [
            "Creator 4",
            "Creator 1",
            "Creator 3",
            "Creator 5",
        ]
        await press(app, pilot, "g")
        assert isinstance(app.screen, AccountSwitcher)
        assert "Creator 2" not in [c.name for c in app.screen.shown]
        group = {c.name: c.group for c in app.screen.shown}
        assert group["Creator 4"] == "Team B" and group["Creator 1"] is None
        # The queue lists the shown accounts only.
        await press(app, pilot, "escape")
        assert app.chats_screen.queue_mode.account_ids() == [
            a.account_id for a in app.chats_screen.accounts
        ]


async def test_leaving_the_queue_gives_the_keys_to_the_list_not_the_composer() -> None:
    """After answering from the queue, Esc (back to the queue) then Esc (back to the chats):
    a key typed next must not become a reply."""
    source = MemorySource(accounts=3, chats_per_account=6, messages_per_chat=3)
    async with running(source) as (app, pilot, _source):
        await press(app, pilot, "w")
        await press(app, pilot, "enter")
        assert isinstance(app.focused, Composer)
        await press(app, pilot, "escape")  # the composer, left: the queue again
        await press(app, pilot, "escape")  # the queue, left: the chats
        assert isinstance(app.focused, ChatList)
        await press(app, pilot, "x")
        assert app.chats_screen.query_one(Composer).text == ""


async def test_the_queue_can_be_the_default_view() -> None:
    async with running(MemorySource(accounts=2, chats_per_account=5), queue_default=True) as (
        app,
        _pilot,
        _source,
    ):
        assert isinstance(app.screen, QueueScreen)


async def test_help_lists_the_queue_and_switcher_keys() -> None:
    async with running(MemorySource(accounts=2, chats_per_account=5)) as (app, pilot, _source):
        await press(app, pilot, "f1")
        body = str(app.screen.query_one("#help-body").render())
        for words in ("Who to answer next", "Queue (w)", "Answer this chat", "Go to any account"):
            assert words in body, words
