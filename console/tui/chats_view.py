"""The chats view's layout and how it moves: account tabs, chat list | thread + composer | fan
profile, status line; switching accounts, opening chats, the composer, the name filter and
the list's filter.

The base of :class:`~console.tui.chats_screen.ChatsScreen`, below the live updates
(console.tui.live) that keep it current: each layer calls only what is below it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, Static

from console.tui.account_switcher import AccountLayout, tab_name
from console.tui.account_tabs import AccountTabs
from console.tui.chat_list import ChatList
from console.tui.composer import Composer, ReplyTarget
from console.tui.followup import FollowUpStrip
from console.tui.messages import ChatSelected, UnreadStale
from console.tui.name_filter import NameFilter
from console.tui.notify import Notifier
from console.tui.panes import OfflineBanner, ReplyBar, StatusLine
from console.tui.pinned_strip import PinnedStrip
from console.tui.profile import FanProfile
from console.tui.queue import QueueMode
from console.tui.selling import guard_for
from console.tui.source import (
    CHAT_FILTERS,
    ChatFilter,
    ConsoleSource,
    MessageRow,
)
from console.tui.text import clean, fan_label, plain
from console.tui.thread import PAGE as THREAD_PAGE
from console.tui.thread import Thread

if TYPE_CHECKING:
    from console.tui.app import ConsoleApp
    from console.tui.vault_picker import MediaChoice

W = TypeVar("W", bound=Widget)

NARROW_WIDTH = 100  # below this the profile pane folds away
RELOAD_INTERVAL = 0.05


@dataclass
class _AccountView:
    """What each account tab remembers while another is shown."""

    filter: ChatFilter = ChatFilter.ALL
    search: str = ""
    chat_id: str | None = None


class ChatsView(Screen[None]):
    """The chats view (see the module's docstring)."""

    #: The list has the keys at start (the first focusable widget would be the account tabs,
    #: focused and then blurred again, each restyling its part of the screen).
    AUTO_FOCUS = "#chat-list"

    _resumed = False

    def __init__(
        self,
        source: ConsoleSource,
        *,
        id: str | None = None,
        account_layout: AccountLayout | None = None,
    ) -> None:
        super().__init__(id=id)
        self.source = source
        #: Hidden accounts left out, groups together (``[accounts]``, issue 16).
        self.account_layout = account_layout or AccountLayout()
        self.accounts = self.account_layout.shown(source.accounts())
        self.views = {a.account_id: _AccountView() for a in self.accounts}
        self.account_id: str | None = self.accounts[0].account_id if self.accounts else None
        self.chat_id: str | None = None
        self.fan_id: str | None = None
        self.fan_name = ""
        self._title_muted = False
        self.reply_to: MessageRow | None = None
        self.show_profile: bool | None = None  # None: decided by the width
        self._open_timer: Any = None
        self._timer_idle = asyncio.Event()
        self._timer_idle.set()
        self._throttle: dict[str, Any] = {}
        #: When each throttled callback last ran (``time.monotonic``).
        self._throttle_ran: dict[str, float] = {}
        self._parts: dict[type[Widget], Widget] = {}
        self._throttle_idle = asyncio.Event()
        self._throttle_idle.set()
        self._unread: dict[str, int] = {}
        self._queue_mode: QueueMode | None = None
        self._missed_asked: set[str] = set()

    @property
    def console(self) -> ConsoleApp:
        """The app, with its settings (clock, alerts, delays), services and collector."""
        return cast("ConsoleApp", self.app)

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.console.clock

    @property
    def notifier(self) -> Notifier:
        return self.console.notifier

    @property
    def queue_mode(self) -> QueueMode:
        """The queue across accounts and working from it (console.tui.queue, issue 16)."""
        if self._queue_mode is None:
            console = self.console
            self._queue_mode = QueueMode(
                self,
                rules=console.badge_rules,
                sort=console.queue_sort,
                waiting_alert_minutes=console.waiting_alert_minutes,
            )
        return self._queue_mode

    def part(self, kind: type[W]) -> W | None:
        """The screen's one widget of ``kind``, or ``None`` while it is not mounted (updates
        still come in as the app shuts down).

        A query walks every node (~2 ms with a full thread), once per update: the widget is
        looked up once.
        """
        widget = self._parts.get(kind)
        if isinstance(widget, kind) and widget.is_attached:
            return widget
        try:
            found = self.query_one(kind)
        except NoMatches:
            return None
        self._parts[kind] = found
        return found

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Textual restyles every node of a screen when it is shown. The first time, each one
        # was styled as it mounted, a moment before, with the final stylesheet and theme (the
        # theme is applied before the app starts): ~15 ms of the first frame for nothing.
        # Screens closed over this one later still bring the restyle.
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False
        super()._on_screen_resume(event)

    def compose(self) -> ComposeResult:
        yield AccountTabs([tab_name(a.name) for a in self.accounts], id="accounts")
        yield OfflineBanner(id="offline-banner")
        with Horizontal(id="main"):
            with Vertical(id="chats-pane"):
                yield Static(id="filter-bar")
                yield NameFilter(placeholder="s: filter by name", id="search", compact=True)
                yield ChatList(
                    self.source,
                    clock=self.clock,
                    waiting_alert_minutes=self.console.waiting_alert_minutes,
                    badge_rules=self.console.badge_rules,
                    id="chat-list",
                )
            with Vertical(id="thread-pane"):
                yield Static(id="thread-title")
                yield PinnedStrip(id="pinned")
                yield FollowUpStrip(id="follow-ups")
                yield Thread(self.source, id="thread")
                yield ReplyBar(id="reply-bar")
                yield Composer(id="composer")
            yield FanProfile(clock=self.clock, id="profile")
        yield StatusLine(clock=self.clock, id="status")
        # The footer comes with the rest after the first paint (see _after_first_paint).

    def update_layout(self, width: int | None = None) -> None:
        profile = self.part(FanProfile)
        if profile is None:  # the app's first resize comes before the screen is composed
            return
        narrow = (self.app.size.width if width is None else width) < NARROW_WIDTH
        profile.display = self.show_profile if self.show_profile is not None else not narrow
        self.set_class(narrow, "-narrow")

    async def _refresh_accounts(self) -> None:
        """Add tabs for accounts that appeared (the gateway listed them after start)."""
        tabs = self.query_one(AccountTabs)
        for account in self.source.accounts():
            if account.account_id in self.views or not self.account_layout.visible(account):
                continue
            self.accounts.append(account)
            self.views[account.account_id] = _AccountView()
            tabs.add(tab_name(account.name))
        if self.account_id is None and self.accounts:
            self._show_account(self.accounts[0].account_id)
            self.query_one("#thread-title", Static).update(Content(""))
            self.query_one(ChatList).focus()
            if self.console.queue_default:  # a first start: the accounts came from the gateway
                self.queue_mode.show()
        self.post_message(UnreadStale())

    # -- accounts and chats ------------------------------------------------------------------

    @on(AccountTabs.Activated, "#accounts")
    async def _tab_activated(self, event: AccountTabs.Activated) -> None:
        if not 0 <= event.index < len(self.accounts):
            return
        account_id = self.accounts[event.index].account_id
        if account_id != self.account_id:
            await self.save_draft()
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
        self.query_one(AccountTabs).active = index

    def action_account(self, index: int) -> None:
        if 0 <= index < len(self.accounts):
            self.query_one(AccountTabs).active = index

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
        if self.console.open_delay <= 0:
            self._open_chat(message.account_id, message.chat_id, focus_composer=False)
            return

        def fire() -> None:
            self._open_timer = None
            self._timer_idle.set()
            self._open_chat(message.account_id, message.chat_id, focus_composer=False)

        self._timer_idle.clear()
        self._open_timer = self.set_timer(self.console.open_delay, fire)

    def jump_to(self, account_id: str, chat_id: str, message_id: str | None = None) -> None:
        """Show ``chat_id`` of ``account_id`` (palette, next unread), at ``message_id`` if
        given (a search result)."""
        if account_id != self.account_id:
            self.call_later(self._jump_across, account_id, chat_id, message_id)
        else:
            self.query_one(ChatList).move_to_chat(chat_id)
            self._open_chat(account_id, chat_id, focus_composer=False, message_id=message_id)

    async def _jump_across(self, account_id: str, chat_id: str, message_id: str | None) -> None:
        await self.save_draft()
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
        await self.save_draft()
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
        with self.app.batch_update():
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
        if row.fan_id is not None:  # a chat known only from an event may have no fan yet
            self.source.refresh_fan(account_id, row.fan_id)
        if self.console.team is not None:  # team mode: say where this chatter is; the notes
            from console.tui.team_view import load_notes

            self._run(self.console.team.tell(chat_id))
            self._run(load_notes(self, self.console.team))  # type: ignore[arg-type]
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
        composer = self.query_one(Composer)
        composer.bind(target, draft)
        composer.set_guard(guard_for(self.console.guard_settings, target))

    async def save_draft(self) -> None:
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
        if message.composer.text.strip("\n") != message.text:
            # A second Enter of a burst, posted before the first was handled (keys arrive
            # bunched over SSH or on a loaded machine): its text was sent and left the
            # composer (or waits on a guard question). Never a second send.
            return
        team = self.console.team
        # What Enter sent leaves the composer now, before any wait (team mode asks its server
        # first): what the chatter types from here on is the next message, never cleared with
        # this one. A guard question answered "no" puts this one back.
        quoted = self.reply_to
        if quoted is not None and quoted.chat_id != message.target.chat_id:
            quoted = None
        message.composer.clear_sent()
        self._set_reply_to(None)
        if team is not None:  # a teammate just replied here? ask first
            from console.tui.team_view import ask_before_send

            if await ask_before_send(self, team, message, quoted, self._send_submitted):
                return
        await self._send_submitted(message, quoted)

    async def _send_submitted(self, message: Composer.Submitted, quoted: MessageRow | None) -> None:
        # The chat named in the composer's header when Enter was pressed, whatever the list
        # did since.
        target = message.target
        account_id, chat_id, text = target.account_id, target.chat_id, message.text
        reply_to = quoted.key if quoted is not None else None
        media = message.media
        if media is not None:
            sending = self.source.send_media(
                account_id, chat_id, text, media.media_ids, media.price_dollars,
                media.preview_id, reply_to,
            )  # fmt: skip
            await self._act(sending)
        else:
            await self._act(self.source.send(account_id, chat_id, text, reply_to))
        await self._act(self.source.save_draft(account_id, chat_id, ""))
        await self._act(self.queue_mode.sent(account_id, chat_id))

    async def put_back(
        self,
        account_id: str,
        chat_id: str,
        text: str,
        media: MediaChoice | None = None,
        quoted: MessageRow | None = None,
    ) -> bool:
        """A reply that was not sent back in the composer, before what was typed since, with
        its media and the message it quoted (``True``); in its chat's draft if the composer has
        moved to another chat meanwhile (``False``, and a toast says so)."""
        composer = self.query_one(Composer)
        target = composer.target
        if target is None or (target.account_id, target.chat_id) != (account_id, chat_id):
            draft = await self.source.draft(account_id, chat_id)
            joined = "\n".join(part for part in (text, draft) if part.strip())
            await self._act(self.source.save_draft(account_id, chat_id, joined))
            self.notify("Not sent: the text is kept in that chat's draft.", markup=False)
            return False
        composer.load_draft("\n".join(part for part in (text, composer.text) if part.strip()))
        if composer.media is None:
            composer.attach(media)
        if quoted is not None and self.reply_to is None:
            self._set_reply_to(quoted)
        composer.focus()
        return True

    @on(Composer.Changed)
    def _composer_changed(self) -> None:
        # No new order under a typing chatter (at exit the list may be gone already).
        for chat_list in self.query(ChatList):
            chat_list.chatter_active()
        # Kept as the chatter types, so a crash or a killed terminal loses at most a moment.
        self._throttled("draft", self._save_draft_soon)

    @work(group="draft", exclusive=True, exit_on_error=False)
    async def _save_draft_soon(self) -> None:
        await self.save_draft()

    @on(Composer.Typing)
    def _typing(self, message: Composer.Typing) -> None:
        target = self.query_one(Composer).target
        if target is not None:
            self._run(self.source.typing(target.account_id, target.chat_id))
            if self.console.team is not None:
                self._run(self.console.team.tell(target.chat_id, typing=True))

    @on(Composer.Refused)
    def _refused(self, message: Composer.Refused) -> None:
        self.notify(message.reason, severity="warning", markup=False)

    @on(Composer.Left)
    def _left(self) -> None:
        if self.reply_to is not None:
            self._set_reply_to(None)
        elif not self.queue_mode.left():
            self.query_one(ChatList).focus()

    def _set_reply_to(self, message: MessageRow | None) -> None:
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
        self.set_focus(self.query_one("#search", Input))

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
            "unanswered": "waiting",  # unanswered: the fan waits for an answer
            "vip": "VIP",
            "subscribers": "subs",
        }
        parts: list[Content] = []
        for name in CHAT_FILTERS:
            style = "bold reverse" if name == current else "$text-muted"
            parts.append(Content.styled(f" {names[name]} ", style))
        self.query_one("#filter-bar", Static).update(Content.assemble(*parts))

    # -- the open chat's state ---------------------------------------------------------------

    def _show_title(self, row: Any) -> None:
        self._title_muted = bool(row.muted)
        self._title_row = row
        team = self.console.team
        self.query_one("#thread-title", Static).update(
            Content.assemble(
                plain(fan_label(row.fan_name, getattr(row, "fan_username", "")), style="bold"),
                Content.styled("  muted" if row.muted else "", "$text-warning"),
                *([_team_title(team, self.chat_id)] if team is not None else []),
            )
        )

    def show_team_title(self) -> None:
        """Presence changed (team mode): the header says who else is here."""
        row = getattr(self, "_title_row", None)
        if row is not None and row.chat_id == self.chat_id:
            self._show_title(row)

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

    # -- waiting for quiet (the app's ``settled``) ---------------------------------------

    def timers_pending(self) -> bool:
        """A chat waits to open (the debounce), the list holds a new order back, or a reload
        waits for its throttle."""
        chat_list = self.part(ChatList)
        return (
            self._open_timer is not None
            or bool(chat_list and chat_list.holding)
            or bool(self._throttle)
        )

    async def wait_timers(self) -> None:
        # The debounce is time by design; a test sets ``open_delay = 0``.
        await self._timer_idle.wait()
        await self._throttle_idle.wait()
        chat_list = self.part(ChatList)
        if chat_list is not None:
            await chat_list.hold_idle.wait()

    # -- running actions ---------------------------------------------------------------------

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

    def _throttled(
        self, name: str, callback: Callable[[], object], interval: float = RELOAD_INTERVAL
    ) -> None:
        """Run ``callback`` at most once per ``interval``: a backfill or a webhook burst
        publishes hundreds of "changed" updates a second, and each reload reads the store.

        The first call after a quiet interval runs as soon as the messages already queued are
        handled (a webhook posts several "changed" messages at once: one run for them all),
        without waiting out the interval (that wait was half of the queue's webhook-to-screen
        time); calls within the interval after a run make one more run at its end, so the
        last change is always shown."""
        if name in self._throttle:
            return
        wait = self._throttle_ran.get(name, float("-inf")) + interval - time.monotonic()

        def fire() -> None:
            self._throttle.pop(name, None)
            self._throttle_ran[name] = time.monotonic()
            callback()
            if not self._throttle:
                self._throttle_idle.set()

        self._throttle_idle.clear()
        if wait <= 0:
            self._throttle[name] = True
            if not self.call_later(fire):  # the screen is closing: nothing left to refresh
                self._throttle.pop(name, None)
                if not self._throttle:
                    self._throttle_idle.set()
        else:
            self._throttle[name] = self.set_timer(wait, fire)

    def account_name(self, account_id: str) -> str:
        """The account's name for a toast (one line, plain), its id if it is not listed."""
        for account in self.accounts:
            if account.account_id == account_id:
                return clean(account.name, one_line=True) or account_id
        return account_id


def _team_title(team: Any, chat_id: str | None) -> Content:
    from console.tui.team_view import title_label

    return title_label(team, chat_id)
