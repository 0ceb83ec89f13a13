"""The console app: account tabs, chat list | thread + composer | fan profile, status line.

``make_app`` is the one factory the ``console`` and ``demo`` verbs, the tests, the snapshots
and the bench all use.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Input, Static, Tab, Tabs

from console.config import NotifySettings
from console.store.queue import BadgeRules
from console.tui.account_switcher import AccountLayout, tab_name
from console.tui.bindings import APP_BINDINGS
from console.tui.chat_list import ChatList
from console.tui.collector import Collector
from console.tui.commands import JumpToChat
from console.tui.composer import Composer, ReplyTarget
from console.tui.confirm import ConfirmUnsend
from console.tui.features import ConsoleFeatures
from console.tui.followup import FollowUpStrip
from console.tui.help_screen import CHAT_LIST_MARKS, TAB_BADGE, HelpScreen, legend
from console.tui.live import BADGE_INTERVAL, LiveUpdates
from console.tui.messages import (
    ChatSelected,
    UnreadStale,
)
from console.tui.name_filter import NameFilter
from console.tui.notify import Notifier
from console.tui.panes import OfflineBanner, ReplyBar, StatusLine
from console.tui.profile import FanProfile
from console.tui.queue import QueueMode
from console.tui.source import CHAT_FILTERS, ChatFilter, ConsoleSource, MessageState
from console.tui.text import clean, fan_label, plain, utcnow
from console.tui.themes import DEFAULT_THEME, builtin_themes, load_user_themes, theme_notice
from console.tui.thread import PAGE as THREAD_PAGE
from console.tui.thread import PinnedStrip, Thread
from console.tui.zone import set_zone, zone_description, zone_named

if TYPE_CHECKING:  # a pydantic model: the first paint needs none
    from console.api.models import Message

_LONG_LIVED = {"updates", "services"}
NARROW_WIDTH = 100  # below this the profile pane folds away
_OPEN_DELAY = 0.12  # debounce: moving through the list opens a chat only when the cursor rests
COLLECTOR_TICK = 0.5
QUEUE_TICK = 15.0  # seconds between looks for due reminders and long waits
FIRST_QUEUE_TICK = 3.0  # the first look: the outbox has held the missed follow-ups by then
_AFTER_FIRST_PAINT_AT_THE_LATEST = 1.0  # seconds after mount, should the list never paint


@dataclass
class _AccountView:
    """What each account tab remembers while another is shown."""

    filter: ChatFilter = "all"
    search: str = ""
    chat_id: str | None = None


class MainScreen(Screen[None]):
    """The console's screen (the app's default one)."""

    #: The list has the keys at start (the first focusable widget would be the account tabs,
    #: focused and then blurred again, each restyling its part of the screen).
    AUTO_FOCUS = "#chat-list"

    _resumed = False

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Textual restyles every node of a screen when it is shown. The first time, each one
        # was styled as it mounted, a moment before, with the final stylesheet and theme (the
        # theme is applied before the app starts): ~15 ms of the first frame for nothing.
        # Screens closed over this one later still bring the restyle.
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False
        super()._on_screen_resume(event)


class ConsoleApp(ConsoleFeatures, LiveUpdates):
    """The chatter's console."""

    CSS_PATH = "app.tcss"
    TITLE = "fansly-console"
    COMMANDS = App.COMMANDS | {JumpToChat}
    ENABLE_COMMAND_PALETTE = True

    BINDINGS: ClassVar[list[BindingType]] = APP_BINDINGS

    def __init__(
        self,
        source: ConsoleSource,
        *,
        theme: str = DEFAULT_THEME,
        keymap: dict[str, str] | None = None,
        tip_alert_dollars: float = 20.0,
        waiting_alert_minutes: int = 15,
        clock: Callable[[], datetime] = utcnow,
        services: Sequence[AbstractAsyncContextManager[Any]] = (),
        themes_dir: Path | None = None,
        title: str | None = None,
        css_cache: Path | None = None,
        timezone: str | tzinfo | None = None,
        badge_rules: BadgeRules | None = None,
        queue_sort: str = "waiting",
        queue_default: bool = False,
        account_layout: AccountLayout | None = None,
        notify: NotifySettings | None = None,
    ) -> None:
        super().__init__()
        # Every time shown is in this zone (None: the machine's); see console.tui.zone.
        set_zone(zone_named(timezone) if isinstance(timezone, str | None) else timezone)
        if css_cache is not None:
            # Before anything is parsed: the stylesheet's rules as parsed at the last start.
            from console.tui.css_cache import CachedStylesheet

            self.stylesheet = CachedStylesheet(variables=self.stylesheet._variables, path=css_cache)
        self.source = source
        self.clock = clock
        self.tip_alert_millis = int(tip_alert_dollars * 1000)
        self.waiting_alert_minutes = waiting_alert_minutes
        self.keymap = dict(keymap or {})
        self.services = list(services)
        self._exit_stack = AsyncExitStack()
        #: Hidden accounts left out, groups together (``[accounts]``, issue 16).
        self.account_layout = account_layout or AccountLayout()
        self.accounts = self.account_layout.shown(source.accounts())
        self.views = {a.account_id: _AccountView() for a in self.accounts}
        self.account_id: str | None = self.accounts[0].account_id if self.accounts else None
        self.chat_id: str | None = None
        self.fan_id: str | None = None
        self.fan_name = ""
        self._title_muted = False
        self.reply_to: Message | None = None
        self.show_profile: bool | None = None  # None: decided by the width
        self._open_timer: Any = None
        self.open_delay = _OPEN_DELAY
        self.badge_interval = BADGE_INTERVAL
        self._timer_idle = asyncio.Event()
        self._timer_idle.set()
        self._throttle: dict[str, Any] = {}
        self._parts = {}
        self._throttle_idle = asyncio.Event()
        self._throttle_idle.set()
        self._unread: dict[str, int] = {}
        self._first_painted = False
        #: Full garbage collections at quiet moments (started after the first paint).
        self.collector = Collector()
        if title:
            self.sub_title = title
        builtins, self.theme_problems = builtin_themes()
        for item in builtins:
            self.register_theme(item)
        #: Said once the screen is up (a listener that could not start, …).
        self.startup_notes: list[str] = []
        if themes_dir is not None:
            user_themes, problems = load_user_themes(themes_dir)
            self.theme_problems.extend(problems)
            for item in user_themes:
                self.register_theme(item)
        self._wanted_theme = theme
        self._theme_before_start(theme if self.get_theme(theme) else DEFAULT_THEME)
        #: The queue across accounts (issue 16); opened at start when the chatter opted in.
        self.badge_rules = badge_rules or BadgeRules()
        self.queue_mode = QueueMode(
            self,
            rules=self.badge_rules,
            sort=queue_sort,
            waiting_alert_minutes=waiting_alert_minutes,
        )
        self._queue_default = queue_default
        self._missed_asked: set[str] = set()
        #: Bell, desktop notices and the hook (``[notify]``; all off by default).
        self.notifier = Notifier(
            notify or NotifySettings(),
            write=self.write_to_terminal,
            warn=lambda text: self.notify(text, severity="warning", markup=False, timeout=10),
        )

    # -- layout ----------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        return MainScreen(id="_default")

    def compose(self) -> ComposeResult:
        yield Tabs(
            *[Tab(tab_name(a.name), id=f"account-{i}") for i, a in enumerate(self.accounts)],
            id="accounts",
        )
        yield OfflineBanner(id="offline-banner")
        with Horizontal(id="main"):
            with Vertical(id="chats-pane"):
                yield Static(id="filter-bar")
                yield NameFilter(placeholder="s: filter by name", id="search", compact=True)
                yield ChatList(
                    self.source,
                    clock=self.clock,
                    waiting_alert_minutes=self.waiting_alert_minutes,
                    badge_rules=self.badge_rules,
                    id="chat-list",
                )
            with Vertical(id="thread-pane"):
                yield Static(id="thread-title")
                yield PinnedStrip(id="pinned")
                yield FollowUpStrip(id="follow-ups")
                yield Thread(self.source, clock=self.clock, id="thread")
                yield ReplyBar(id="reply-bar")
                yield Composer(id="composer")
            yield FanProfile(clock=self.clock, id="profile")
        yield StatusLine(clock=self.clock, id="status")
        # The footer comes with the rest after the first paint (see _after_first_paint).

    def _theme_before_start(self, name: str) -> None:
        """Apply the theme before the stylesheet is first parsed. Setting ``App.theme`` once
        running re-parses and re-applies every rule of the screen (tens of ms at start-up);
        this does what its watcher does, minus that refresh."""
        self.set_reactive(App.theme, name)
        theme = self.current_theme
        self.set_class(True, f"-theme-{name}", update=False)
        self.set_class(theme.dark, "-dark-mode", update=False)
        self.set_class(not theme.dark, "-light-mode", update=False)
        self._refresh_truecolor_filter(self.ansi_theme)
        self.stylesheet.set_variables(self.get_css_variables())

    def get_theme_variable_defaults(self) -> dict[str, str]:
        from console.tui.themes import APP_VARIABLES

        return dict(APP_VARIABLES)

    async def on_mount(self) -> None:
        if self.keymap:
            self.set_keymap(self.keymap)
        wanted = self._wanted_theme
        # Every theme problem (broken files, an unknown name) in one notice.
        notice = theme_notice(self.theme_problems, wanted, self.theme)
        if notice:
            self.notify(clean(notice), severity="warning", markup=False, timeout=10)
        for note in self.startup_notes:
            self.notify(note, severity="warning", markup=False)
        self.query_one(ReplyBar).display = False
        self.query_one(PinnedStrip).display = False
        self.query_one(FollowUpStrip).display = False
        self._render_filter_bar()
        # What the marks mean, on hover (the help screen says it for the keyboard).
        self.query_one(ChatList).tooltip = CHAT_LIST_MARKS.format(
            waiting=self.waiting_alert_minutes
        )
        self.query_one(Tabs).tooltip = TAB_BADGE
        status = self.query_one(StatusLine)
        status.budget = self.source.budget()
        status.apply(self.source.connection())
        self._show_banner()
        self._load_queued()
        self._update_layout()
        self._pump_updates()
        if self.account_id is not None:
            self._show_account(self.account_id)
            # The cached chats paint first; the servers and the workspace's network side
            # start once they are on screen (or after a moment if that never happens).
            self.set_timer(_AFTER_FIRST_PAINT_AT_THE_LATEST, self._after_first_paint)
        else:
            self._after_first_paint()
            waiting = (
                "No cached accounts yet: run the console online (or `fansly-console sync`) once."
                if self.source.connection().detail == "offline mode"
                else "Waiting for the gateway to list the connected accounts…"
            )
            self.query_one("#thread-title", Static).update(Content(waiting))
        self.post_message(UnreadStale())
        self.query_one(ChatList).focus()
        if self._queue_default and self.accounts:
            self.call_after_refresh(self.action_queue)

    @on(ChatList.FirstPainted)
    def _after_first_paint(self) -> None:
        """What the first screen can do without: the footer's keys (a widget per key, built
        for every change of the focus) and the servers, the clients and the sync."""
        if self._first_painted:
            return
        self._first_painted = True
        from console.tui.footer import ConsoleFooter  # with Textual's Footer: not before

        self.mount(ConsoleFooter())
        self._save_css_cache()
        self._start_services()
        self.collector.start()  # freezes what start-up built: later collections skip it
        gc.enable()  # paused for the start-up by the console command (pause_collections)
        self.set_interval(COLLECTOR_TICK, self.collector.tick)
        self.set_interval(QUEUE_TICK, self._queue_tick)
        self.set_timer(FIRST_QUEUE_TICK, self._queue_tick)

    @work(group="queue-tick", exclusive=True, exit_on_error=False)
    async def _queue_tick(self) -> None:
        # Due reminders and follow-ups come back to the queue; long waits alert; follow-ups
        # missed while no console ran are asked about (issue 16).
        from console.tui.followup import ask_missed

        await self.queue_mode.tick()
        if len(self.screen_stack) == 1:
            await ask_missed(self, self._missed_asked)

    def write_to_terminal(self, data: str) -> None:
        """Bytes for the terminal itself (the bell, desktop notices), beside the screen."""
        driver = self._driver
        if driver is not None:
            driver.write(data)

    def _save_css_cache(self) -> None:
        from console.tui.css_cache import CachedStylesheet

        if isinstance(self.stylesheet, CachedStylesheet):
            self.stylesheet.save()

    @work(group="services", exit_on_error=False)
    async def _start_services(self) -> None:
        for service in self.services:
            try:
                await self._exit_stack.enter_async_context(service)
            except Exception as exc:
                self.notify(clean(f"Could not start: {exc}"), severity="error", markup=False)

    def on_key(self) -> None:
        self.collector.activity()

    async def on_unmount(self) -> None:
        self.collector.stop()
        await self.notifier.drain()
        self._save_css_cache()  # what was parsed since the first paint (the footer, screens…)
        await self._save_draft()
        with contextlib.suppress(Exception):
            await self._exit_stack.aclose()

    def on_resize(self, event: events.Resize) -> None:
        # The event's size: this handler runs before Textual's own, which updates ``self.size``.
        self._update_layout(event.size.width)

    def _update_layout(self, width: int | None = None) -> None:
        narrow = (self.size.width if width is None else width) < NARROW_WIDTH
        profile = self.query_one(FanProfile)
        profile.display = self.show_profile if self.show_profile is not None else not narrow
        self.screen.set_class(narrow, "-narrow")

    async def _refresh_accounts(self) -> None:
        """Add tabs for accounts that appeared (the gateway listed them after start)."""
        tabs = self.query_one(Tabs)
        for account in self.source.accounts():
            if account.account_id in self.views or not self.account_layout.visible(account):
                continue
            index = len(self.accounts)
            self.accounts.append(account)
            self.views[account.account_id] = _AccountView()
            await tabs.add_tab(Tab(tab_name(account.name), id=f"account-{index}"))
        if self.account_id is None and self.accounts:
            self._show_account(self.accounts[0].account_id)
            self.query_one("#thread-title", Static).update(Content(""))
            self.query_one(ChatList).focus()
        self.post_message(UnreadStale())

    # -- accounts and chats ------------------------------------------------------------------

    @on(Tabs.TabActivated, "#accounts")
    async def _tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab is None or event.tab.id is None:
            return
        index = int(event.tab.id.rsplit("-", 1)[1])
        account_id = self.accounts[index].account_id
        if account_id != self.account_id:
            await self._save_draft()
            self._show_account(account_id)

    def _show_account(
        self, account_id: str, chat_id: str | None = None, message_id: str | None = None
    ) -> None:
        self.account_id = account_id
        view = self.views[account_id]
        if chat_id is not None:
            view.chat_id = chat_id
        search = self.query_one("#search", Input)
        with search.prevent(Input.Changed):
            search.value = view.search
        self._render_filter_bar()
        self.chat_id = None
        self.query_one(ChatList).show(account_id, view.filter, view.search, view.chat_id)
        if view.chat_id is not None:
            self._open_chat(account_id, view.chat_id, focus_composer=False, message_id=message_id)
        else:  # the callers saved the draft: write to no one until a chat of this account opens
            self.query_one(Composer).bind(None, "")
        index = next(i for i, a in enumerate(self.accounts) if a.account_id == account_id)
        tabs = self.query_one(Tabs)
        if tabs.active != f"account-{index}":
            tabs.active = f"account-{index}"

    def action_account(self, index: int) -> None:
        if 0 <= index < len(self.accounts):
            self.query_one(Tabs).active = f"account-{index}"

    def action_switch_account(self) -> None:
        """``g``: the account switcher (console/tui/account_switcher.py)."""
        from console.tui.account_switcher import AccountChoice, AccountSwitcher

        choices = [
            AccountChoice(
                a.account_id,
                a.name,
                getattr(a, "username", None) or "",
                self._unread.get(a.account_id, 0),
                self.account_layout.group_of(a),
                i,
            )
            for i, a in enumerate(self.accounts)
        ]

        def chosen(account_id: str | None) -> None:
            if account_id is None:
                return
            if self.queue_mode.shown and self.queue_mode.screen is not None:
                self.queue_mode.screen.dismiss(None)
            index = next(i for i, a in enumerate(self.accounts) if a.account_id == account_id)
            self.action_account(index)
            self.query_one(ChatList).focus()

        self.push_screen(AccountSwitcher(choices), chosen)

    def action_account_step(self, step: int) -> None:
        if not self.accounts or self.account_id is None:
            return
        current = next(i for i, a in enumerate(self.accounts) if a.account_id == self.account_id)
        self.action_account((current + step) % len(self.accounts))

    @on(ChatSelected)
    def _chat_selected(self, message: ChatSelected) -> None:
        if self._open_timer is not None:
            self._open_timer.stop()
            self._open_timer = None
            self._timer_idle.set()
        if message.open:
            self._open_chat(message.account_id, message.chat_id, focus_composer=True)
            return
        if message.chat_id == self.chat_id:
            return
        if self.open_delay <= 0:
            self._open_chat(message.account_id, message.chat_id, focus_composer=False)
            return

        def fire() -> None:
            self._open_timer = None
            self._timer_idle.set()
            self._open_chat(message.account_id, message.chat_id, focus_composer=False)

        self._timer_idle.clear()
        self._open_timer = self.set_timer(self.open_delay, fire)

    def jump_to(self, account_id: str, chat_id: str, message_id: str | None = None) -> None:
        """Show ``chat_id`` of ``account_id`` (palette, next unread), at ``message_id`` if
        given (a search result)."""
        if account_id != self.account_id:
            self.call_later(self._jump_across, account_id, chat_id, message_id)
        else:
            self.query_one(ChatList).move_to_chat(chat_id)
            self._open_chat(account_id, chat_id, focus_composer=False, message_id=message_id)

    async def _jump_across(self, account_id: str, chat_id: str, message_id: str | None) -> None:
        await self._save_draft()
        self._show_account(account_id, chat_id, message_id)

    def _open_chat(
        self,
        account_id: str,
        chat_id: str,
        *,
        focus_composer: bool,
        message_id: str | None = None,
    ) -> None:
        if focus_composer:
            self.query_one(Composer).focus()
        if (account_id, chat_id) == (self.account_id, self.chat_id):
            if message_id is not None:
                thread = self.query_one(Thread)
                thread.open_chat(account_id, chat_id, self.fan_name, 0, around=message_id)
                thread.focus()
            return
        self._switch_chat(account_id, chat_id, message_id)

    @work(group="open-chat", exclusive=True, exit_on_error=False)
    async def _switch_chat(
        self, account_id: str, chat_id: str, message_id: str | None = None
    ) -> None:
        await self._save_draft()
        composer = self.query_one(Composer)
        saved = composer.text
        row = await self.source.chat(account_id, chat_id)
        if row is None or account_id != self.account_id:
            return
        # Everything the open chat shows is read first, then shown in one frame: shown as
        # each arrived, it took two or three layouts of the whole screen (~20 ms each).
        draft = await self.source.draft(account_id, chat_id)
        rows = None
        if message_id is None:
            rows = await self.source.latest_messages(account_id, chat_id, THREAD_PAGE)
        card = await self.source.fan_card(account_id, chat_id)
        pins = await self.source.pinned_messages(account_id, chat_id)
        follow_ups = await self.source.follow_ups(account_id, chat_id)
        if account_id != self.account_id:
            return
        thread = self.query_one(Thread)
        with self.batch_update():
            # No await before the composer's binding: the open chat, the header and the text
            # change together.
            # A fan with a blank name is their @username everywhere the chat shows.
            name = fan_label(row.fan_name, getattr(row, "fan_username", ""))
            self.chat_id, self.fan_id, self.fan_name = chat_id, row.fan_id, name
            self.views[account_id].chat_id = chat_id
            self._set_reply_to(None)
            self._show_title(row)
            left = composer.target
            if left is not None and composer.text != saved:  # typed while the chat was read
                self._run(self.source.save_draft(left.account_id, left.chat_id, composer.text))
            self._bind_composer(row, draft)
            self.query_one(PinnedStrip).show(pins)
            self.query_one(FollowUpStrip).show(follow_ups)
            self.query_one(FanProfile).show(card)
            if rows is None:
                thread.open_chat(account_id, chat_id, name, row.unread, around=message_id)
                thread.focus()
            else:
                await thread.show_latest(account_id, chat_id, name, row.unread, rows)
        self.source.refresh_fan(account_id, row.fan_id)
        if row.unread:
            self._mark_read(account_id, chat_id)

    @work(group="read", exit_on_error=False)
    async def _mark_read(self, account_id: str, chat_id: str) -> None:
        await self.source.mark_read(account_id, chat_id)

    @work(group="fan", exclusive=True, exit_on_error=False)
    async def _load_fan(self, account_id: str, chat_id: str) -> None:
        self.query_one(FanProfile).show(await self.source.fan_card(account_id, chat_id))

    @work(group="pins", exclusive=True, exit_on_error=False)
    async def _refresh_pins(self) -> None:
        if self.account_id is None or self.chat_id is None:
            return
        rows = await self.source.pinned_messages(self.account_id, self.chat_id)
        self.query_one(PinnedStrip).show(rows)

    def _bind_composer(self, row: Any, draft: str) -> None:
        account = next((a for a in self.accounts if a.account_id == row.account_id), None)
        target = ReplyTarget(
            row.account_id,
            row.chat_id,
            row.fan_name,
            getattr(row, "fan_username", "") or "",
            account.name if account is not None else "",
        )
        self.query_one(Composer).bind(target, draft)

    async def _save_draft(self) -> None:
        # The composer's text belongs to the chat it is bound to (not to the list's cursor,
        # nor to a chat being opened).
        with contextlib.suppress(Exception):
            composer = self.query_one(Composer)
            target, text = composer.target, composer.text
            if target is None:
                return
            if text != await self.source.draft(target.account_id, target.chat_id):
                await self.source.save_draft(target.account_id, target.chat_id, text)

    # -- composer ----------------------------------------------------------------------------

    @on(Composer.Submitted)
    async def _submitted(self, message: Composer.Submitted) -> None:
        # The chat named in the composer's header when Enter was pressed, whatever the list
        # did since.
        target = message.target
        account_id, chat_id, text = target.account_id, target.chat_id, message.text
        quoted = self.reply_to
        reply_to = quoted.id if quoted is not None and quoted.chat_id == chat_id else None
        message.composer.clear_sent()
        self._set_reply_to(None)
        await self._act(self.source.send(account_id, chat_id, text, reply_to))
        await self._act(self.source.save_draft(account_id, chat_id, ""))
        await self._act(self.queue_mode.sent(account_id, chat_id))

    @on(Composer.Changed)
    def _composer_changed(self) -> None:
        # No new order under a typing chatter (at exit the list may be gone already).
        for chat_list in self.query(ChatList):
            chat_list.chatter_active()
        # Kept as the chatter types, so a crash or a killed terminal loses at most a moment.
        self._throttled("draft", self._save_draft_soon)

    @work(group="draft", exclusive=True, exit_on_error=False)
    async def _save_draft_soon(self) -> None:
        await self._save_draft()

    @on(Composer.Typing)
    def _typing(self, message: Composer.Typing) -> None:
        target = self.query_one(Composer).target
        if target is not None:
            self._run(self.source.typing(target.account_id, target.chat_id))

    @on(Composer.Refused)
    def _refused(self, message: Composer.Refused) -> None:
        self.notify(message.reason, severity="warning", markup=False)

    @on(Composer.Left)
    def _left(self) -> None:
        if self.reply_to is not None:
            self._set_reply_to(None)
        elif not self.queue_mode.left():
            self.query_one(ChatList).focus()

    def _set_reply_to(self, message: Message | None) -> None:
        self.reply_to = message
        who = "you"
        if message is not None and message.sender_id == self.fan_id:
            who = self.fan_name
        self.query_one(ReplyBar).show(message, who)

    # -- search and filter ------------------------------------------------------------------

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        if self.account_id is None:
            return
        view = self.views[self.account_id]
        view.search = event.value
        self.query_one(ChatList).show(self.account_id, view.filter, view.search, view.chat_id)

    @on(Input.Submitted, "#search")
    @on(NameFilter.Left)
    def _search_done(self) -> None:
        self.query_one(ChatList).focus()

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_cycle_filter(self) -> None:
        if self.account_id is None:
            return
        view = self.views[self.account_id]
        view.filter = CHAT_FILTERS[(CHAT_FILTERS.index(view.filter) + 1) % len(CHAT_FILTERS)]
        self._render_filter_bar()
        self.query_one(ChatList).show(self.account_id, view.filter, view.search, view.chat_id)

    def _render_filter_bar(self) -> None:
        current = self.views[self.account_id].filter if self.account_id else "all"
        names = {
            "all": "all",
            "unread": "unread",
            "unanswered": "unanswered",
            "vip": "VIP",
            "subscribers": "subs",
        }
        parts: list[Content] = []
        for name in CHAT_FILTERS:
            style = "bold reverse" if name == current else "$text-muted"
            parts.append(Content.styled(f" {names[name]} ", style))
        self.query_one("#filter-bar", Static).update(Content.assemble(*parts))

    # -- actions on the open chat -----------------------------------------------------------

    def _selected_row(self):  # type: ignore[no-untyped-def]
        view = self.query_one(Thread).selected
        return view.row if view is not None else None

    def action_reply(self) -> None:
        self.query_one(Composer).focus()

    def action_reply_to(self) -> None:
        row = self._selected_row()
        if row is None:
            return
        self._set_reply_to(row.message)
        self.query_one(Composer).focus()

    def action_like(self) -> None:
        row = self._selected_row()
        if row is not None and self.account_id and self.chat_id:
            self._run(
                self.source.set_like(self.account_id, self.chat_id, row.id, not row.liked_by_me)
            )

    def action_pin(self) -> None:
        row = self._selected_row()
        if row is not None and self.account_id and self.chat_id:
            self._run(
                self.source.set_pin(self.account_id, self.chat_id, row.id, not row.message.pinned)
            )

    def action_unsend(self) -> None:
        row = self._selected_row()
        if row is None or not (self.account_id and self.chat_id):
            return
        if not row.outgoing or row.state is MessageState.UNSENT:
            self.notify("Only your own messages can be unsent", severity="warning")
            return
        account_id, chat_id, message_id = self.account_id, self.chat_id, row.id

        def answered(yes: bool | None) -> None:
            if yes:
                payload: dict[str, object] = {"message_id": message_id}
                self._run(self.source.act(account_id, chat_id, "unsend", payload))

        self.push_screen(ConfirmUnsend(row.message.content), answered)

    @work(group="actions", exit_on_error=False)
    async def action_mute(self) -> None:
        if not (self.account_id and self.chat_id and self.fan_id):
            return
        account_id, chat_id = self.account_id, self.chat_id
        row = await self.source.chat(account_id, chat_id)
        muted = bool(row and row.muted)
        await self._act(self.source.set_mute(account_id, self.fan_id, not muted))
        # The stored (optimistic) state, everywhere it shows, at once: the thread's title,
        # the list's row (even while a new order waits for a pause) and the profile.
        await self.show_chat_state(account_id, chat_id)
        who = fan_label(row.fan_name, row.fan_username) if row else fan_label(self.fan_name)
        self.notify(
            f"{'Unmuted' if muted else 'Muted'} {who} · {self.account_name(self.account_id)}",
            markup=False,
        )

    def _show_title(self, row: Any) -> None:
        self._title_muted = bool(row.muted)
        self.query_one("#thread-title", Static).update(
            Content.assemble(
                plain(fan_label(row.fan_name, getattr(row, "fan_username", "")), style="bold"),
                Content.styled("  muted" if row.muted else "", "$text-warning"),
            )
        )

    async def show_chat_state(self, account_id: str, chat_id: str) -> None:
        """Show the open chat's stored state (muted) in the title, the list and the profile:
        after the chatter's own action, and after the gateway answers (a refusal undoes it)."""
        if (account_id, chat_id) != (self.account_id, self.chat_id):
            return
        row = await self.source.chat(account_id, chat_id)
        if row is None or (account_id, chat_id) != (self.account_id, self.chat_id):
            return
        self.query_one(ChatList).update_row(row)
        if bool(row.muted) != self._title_muted:
            self._show_title(row)
            self._load_fan(account_id, chat_id)

    def action_retry(self) -> None:
        row = self._selected_row()
        thread = self.query_one(Thread)
        if row is None or row.state.value != "failed":
            failed = [v.row for v in thread.message_views if v.row.state.value == "failed"]
            row = failed[-1] if failed else None
        if row is None or self.account_id is None:
            self.notify("No failed message to retry.", markup=False)
            return
        self._run(self.source.retry(self.account_id, row.id))

    @work(group="actions", exit_on_error=False)
    async def action_next_unread(self) -> None:
        after = (self.account_id, self.chat_id) if self.account_id and self.chat_id else None
        found = await self.source.next_unread_chat(after)  # type: ignore[arg-type]
        if found is None:
            self.notify("No unread chats.", markup=False)
            return
        self.jump_to(*found)

    # -- the queue (issue 16, console/tui/queue.py) ------------------------------------------

    def action_queue(self) -> None:
        self.queue_mode.show()

    def action_remind(self) -> None:
        from console.tui.followup import ask_reminder

        ask_reminder(self)

    def action_follow_up(self) -> None:
        from console.tui.followup import ask_follow_up

        ask_follow_up(self)

    def action_cancel_follow_ups(self) -> None:
        from console.tui.followup import cancel_follow_ups

        cancel_follow_ups(self)

    @work(group="follow-ups", exclusive=True, exit_on_error=False)
    async def refresh_follow_ups(self) -> None:
        """The open chat's follow-ups under its title (after a change to the chat)."""
        account_id, chat_id = self.account_id, self.chat_id
        if account_id is None or chat_id is None:
            return
        rows = await self.source.follow_ups(account_id, chat_id)
        strip = self.part(FollowUpStrip)
        if strip is not None and (account_id, chat_id) == (self.account_id, self.chat_id):
            strip.show(rows)

    def answer_chat(self, account_id: str, chat_id: str) -> None:
        """Open ``chat_id`` with the composer focused (from the queue)."""
        self.jump_to(account_id, chat_id)
        self.call_after_refresh(self.query_one(Composer).focus)

    def action_toggle_profile(self) -> None:
        profile = self.query_one(FanProfile)
        self.show_profile = not profile.display
        self._update_layout()

    def action_help(self) -> None:
        groups = [
            ("Console", [b for _, b in self._bindings_of(self)]),
            ("Chat list", [b for _, b in self._bindings_of(ChatList)]),
            ("Name filter (s)", [b for _, b in self._bindings_of(NameFilter)]),
            ("Thread", [b for _, b in self._bindings_of(Thread)]),
            ("Composer", [b for _, b in self._bindings_of(Composer)]),
            *self.help_groups_extra(),
        ]
        marks = legend(self.waiting_alert_minutes, zone_description(self.clock()))
        self.push_screen(HelpScreen(groups, self.keymap, marks))

    @staticmethod
    def _bindings_of(owner: Any) -> Iterable[tuple[str, Binding]]:
        for item in owner.BINDINGS:
            if isinstance(item, Binding):
                yield item.key, item

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for _, binding in self._bindings_of(self):
            if binding.action in {"quit", "help"} or binding.action.startswith("account("):
                continue
            action = binding.action
            yield SystemCommand(
                binding.description,
                binding.tooltip or binding.description,
                lambda action=action: self.call_later(self.run_action, action),
            )
        yield SystemCommand("Help", "Show every key", self.action_help)

    # -- running actions ---------------------------------------------------------------------

    async def settled(self, rounds: int = 20) -> None:
        """Wait until no short-lived worker runs and the screen has painted the result (tests,
        snapshots; the pump never ends)."""
        for _ in range(rounds):
            busy = self._busy_workers()
            if not busy and not self._open_timer_pending() and not self._throttle:
                # Scrolling to a new end runs after the next refresh (and asks for another):
                # wait for two, instead of trusting a loaded machine to have painted by now.
                await self._refreshed()
                await self._refreshed()
                if not (self._busy_workers() or self._open_timer_pending() or self._throttle):
                    return
                continue
            # Exclusive workers cancel each other: a cancelled one is done too.
            await asyncio.gather(*(w.wait() for w in busy), return_exceptions=True)
            await self.animator.wait_until_complete()
            # Let the messages those workers posted be handled (they may start new workers).
            for _ in range(3):
                await asyncio.sleep(0)
            await self._wait_timer()

    def _busy_workers(self) -> list[Any]:
        return [w for w in self.workers if w.group not in _LONG_LIVED and w.is_running]

    async def _refreshed(self) -> None:
        screen = self.screen
        if screen._task is None or not screen.is_running:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):  # a screen that is closing never refreshes
                await screen.wait_for_refresh()

    def _open_timer_pending(self) -> bool:
        chat_list = self.part(ChatList)
        return self._open_timer is not None or bool(chat_list and chat_list.holding)

    async def _wait_timer(self) -> None:
        # The debounce is time by design; a test sets ``open_delay = 0``.
        await self._timer_idle.wait()
        await self._throttle_idle.wait()
        chat_list = self.part(ChatList)
        if chat_list is not None:
            await chat_list.hold_idle.wait()

    def _run(self, call: Awaitable[Any]) -> None:
        self.run_worker(self._act(call), group="actions", exit_on_error=False)

    async def _act(self, call: Awaitable[Any]) -> Any:
        try:
            return await call
        except Exception as exc:
            # The error text may quote a fan's words or a server's; it is shown as plain text.
            self.notify(
                clean(str(exc), one_line=True) or type(exc).__name__, severity="error", markup=False
            )
            return None


def make_app(source: ConsoleSource, **options: Any) -> ConsoleApp:
    """The console on ``source``; the options are :class:`ConsoleApp`'s (``services`` are
    entered on mount and closed on exit; ``css_cache`` keeps the parsed stylesheet from one
    start to the next)."""
    return ConsoleApp(source, **options)
