"""Issue 16's remaining parts in the console, in memory: the unread accounts scrolled out of
the tab bar counted at its edges (updated live), the queue saying for how many fans the spend
order knows the spend, and the chats screen's footer left alone while the queue covers it."""

from __future__ import annotations

import time
from typing import Any

from support.fakes_tui import FIXED_NOW, MemorySource
from support.snapshots import settle
from support.tui import press, running, until
from textual.pilot import Pilot

from console.tui.account_tabs import EDGE, LEFT, AccountTabs
from console.tui.app import ConsoleApp, make_app
from console.tui.footer import ConsoleFooter
from console.tui.messages import UnreadStale
from console.tui.queue import QueueScreen


def _quiet(source: MemorySource, *keep: int) -> None:
    """No unread messages but in the accounts numbered ``keep`` (0-based)."""
    for n, account in enumerate(source.accounts()):
        for chat in source._chats[account.account_id]:
            chat.unread = chat.unread if n in keep else 0


def _edges(app: ConsoleApp) -> tuple[str, str]:
    line = app.query_one(AccountTabs).render_line(0).text
    return line[:EDGE].strip(), line[-EDGE:].strip()


async def test_unread_accounts_out_of_view_are_counted_at_the_tab_bars_edges() -> None:
    source = MemorySource(accounts=25, chats_per_account=4, messages_per_chat=3)
    _quiet(source, 0, 20, 22, 24)
    async with running(source, size=(80, 24)) as (app, pilot, _source):
        tabs = app.query_one(AccountTabs)
        app.chats_screen.post_message(UnreadStale())
        # On the first account: three accounts with unread messages past the right edge.
        await until(app, pilot, lambda: tabs.out_of_view == (0, 3))
        assert tabs.overflow
        assert _edges(app) == ("", "3 ▸")  # nothing hidden on the left
        # A fan of account 16 (out of view) writes: counted at once.
        chat = source._chats[source.accounts()[15].account_id][0]
        source.receive(chat.account_id, chat.chat_id, "hello?")
        await until(app, pilot, lambda: tabs.out_of_view == (0, 4))
        # The last account: the bar scrolls to its end; accounts 1 and 16 are past the left.
        await press(app, pilot, "g", *"creator 25", "enter")
        await until(app, pilot, lambda: tabs.out_of_view == (2, 0))
        assert _edges(app) == ("◂ 2", "")
        # Read everywhere: the arrow stays (tabs are hidden on the left), without a count.
        _quiet(source)
        app.chats_screen.post_message(UnreadStale())
        await until(app, pilot, lambda: tabs.out_of_view == (0, 0))
        assert _edges(app) == ("◂", "")


async def test_a_tab_bar_that_fits_shows_no_edges() -> None:
    async with running(MemorySource(accounts=3, chats_per_account=4)) as (app, _pilot, _source):
        tabs = app.query_one(AccountTabs)
        assert not tabs.overflow
        assert tabs.render_line(0).text.startswith(" Creator 1")  # no edge before the tabs


async def test_the_tab_bar_is_one_widget_that_clicks_scrolls_and_steps() -> None:
    """The bar draws every tab itself (no widget per account: ~1 ms of start-up each); a
    click on a tab opens its account, a click on an edge scrolls that way, and the focused
    bar steps through the accounts with the arrows."""
    source = MemorySource(accounts=25, chats_per_account=3, messages_per_chat=2)
    async with running(source, size=(80, 24)) as (app, pilot, _source):
        tabs = app.query_one(AccountTabs)
        assert not list(tabs.children)
        assert tabs.active == 0 and tabs.overflow
        # A click on the second tab's name.
        second = tabs.render_line(0).text.index("Creator 2")
        await pilot.click(AccountTabs, offset=(second + 1, 0))
        await until(
            app, pilot, lambda: app.chats_screen.account_id == source._accounts[1].account_id
        )
        assert tabs.active == 1
        # The right edge scrolls the bar without changing the account.
        assert tabs.render_line(0).text.startswith(" ")  # nothing hidden on the left
        await pilot.click(AccountTabs, offset=(tabs.size.width - 2, 0))
        line = tabs.render_line(0).text
        assert line.startswith(LEFT)
        # A tab cut by the edge is blank (its count would read as the edge's).
        assert line[EDGE:].lstrip().startswith("Creator ")
        # New unread counts keep the chatter's scroll (they re-centred the active tab).
        scrolled = tabs.shown_from
        tabs.show_unread({i: 7 for i in range(25)})
        assert tabs.shown_from == scrolled
        assert tabs.active == 1
        # Focused, the arrows step (and wrap).
        tabs.focus()
        await press(app, pilot, "left", "left")
        await until(
            app, pilot, lambda: app.chats_screen.account_id == source._accounts[24].account_id
        )
        assert "Creator 25" in tabs.render_line(0).text  # scrolled to the active tab


