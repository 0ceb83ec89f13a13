"""The chat list: a line-API ``ScrollView`` that renders only the rows on screen.

Rows are read from the source by window (offset/limit) around the viewport and kept in a
small cache; 10,000 chats cost what 20 cost. Each chat takes two lines: name, badges and how
long the fan has waited; then the preview.

The cursor belongs to a chat, not to a row: when new messages move rows, it stays on the same
chat id (the list scrolls to keep it in view). And the list does not reorder under a chatter
who is moving through it or typing a reply: a new order is applied once they pause
(``reorder_pause`` seconds without a key), never mid-keystroke. We chose this over a
"3 chats updated, press a key to refresh" line: the list still comes up to date by itself,
and a chatter never has to learn a key to see who is waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events, work
from textual._time import get_time
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.timer import Timer

from console.store.queue import BadgeRules, badges
from console.tui.line_styles import StyledScrollView
from console.tui.messages import ChatSelected
from console.tui.source import ChatFilter, ChatRow, ConsoleSource
from console.tui.text import ago, clean, fan_label, utcnow

ROW_LINES = 2
_MARGIN = 40  # rows fetched beyond the viewport each way, so scrolling rarely waits
#: Seconds without a key (in the list or the composer) before a new order is applied.
REORDER_PAUSE = 0.8
#: How far down the list the cursor's chat is looked for when it left the loaded window.
_LOCATE_LIMIT = 2_000
_LOCATE_PAGE = 200


class ChatList(StyledScrollView, can_focus=True):
    """Chats of one account, newest activity first, pinned on top."""

    COMPONENT_CLASSES = {
        "chat-list--cursor",
        "chat-list--name",
        "chat-list--preview",
        "chat-list--unread",
        "chat-list--waiting",
        "chat-list--pinned",
        "chat-list--vip",
        "chat-list--muted",
        "chat-list--time",
        "chat-list--badge",
    }

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="chats.up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="chats.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="chats.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="chats.page_down"),
        Binding("home", "jump(0)", "First chat", show=False, id="chats.first"),
        Binding("end", "jump(-1)", "Last chat", show=False, id="chats.last"),
        Binding(
            "enter", "open", "Open", id="chats.open", tooltip="Open the chat and write a reply"
        ),
    ]

    _COMPONENTS = tuple(sorted(COMPONENT_CLASSES))

    cursor: reactive[int] = reactive(0, always_update=True)

    class FirstPainted(Message):
        """The first window of chats is on screen: the app starts its network side now."""

    def __init__(
        self,
        source: ConsoleSource,
        *,
        clock: Callable[[], datetime] = utcnow,
        waiting_alert_minutes: int = 15,
        badge_rules: BadgeRules | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.source = source
        self.badge_rules = badge_rules or BadgeRules()
        self.clock = clock
        self.waiting_alert_seconds = waiting_alert_minutes * 60
        self.account_id: str | None = None
        self.filter: ChatFilter = ChatFilter.ALL
        self.search = ""
        self.total = 0
        self.rows: dict[int, ChatRow] = {}
        self.selected_chat_id: str | None = None
        self._generation = 0
        self._pending_window: tuple[int, int] | None = None
        #: When set, each cursor move appends key event → repainted seconds (the bench).
        self.latency_probe: list[float] | None = None
        self._key_time: float | None = None
        self._loaded_once = False
        #: See the module's docstring; tests set 0 to apply every new order at once.
        self.reorder_pause = REORDER_PAUSE
        self._last_input = float("-inf")
        self._hold_timer: Timer | None = None
        #: Set while no reload is held back (tests wait on it, as on the app's timers).
        self.hold_idle = asyncio.Event()
        self.hold_idle.set()
        #: Team mode: who else is in a chat ("anna", "anna is typing…"), shown before the
        #: preview; None in solo mode.
        self.presence: Callable[[str], str] | None = None

    # -- loading -------------------------------------------------------------------------

    def show(
        self, account_id: str, filter: ChatFilter, search: str, cursor_chat: str | None
    ) -> None:
        """Point the list at an account/filter/search and (re)load it."""
        changed = (account_id, filter, search) != (self.account_id, self.filter, self.search)
        self.account_id, self.filter, self.search = account_id, filter, search
        self.selected_chat_id = cursor_chat
        if changed:
            self.rows.clear()
            self.set_reactive(ChatList.cursor, 0)
            self.scroll_to(y=0, animate=False, immediate=True)
            # Read before the app started: shown in the very first frame, no query to wait on.
            primed = self.source.preloaded_chats(account_id) if filter == "all" else None
            if primed is not None and not search:
                self._generation += 1
                self._apply_window(primed[0], 0, primed[1], keep_selection=True)
                return
        self._reload_now()  # asked for by the chatter: never held

    def chatter_active(self) -> None:
        """The chatter pressed a key here or typed in the composer: hold new orders back."""
        self._last_input = time.monotonic()

    @property
    def holding(self) -> bool:
        return self._hold_timer is not None

    def reload(self) -> None:
        """Re-read the count and the visible window (after a ``ChatsStale``), once the chatter
        pauses if they are active (see the module's docstring)."""
        wait = self._last_input + self.reorder_pause - time.monotonic()
        if wait > 0 and self.total:
            if self._hold_timer is None:
                self.hold_idle.clear()
                self._hold_timer = self.set_timer(wait, self._release)
            return
        self._reload_now()

    def _reload_now(self) -> None:
        if self._hold_timer is not None:
            self._hold_timer.stop()
            self._hold_timer = None
            self.hold_idle.set()
        self._generation += 1
        self._load(self._generation, keep_selection=True)

    def _release(self) -> None:
        self._hold_timer = None
        self.reload()  # held again if a key came since
        if self._hold_timer is None:
            self.hold_idle.set()

    @work(group="chat-list", exclusive=True, exit_on_error=False)
    async def _load(self, generation: int, keep_selection: bool) -> None:
        account_id = self.account_id
        if account_id is None:
            return
        start, end = self._window()
        # The size and the window in one read: one wait for the store's UI lane, not two.
        total, rows = await self.source.chat_window(
            account_id, self.filter, self.search, start, end - start
        )
        chosen = self.selected_chat_id
        if keep_selection and chosen and all(r.chat_id != chosen for r in rows):
            # The cursor's chat moved out of the window (others came above it): find it and
            # read the window around it, so the cursor stays on the same chat.
            index = await self._locate(account_id, chosen, total)
            if index is not None:
                start = max(0, index - _MARGIN)
                limit = 2 * _MARGIN + self.size.height // ROW_LINES + 2
                rows = await self.source.chats(account_id, self.filter, self.search, start, limit)
        if generation != self._generation:
            return
        self._apply_window(total, start, rows, keep_selection)

    async def _locate(self, account_id: str, chat_id: str, total: int) -> int | None:
        """The index of ``chat_id`` in the list, looked for page by page (bounded)."""
        for offset in range(0, min(total, _LOCATE_LIMIT), _LOCATE_PAGE):
            page = await self.source.chats(
                account_id, self.filter, self.search, offset, _LOCATE_PAGE
            )
            for i, row in enumerate(page):
                if row.chat_id == chat_id:
                    return offset + i
        return None

    def _apply_window(
        self, total: int, start: int, rows: list[ChatRow], keep_selection: bool
    ) -> None:
        self.total = total
        self.rows = {start + i: row for i, row in enumerate(rows)}
        self._set_virtual_height()
        if keep_selection:
            self._follow_selection(scroll=True)
        if self.cursor >= total:
            self.set_reactive(ChatList.cursor, max(0, total - 1))
        self.refresh()
        if not self._loaded_once:
            self._loaded_once = True
            self.call_after_refresh(self.post_message, self.FirstPainted())
        if self.selected_chat_id is None and total:
            self._select(open=False)

    def _follow_selection(self, scroll: bool) -> None:
        """Keep the cursor on the selected chat, wherever its row is now."""
        if not self.selected_chat_id:
            return
        found = next((i for i, r in self.rows.items() if r.chat_id == self.selected_chat_id), None)
        if found is None:
            return
        if found != self.cursor:
            self.set_reactive(ChatList.cursor, found)
        if scroll and self.size.height:
            self.scroll_to_region_of(found)

    def _window(self) -> tuple[int, int]:
        first = int(self.scroll_y) // ROW_LINES
        visible = self.size.height // ROW_LINES + 2
        return max(0, first - _MARGIN), first + visible + _MARGIN

    def _ensure_window(self) -> None:
        if self.account_id is None:
            return
        first = int(self.scroll_y) // ROW_LINES
        last = min(self.total, first + self.size.height // ROW_LINES + 1)
        if all(i in self.rows for i in range(first, last)):
            return
        self._fetch_window(self._generation)

    @work(group="chat-list-window", exclusive=True, exit_on_error=False)
    async def _fetch_window(self, generation: int) -> None:
        account_id = self.account_id
        if account_id is None:
            return
        start, end = self._window()
        rows = await self.source.chats(account_id, self.filter, self.search, start, end - start)
        if generation != self._generation:
            return
        # Keep the cache bounded: only the new window survives.
        self.rows = {start + i: row for i, row in enumerate(rows)}
        self._follow_selection(scroll=False)  # fresh rows may be in a new order
        self.refresh()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._ensure_window()

    def _set_virtual_height(self) -> None:
        size = Size(self.size.width, self.total * ROW_LINES)
        if size != self.virtual_size:  # a new virtual size means a layout pass
            self.virtual_size = size

    def on_resize(self) -> None:
        self._set_virtual_height()
        self._ensure_window()

    # -- cursor --------------------------------------------------------------------------

    @property
    def selected(self) -> ChatRow | None:
        return self.rows.get(self.cursor)

    def action_cursor(self, delta: int) -> None:
        self._move(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self._move(self.cursor + direction * max(1, self.size.height // ROW_LINES - 1))

    def action_jump(self, where: int) -> None:
        self._move(0 if where == 0 else self.total - 1)

    def action_open(self) -> None:
        self._select(open=True)

    def key_arrived(self, event: events.Key) -> None:
        """A key for the list (the app may run its binding itself: console/tui/key_order.py)."""
        self._key_time = event.time
        self.chatter_active()

    async def _on_key(self, event: events.Key) -> None:
        self.key_arrived(event)
        await super()._on_key(event)

    def _move(self, index: int) -> None:
        if not self.total:
            return
        started = self._key_time if self._key_time is not None else get_time()
        self._key_time = None
        old = self.cursor
        self.cursor = max(0, min(self.total - 1, index))
        self.refresh_lines(old * ROW_LINES, ROW_LINES)
        self.refresh_lines(self.cursor * ROW_LINES, ROW_LINES)
        self.scroll_to_region_of(self.cursor)
        self._select(open=False)
        if self.latency_probe is not None:
            probe = self.latency_probe
            self.call_after_refresh(lambda: probe.append(get_time() - started))

    def scroll_to_region_of(self, index: int) -> None:
        top = index * ROW_LINES
        if top < self.scroll_y:
            self.scroll_to(y=top, animate=False, immediate=True)
        elif top + ROW_LINES > self.scroll_y + self.size.height:
            self.scroll_to(y=top + ROW_LINES - self.size.height, animate=False, immediate=True)

    def move_to_chat(self, chat_id: str) -> None:
        """Put the cursor on ``chat_id`` if it is in the loaded window."""
        self.selected_chat_id = chat_id
        for index, row in self.rows.items():
            if row.chat_id == chat_id:
                self.set_reactive(ChatList.cursor, index)
                self.scroll_to_region_of(index)
                self.refresh()
                return

    def update_row(self, row: ChatRow) -> None:
        """Show a chat's new state in its row where it is now (no reorder, no query)."""
        for index, shown in self.rows.items():
            if shown.chat_id == row.chat_id:
                if shown != row:
                    self.rows[index] = row
                    self.refresh_lines(index * ROW_LINES, ROW_LINES)
                return

    def _select(self, open: bool) -> None:
        row = self.selected
        if row is None:
            self._ensure_window()
            return
        self.selected_chat_id = row.chat_id
        self.post_message(ChatSelected(row.account_id, row.chat_id, row.fan_id, open=open))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # -- rendering -------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        line = int(self.scroll_y) + y
        index, part = divmod(line, ROW_LINES)
        base = self._style("")
        row = self.rows.get(index)
        if row is None:
            return Strip.blank(width, base)
        style = base
        if row.muted:
            style += self._style("chat-list--muted")
        if index == self.cursor:
            style += self._style("chat-list--cursor")
            if not self.has_focus:
                style += Style(dim=True) if not row.muted else Style()
        segments = (
            self._name_line(row, width, style)
            if part == 0
            else self._preview_line(row, width, style)
        )
        return Strip(segments).adjust_cell_length(width, style)

    def _name_line(self, row: ChatRow, width: int, style: Style) -> list[Segment]:
        marker = " "
        marker_style = style
        if row.pinned:
            marker, marker_style = "▲", style + self._style("chat-list--pinned")
        elif row.vip:
            marker, marker_style = "★", style + self._style("chat-list--vip")
        right: list[Segment] = []
        now = self.clock()
        # The queue's badges (issue 16); VIP is the ★ mark already.
        for word in badges(row, self.badge_rules, now).words():
            if word != "VIP":
                right.append(Segment(f" {word}", style + self._style("chat-list--badge")))
        if row.unread:
            right.append(Segment(f" {row.unread} ", style + self._style("chat-list--unread")))
        if row.waiting_since is not None:
            waited = (now - row.waiting_since).total_seconds()
            name = (
                "chat-list--waiting" if waited >= self.waiting_alert_seconds else "chat-list--time"
            )
            right.append(Segment(f" {ago(row.waiting_since, now)}", style + self._style(name)))
        elif row.last_activity is not None:
            right.append(
                Segment(
                    f" {ago(row.last_activity, now)}",
                    style + self._style("chat-list--time"),
                )
            )
        right_len = sum(cell_len(s.text) for s in right)
        name_width = max(1, width - 2 - right_len)
        name = set_cell_size(fan_label(row.fan_name, row.fan_username), name_width)
        name_style = style + self._style("chat-list--name")
        if row.vip and not row.pinned:
            name_style += self._style("chat-list--vip")
        return [
            Segment(marker, marker_style),
            Segment(" ", style),
            Segment(name, name_style),
            *right,
        ]

    def _preview_line(self, row: ChatRow, width: int, style: Style) -> list[Segment]:
        preview_style = style + self._style("chat-list--preview")
        # Muted fans are marked in words, not only dimmed: a colour alone is easy to miss.
        tag = "muted · " if row.muted else ""
        here = self.presence(row.chat_id) if self.presence is not None else ""
        if here:  # a teammate's name: plain text, bounded (console/tui/team_ui.py)
            here, most = clean(here, one_line=True), max(1, min(32, width // 2))
            if cell_len(here) > most:
                here = set_cell_size(here, most - 1) + "…"
            here += " · "
        room = max(0, width - 2 - len(tag) - cell_len(here))
        # Cut before cleaning: a preview may be a whole long message (bounded work per line).
        text = set_cell_size(clean(row.preview[: room * 4 + 64], one_line=True), room)
        segments = [Segment("  ", style)]
        if tag:
            segments.append(Segment(tag, style + self._style("chat-list--muted")))
        if here:
            segments.append(Segment(here, style + self._style("chat-list--badge")))
        return [*segments, Segment(text, preview_style)]
