"""The console app: themes, the services (listener, clients, sync), the command palette and
the screen stack. The chats view, its keys and its live updates are the default screen,
:class:`~console.tui.chats_screen.ChatsScreen`.

``make_app`` is the one factory the ``console`` and ``demo`` verbs, the tests, the snapshots
and the bench all use.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from console.changes import ConnectionChanged
from console.config import NotifySettings
from console.store.queue import BadgeRules
from console.tui.account_switcher import AccountLayout
from console.tui.bindings import APP_BINDINGS
from console.tui.chat_list import ChatList
from console.tui.chats_screen import ChatsScreen
from console.tui.collector import Collector
from console.tui.commands import JumpToChat
from console.tui.composer import Composer
from console.tui.hangup import quit_when_the_terminal_goes
from console.tui.help_screen import HelpScreen, legend
from console.tui.key_order import run_in_order
from console.tui.live import BADGE_INTERVAL
from console.tui.messages import HubChanged
from console.tui.name_filter import NameFilter
from console.tui.notify import Notifier
from console.tui.source import ConsoleSource
from console.tui.text import clean, utcnow
from console.tui.themes import DEFAULT_THEME, builtin_themes, load_user_themes, theme_notice
from console.tui.thread import Thread
from console.tui.zone import set_zone, zone_description, zone_named

_LONG_LIVED = {"updates", "services"}
if TYPE_CHECKING:
    from console.config import GuardSettings
    from console.tui.team_ui import TeamUI

_OPEN_DELAY = 0.12  # debounce: moving through the list opens a chat only when the cursor rests
COLLECTOR_TICK = 0.5
QUEUE_TICK = 15.0  # seconds between looks for due reminders, long waits, missed follow-ups
FIRST_QUEUE_TICK = 3.0  # the first look: the outbox has held the missed follow-ups by then


class ConsoleApp(App[int]):
    """The chatter's console."""

    CSS_PATH = "app.tcss"
    TITLE = "fansly-console"
    COMMANDS = App.COMMANDS | {JumpToChat}
    ENABLE_COMMAND_PALETTE = True

    BINDINGS: ClassVar[list[BindingType]] = APP_BINDINGS

    #: The default screen (made when the app starts).
    chats_screen: ChatsScreen
    #: Team mode's presence, guard, notes and stats (console/tui/team_ui.py); None: solo.
    team: TeamUI | None = None

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
        guard: GuardSettings | None = None,
        badge_rules: BadgeRules | None = None,
        queue_sort: str = "waiting",
        queue_default: bool = False,
        account_layout: AccountLayout | None = None,
        notify: NotifySettings | None = None,
    ) -> None:
        super().__init__()
        #: What the composer refuses to send, per account (``[guard]`` in the config).
        self.guard_settings = guard
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
        #: Timing knobs the chats screen reads (tests set ``open_delay = 0``).
        self.open_delay = _OPEN_DELAY
        self.badge_interval = BADGE_INTERVAL
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
        # Issue 16: the queue's badges and order, the accounts shown (hidden ones left out,
        # groups together), the alerts (bell, desktop notices, hook; all off by default).
        self.badge_rules = badge_rules or BadgeRules()
        self.queue_sort = queue_sort
        self.queue_default = queue_default
        self.account_layout = account_layout or AccountLayout()
        self.notifier = Notifier(
            notify or NotifySettings(),
            write=self.write_to_terminal,
            warn=lambda text: self.notify(text, severity="warning", markup=False, timeout=10),
        )

    def get_default_screen(self) -> ChatsScreen:
        self.chats_screen = ChatsScreen(
            self.source, id="_default", account_layout=self.account_layout
        )
        return self.chats_screen

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
        quit_when_the_terminal_goes(self)
        if self.keymap:
            self.set_keymap(self.keymap)
        wanted = self._wanted_theme
        # Every theme problem (broken files, an unknown name) in one notice.
        notice = theme_notice(self.theme_problems, wanted, self.theme)
        if notice:
            self.notify(clean(notice), severity="warning", markup=False, timeout=10)
        for note in self.startup_notes:
            self.notify(note, severity="warning", markup=False)

    def after_first_paint(self) -> None:
        """What the first screen can do without: the footer's keys (a widget per key, built
        for every change of the focus) and the servers, the clients and the sync."""
        if self._first_painted:
            return
        self._first_painted = True
        from console.tui.footer import ConsoleFooter  # with Textual's Footer: not before

        self.chats_screen.mount(ConsoleFooter())
        self._save_css_cache()
        self._start_services()
        self.collector.start()  # freezes what start-up built: later collections skip it
        gc.enable()  # paused for the start-up by the console command (pause_collections)
        self.set_interval(COLLECTOR_TICK, self.collector.tick)
        self.set_interval(QUEUE_TICK, self.chats_screen.queue_tick)
        self.set_timer(FIRST_QUEUE_TICK, self.chats_screen.queue_tick)

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

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            self.collector.activity()
            if await run_in_order(self, event):
                return
        await super().on_event(event)

    async def on_unmount(self) -> None:
        self.collector.stop()
        await self.notifier.drain()
        self._save_css_cache()  # what was parsed since the first paint (the footer, screens…)
        await self.chats_screen.save_draft()
        with contextlib.suppress(Exception):
            await self._exit_stack.aclose()

    def on_resize(self, event: events.Resize) -> None:
        # The event's size: this handler runs before Textual's own, which updates ``self.size``
        # (and the chats screen gets no resize of its own while another screen is over it).
        self.chats_screen.update_layout(event.size.width)

    def hub_changed(self, state: ConnectionChanged) -> None:
        """The events hub's connection changed (``--events``): called by the feed."""
        self.chats_screen.post_message(HubChanged(state))

    # -- keys, help and the palette --------------------------------------------------------

    async def action_quit(self) -> None:
        """Quit, after asking when actions wait in the outbox (they stay queued either way)."""
        from console.tui.confirm import ConfirmQuit

        if isinstance(self.screen, ConfirmQuit):
            return
        counts = {a: update.pending for a, update in (await self.source.queued_counts()).items()}
        if not any(counts.values()):
            self.exit()
            return
        names = {account.account_id: account.name for account in self.chats_screen.accounts}

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit()

        self.push_screen(ConfirmQuit(counts, names), answered)

    def action_help(self) -> None:
        chats = self.chats_screen
        groups = [
            ("Console", [b for _, b in (*self._bindings_of(chats), *self._bindings_of(self))]),
            ("Chat list", [b for _, b in self._bindings_of(ChatList)]),
            ("Name filter (s)", [b for _, b in self._bindings_of(NameFilter)]),
            ("Thread", [b for _, b in self._bindings_of(Thread)]),
            ("Composer", [b for _, b in self._bindings_of(Composer)]),
            *chats.help_groups_extra(),
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
        chats = self.chats_screen
        # The chats' actions from the chats screen only: over a search or the automated
        # messages they would change a chat nobody is looking at.
        for _, binding in self._bindings_of(chats) if screen is chats else ():
            if binding.action.startswith("account("):
                continue
            action = binding.action
            yield SystemCommand(
                binding.description,
                binding.tooltip or binding.description,
                lambda action=action: self.call_later(chats.run_action, action),
            )
        yield SystemCommand("Help", "Show every key", self.action_help)

    # -- waiting for quiet (tests, snapshots, the bench) -------------------------------------

    async def settled(self, rounds: int = 20) -> None:
        """Wait until no short-lived worker runs and the screen has painted the result (tests,
        snapshots; the pump never ends)."""
        chats = self.chats_screen
        for _ in range(rounds):
            busy = self._busy_workers()
            if not busy and not chats.timers_pending():
                # Scrolling to a new end runs after the next refresh (and asks for another):
                # wait for two, instead of trusting a loaded machine to have painted by now.
                await self._refreshed()
                await self._refreshed()
                if not (self._busy_workers() or chats.timers_pending()):
                    return
                continue
            # Exclusive workers cancel each other: a cancelled one is done too.
            await asyncio.gather(*(w.wait() for w in busy), return_exceptions=True)
            await self.animator.wait_until_complete()
            # Let the messages those workers posted be handled (they may start new workers).
            for _ in range(3):
                await asyncio.sleep(0)
            await chats.wait_timers()

    def _busy_workers(self) -> list[Any]:
        return [w for w in self.workers if w.group not in _LONG_LIVED and w.is_running]

    async def _refreshed(self) -> None:
        screen = self.screen
        if screen._task is None or not screen.is_running:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):  # a screen that is closing never refreshes
                await screen.wait_for_refresh()


def make_app(source: ConsoleSource, **options: Any) -> ConsoleApp:
    """The console on ``source``; the options are :class:`ConsoleApp`'s (``services`` are
    entered on mount and closed on exit; ``css_cache`` keeps the parsed stylesheet from one
    start to the next)."""
    return ConsoleApp(source, **options)