async def test_the_spend_order_says_for_how_many_fans_the_spend_is_known() -> None:
    source = MemorySource(accounts=2, chats_per_account=6, messages_per_chat=3)
    unknown = 0
    for account in source.accounts():
        for n, chat in enumerate(source._chats[account.account_id]):
            if n % 2:
                chat.fan.lifetime_spend_millis = None
                unknown += 1
    async with running(source) as (app, pilot, _source):
        await press(app, pilot, "w")
        assert isinstance(app.screen, QueueScreen)
        title = app.screen.query_one("#queue-title")
        assert "known for" not in str(title.render())  # the default order: no hint
        await press(app, pilot, "o")  # spend
        queue = app.screen.queue
        known, total = await source.queue_spend_known(queue.account_ids())
        assert 0 < known < total
        await until(app, pilot, lambda: f"known for {known}/{total} fans" in str(title.render()))
        assert "sorted by spend" in str(title.render())


async def test_visiting_the_queue_does_not_rebuild_the_chats_footer() -> None:
    """The footer under the queue was rebuilt twice per visit (~15 ms each of the queue's
    first screen), for keys nobody saw."""
    async with running(MemorySource(accounts=3, chats_per_account=6)) as (app, pilot, _source):
        footer = app.chats_screen.query_one(ConsoleFooter)
        await until(app, pilot, lambda: footer._shown is not None)
        rebuilt: list[object] = []
        original = footer.recompose

        async def counted() -> None:
            rebuilt.append(app.screen)
            await original()

        footer.recompose = counted  # type: ignore[method-assign]
        for _ in range(3):
            await press(app, pilot, "w")
            assert isinstance(app.screen, QueueScreen)
            await press(app, pilot, "escape")
            assert app.screen is app.chats_screen
        assert rebuilt == []
        # Its keys still follow the chats screen: the composer's differ from the list's.
        await press(app, pilot, "r")
        await until(app, pilot, lambda: len(rebuilt) == 1)


def _app() -> ConsoleApp:
    source = MemorySource(accounts=25, chats_per_account=20)
    _quiet(source, 0, 20, 22, 24)
    app = make_app(source, clock=lambda: FIXED_NOW, timezone="UTC")
    app.open_delay = 0
    app.NOTIFICATION_TIMEOUT = 3600
    return app


async def _edges_counted(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, ConsoleApp)
    tabs = app.query_one(AccountTabs)
    await until(app, pilot, lambda: tabs.out_of_view == (0, 3))
    # What every other shot waits for (the thread's scroll, its scrollbar left out, no blink):
    # without it, CI once caught the thread a layout early.
    await settle(pilot)


def test_tab_bar_edges_snapshot(snap_compare: Any) -> None:
    assert snap_compare(_app(), terminal_size=(80, 24), run_before=_edges_counted)


async def test_a_lone_change_is_shown_at_once_and_a_burst_once_more_at_the_end() -> None:
    """The reloads after a change are throttled: the first runs at once (a lone webhook was
    shown only after the interval, half of its time to the screen), the calls within the
    interval make one more run at its end, so the last change is shown."""
    async with running(MemorySource(accounts=2, chats_per_account=4)) as (app, pilot, _source):
        view = app.chats_screen
        ran: list[int] = []
        # Several calls in one go (a webhook's "changed" messages): one run, at once.
        for _ in range(3):
            view._throttled("probe", lambda: ran.append(1), 0.3)
        await pilot.pause()
        assert ran == [1]
        started = time.monotonic()
        for _ in range(5):
            view._throttled("probe", lambda: ran.append(2), 0.3)
        await pilot.pause()
        assert ran == [1]
        await until(app, pilot, lambda: ran == [1, 2])  # once, at the interval's end
        await pilot.pause(0.4)
        assert ran == [1, 2]
        assert time.monotonic() - started >= 0.2
        view._throttled("probe", lambda: ran.append(3), 0.3)  # quiet since: at once again
        await pilot.pause()
        assert ran == [1, 2, 3]


async def test_the_queue_is_restyled_on_a_visit_only_when_the_theme_changed() -> None:
    source = MemorySource(accounts=2, chats_per_account=6)
    async with running(source) as (app, pilot, _source):
        await press(app, pilot, "w", "escape")
        screen = app.chats_screen.queue_mode.screen
        assert screen is not None
        restyled: list[object] = []
        original = screen.update_node_styles

        def counted(animate: bool = True) -> None:
            restyled.append(app.theme)
            original(animate)

        screen.update_node_styles = counted  # type: ignore[method-assign]
        # A fan writes while the queue is not shown: the next visit reads it afresh.
        quiet = next(
            c
            for a in source.accounts()
            for c in source._chats[a.account_id]
            if c.messages[-1].from_creator and not c.muted
        )
        await press(app, pilot, "w", "escape")
        source.receive(quiet.account_id, quiet.chat_id, "still there?")
        await press(app, pilot, "w")
        assert restyled == []  # styled on its first visit, nothing changed since
        queue = screen.queue
        await until(
            app,
            pilot,
            lambda: any(r.chat.chat_id == quiet.chat_id for r in queue.rows.values()),
        )
        title = screen.query_one("#queue-title")
        dark = title.rich_style.bgcolor
        await press(app, pilot, "escape")
        app.theme = "fansly-light"  # while the queue is not shown
        await press(app, pilot, "w")
        assert restyled and set(restyled) == {"fansly-light"}
        assert screen.query_one("#queue-title").rich_style.bgcolor != dark
