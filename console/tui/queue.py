"""The queue (issue 16): every chat waiting for an answer, across every account, in one list.

Longest-waiting first by default (``o`` cycles: waiting, spend, newest). Each row: how long the
fan has waited, the fan, their badges ($ / $$ / $$$ by lifetime spend, VIP, a tip or purchase
in the last day, a new subscriber, a subscription expiring or expired), the account; then the
last message. A chat whose reminder is due comes first, marked "⏰ reminder".

``Enter`` answers the chat under the cursor (the top one when the queue opens): the console
opens it with the composer focused, and once the reply is sent it opens the next chat of the
queue by itself, until nobody waits (``Esc`` in the composer comes back here). Like the chat
list, this is a line-API ``ScrollView`` that reads only the rows on screen from the cache, so
50,000 waiting chats cost what 20 do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events, work
from textual._time import get_time
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.geometry import Size
from textual.message import Message
from textual.screen import Screen
from textual.strip import Strip
from textual.widgets import Static

from console.store.queue import QUEUE_SORTS, BadgeRules, badges
from console.tui.line_styles import StyledScrollView
from console.tui.source import ConsoleSource, QueueRow
from console.tui.text import ago, clean, fan_label, utcnow

if TYPE_CHECKING:
    from console.tui.app import ConsoleApp
    from console.tui.chats_screen import ChatsScreen

ROW_LINES = 2
_MARGIN = 30


class QueueList(StyledScrollView, can_focus=True):
    """The queue's rows, read by window."""

    COMPONENT_CLASSES = {
        "queue--cursor",
        "queue--name",
        "queue--preview",
        "queue--waiting",
        "queue--time",
        "queue--badge",
        "queue--whale",
        "queue--account",
        "queue--reminder",
    }
    _COMPONENTS = tuple(sorted(COMPONENT_CLASSES))

    DEFAULT_CSS = """
    QueueList { height: 1fr; }
    QueueList > .queue--cursor { background: $primary 35%; }
    QueueList:focus > .queue--cursor { background: $primary 60%; }
    QueueList > .queue--name { text-style: bold; }
    QueueList > .queue--preview { color: $text-muted; }
    QueueList > .queue--waiting { color: $waiting-too-long; text-style: bold; }
    QueueList > .queue--time { color: $text-muted; }
    QueueList > .queue--badge { color: $vip; }
    QueueList > .queue--whale { color: $warning; text-style: bold reverse; }
    QueueList > .queue--account { color: $text-accent; }
    QueueList > .queue--reminder { color: $warning; text-style: bold; }
    """

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="queue.up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="queue.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="queue.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="queue.page_down"),
        Binding("home", "jump(0)", "First", show=False, id="queue.first"),
        Binding("end", "jump(-1)", "Last", show=False, id="queue.last"),
    ]

    def __init__(
        self,
        source: ConsoleSource,
        account_ids: Callable[[], Sequence[str]],
        account_names: Callable[[str], str],
        *,
        rules: BadgeRules,
        clock: Callable[[], datetime] = utcnow,
        waiting_alert_minutes: int = 15,
        sort: str = "waiting",
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.source = source
        self.account_ids = account_ids
        self.account_names = account_names
        self.rules = rules
        self.clock = clock
        self.waiting_alert_seconds = waiting_alert_minutes * 60
        self.sort = sort
        self.total = 0
        self.rows: dict[int, QueueRow] = {}
        self.cursor = 0
        #: The chat under the cursor, kept there (by id) when a reload moves rows.
        self.selected_key: tuple[str, str] | None = None
        self._generation = 0
        #: Set when the first window is on screen (tests and the bench wait for it).
        self.loaded = False
        #: When set, each cursor move appends key event → repainted seconds (the bench).
        self.latency_probe: list[float] | None = None
        self._key_time: float | None = None
        self._asked: set[tuple[str, str]] = set()
        #: Account names as shown (read once per load: a tab's name may change).
        self._names: dict[str, str] = {}

    # -- loading -------------------------------------------------------------------------

    def reload(self, *, to_top: bool = False) -> None:
        """Read the count and the window again (after a change, or a new sort)."""
        if to_top:
            self.selected_key = None
            self.cursor = 0
            self.scroll_to(y=0, animate=False, immediate=True)
        self._generation += 1
        self._names.clear()
        self._load(self._generation)

    @work(group="queue", exclusive=True, exit_on_error=False)
    async def _load(self, generation: int) -> None:
        ids = list(self.account_ids())
        now = self.clock()
        start, end = self._window()
        rows = await self.source.queue(ids, self.sort, start, end - start, now)
        if generation != self._generation:
            return
        # The window is painted first; the count (~10-20 ms over 30,000 waiting chats) comes
        # right after: until then the total is what the window shows.
        self._apply(start, rows, max(self.total, start + len(rows)))
        total = await self.source.queue_count(ids, now)
        if generation != self._generation:
            return
        self._apply(start, rows, total)
        # The spend order ranks only the fans whose spend was fetched (it is not in the
        # gateway's chat list): the title says for how many, rather than pretend.
        known = await self.source.queue_spend_known(ids) if self.sort == "spend" else None
        if generation != self._generation:
            return
        self.post_message(QueueScreen.Counted(total, known))

    def _apply(self, start: int, rows: list[QueueRow], total: int) -> None:
        self.total = total
        self.rows = {start + i: row for i, row in enumerate(rows)}
        self.virtual_size = Size(self.size.width, total * ROW_LINES)
        # A cursor on the top stays on the top (whoever comes first now: Enter answers the
        # top one); elsewhere it stays on its chat as rows move.
        key = self.selected_key if self.cursor else None
        found = next((i for i, r in self.rows.items() if _key(r) == key), None)
        if found is not None:
            self.cursor = found
        self.cursor = max(0, min(self.cursor, total - 1))
        selected = self.rows.get(self.cursor)
        self.selected_key = _key(selected) if selected is not None else None
        self.loaded = True
        self._fetch_unknown_fans()
        self.refresh()

    def _fetch_unknown_fans(self) -> None:
        """Fans on screen whose spend was never fetched: ask the gateway once each, so their
        badges show (three billed calls a fan; only the rows on screen, once per session)."""
        first = int(self.scroll_y) // ROW_LINES
        for index in range(first, first + self.size.height // ROW_LINES + 1):
            row = self.rows.get(index)
            if row is None or row.chat.spend_millis is not None or not row.chat.fan_id:
                continue
            key = (row.chat.account_id, row.chat.fan_id)
            if key not in self._asked:
                self._asked.add(key)
                self.source.refresh_fan(*key)

    def _window(self) -> tuple[int, int]:
        first = int(self.scroll_y) // ROW_LINES
        visible = max(1, self.size.height // ROW_LINES) + 2
        start = max(0, min(first, self.cursor) - _MARGIN)
        return start, max(first, self.cursor) + visible + _MARGIN

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        first = int(new_value) // ROW_LINES
        last = min(self.total, first + self.size.height // ROW_LINES + 1)
        if not all(i in self.rows for i in range(first, last)):
            self._generation += 1
            self._load(self._generation)

    # -- cursor --------------------------------------------------------------------------

    @property
    def selected(self) -> QueueRow | None:
        return self.rows.get(self.cursor)

    def key_arrived(self, event: events.Key) -> None:
        """A key for the queue (the app may run its binding itself: console/tui/key_order.py)."""
        self._key_time = event.time

    async def _on_key(self, event: events.Key) -> None:
        self.key_arrived(event)
        await super()._on_key(event)

    def action_cursor(self, delta: int) -> None:
        self._move(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self._move(self.cursor + direction * max(1, self.size.height // ROW_LINES - 1))

    def action_jump(self, where: int) -> None:
        self._move(0 if where == 0 else self.total - 1)

    def _move(self, index: int) -> None:
        if not self.total:
            return
        started = self._key_time if self._key_time is not None else get_time()
        self._key_time = None
        old = self.cursor
        self.cursor = max(0, min(self.total - 1, index))
        row = self.rows.get(self.cursor)
        self.selected_key = _key(row) if row is not None else None
        self.refresh_lines(old * ROW_LINES, ROW_LINES)
        top = self.cursor * ROW_LINES
        if top < self.scroll_y:
            self.scroll_to(y=top, animate=False, immediate=True)
        elif top + ROW_LINES > self.scroll_y + self.size.height:
            self.scroll_to(y=top + ROW_LINES - self.size.height, animate=False, immediate=True)
        self.refresh_lines(self.cursor * ROW_LINES, ROW_LINES)
        if row is None:
            self._generation += 1
            self._load(self._generation)
        if self.latency_probe is not None:
            probe = self.latency_probe
            self.call_after_refresh(lambda: probe.append(get_time() - started))

    # -- rendering -------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index, part = divmod(int(self.scroll_y) + y, ROW_LINES)
        style = self._style("")
        row = self.rows.get(index)
        if row is None:
            return Strip.blank(width, style)
        if index == self.cursor:
            style += self._style("queue--cursor")
            if not self.has_focus:
                style += Style(dim=True)
        segments = self._top_line(row, width, style) if part == 0 else self._preview(row, style)
        return Strip(segments).adjust_cell_length(width, style)

    def _top_line(self, row: QueueRow, width: int, style: Style) -> list[Segment]:
        chat, now = row.chat, self.clock()
        left: list[Segment] = []
        if row.reminder_due is not None:
            left.append(Segment("⏰ reminder ", style + self._style("queue--reminder")))
        since = chat.waiting_since
        if since is not None:
            waited = (now - since).total_seconds()
            kind = "queue--waiting" if waited >= self.waiting_alert_seconds else "queue--time"
            left.append(Segment(f"{ago(since, now):>4} ", style + self._style(kind)))
        else:
            left.append(Segment("   · ", style + self._style("queue--time")))
        marks = badges(chat, self.rules, now)
        words = marks.words()
        right: list[Segment] = []
        for word in words:
            name = "queue--whale" if word.startswith("$") and marks.tier >= 3 else "queue--badge"
            right.append(Segment(f" {word}", style + self._style(name)))
        account = self._names.get(chat.account_id)
        if account is None:
            account = self._names[chat.account_id] = clean(
                self.account_names(chat.account_id), one_line=True
            )[:24]
        right.append(Segment(f"  {account}", style + self._style("queue--account")))
        used = sum(cell_len(s.text) for s in left) + sum(cell_len(s.text) for s in right)
        name = set_cell_size(fan_label(chat.fan_name, chat.fan_username), max(1, width - used))
        return [*left, Segment(name, style + self._style("queue--name")), *right]

    def _preview(self, row: QueueRow, style: Style) -> list[Segment]:
        width = self.scrollable_content_region.width
        room = max(0, width - 5)
        text = set_cell_size(clean(row.chat.preview[: room * 4 + 64], one_line=True), room)
        return [Segment("     ", style), Segment(text, style + self._style("queue--preview"))]


def _key(row: QueueRow | None) -> tuple[str, str] | None:
    return None if row is None else (row.chat.account_id, row.chat.chat_id)


_SORT_NAMES = {"waiting": "longest waiting", "spend": "spend", "newest": "newest"}


class QueueScreen(Screen[tuple[str, str] | None]):
    """The queue across accounts. Dismissed with the chat to answer, or ``None`` (back)."""

    BINDINGS = [
        Binding("enter", "answer", "Answer", id="queue.answer", tooltip="Answer this chat"),
        Binding(
            "o",
            "cycle_sort",
            "Sort",
            id="queue.sort",
            tooltip="Sort the queue: longest waiting, spend, newest",
        ),
        Binding(
            "z",
            "snooze",
            "Remind me",
            id="queue.snooze",
            tooltip="Remind me about this chat later (it leaves the queue until then)",
        ),
        Binding("escape,w", "back", "Chats", id="queue.back", tooltip="Back to the chat list"),
        Binding(
            "g",
            "switch_account",
            "Accounts",
            id="queue.switch_account",
            tooltip="Go to any account (leaves the queue)",
        ),
    ]

    class Counted(Message):
        """The queue's size, as last read."""

        def __init__(self, total: int, spend_known: tuple[int, int] | None = None) -> None:
            super().__init__()
            self.total = total
            #: With the spend order: (waiting fans whose spend is known, all waiting fans).
            self.spend_known = spend_known

    DEFAULT_CSS = """
    #queue-title { height: 1; background: $panel; }
    #queue-keys { height: 1; color: $text-muted; background: $panel; }
    """

    def __init__(self, queue: QueueList) -> None:
        super().__init__(id="queue-screen")
        self.queue = queue

    def compose(self) -> ComposeResult:
        yield Static(id="queue-title")
        yield self.queue
        yield Static(
            Content.from_markup(
                "[b]Enter[/] answer (then the next, by itself)  [b]o[/] sort  "
                "[b]z[/] remind me later  [b]g[/] account  [b]Esc[/] chats"
            ),
            id="queue-keys",
        )

    def on_mount(self) -> None:
        self._title(None)
        self.queue.focus()

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Textual restyles every node of a screen each time it is shown (~10 ms of the
        # queue's first screen). Kept installed, this one was styled on its last visit: again
        # only if the app's stylesheet changed since (a new theme), which Textual's own
        # refresh of the stylesheet does not bring to a screen out of the stack. (Textual
        # calls Screen's own handler after this one, with the event as left here; a class
        # has either ``_on_screen_resume`` or ``on_screen_resume`` dispatched, not both.)
        current = self.app._css_update_count
        if self._css_update_count == current:
            event.refresh_styles = False
        self._css_update_count = current
        # Shown (first or again, after answering): read afresh, the top one under the cursor.
        self.queue.reload(to_top=True)

    def on_queue_screen_counted(self, message: QueueScreen.Counted) -> None:
        self._title(message.total, message.spend_known)

    def _title(self, total: int | None, spend_known: tuple[int, int] | None = None) -> None:
        accounts = len(self.queue.account_ids())
        count = "…" if total is None else f"{total:,}"
        waiting, hint = "waiting for an answer", Content("")
        if spend_known is not None and spend_known[0] < spend_known[1]:
            # Spend comes with a fan's profile, fetched as fans are shown (three billed calls
            # each): the others rank after the known ones, longest waiting first. Said in
            # the title (shortened to fit 80 columns), rather than pretend.
            waiting = "waiting"
            hint = Content.styled(
                f", known for {spend_known[0]:,}/{spend_known[1]:,} fans", "$text-warning"
            )
        self.query_one("#queue-title", Static).update(
            Content.assemble(
                Content.styled(" Queue ", "bold reverse"),
                f"  {count} {waiting} across {accounts} accounts · sorted by ",
                Content.styled(_SORT_NAMES.get(self.queue.sort, self.queue.sort), "bold"),
                hint,
            )
        )

    def action_answer(self) -> None:
        row = self.queue.selected
        if row is None:
            self.notify("Nobody is waiting for an answer.", markup=False)
            return
        self.dismiss((row.chat.account_id, row.chat.chat_id))

    def action_cycle_sort(self) -> None:
        sorts = [s.value for s in QUEUE_SORTS]
        current = sorts.index(self.queue.sort) if self.queue.sort in sorts else 0
        self.queue.sort = sorts[(current + 1) % len(sorts)]
        self._title(None)
        self.queue.reload(to_top=True)

    def action_snooze(self) -> None:
        row = self.queue.selected
        if row is None:
            return
        from console.tui.followup import remind

        who = fan_label(row.chat.fan_name, row.chat.fan_username)
        remind(self._chats, row.chat.account_id, row.chat.chat_id, who)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_switch_account(self) -> None:
        self._chats.action_switch_account()

    @property
    def _chats(self) -> ChatsScreen:
        return cast("ConsoleApp", self.app).chats_screen


class QueueMode:
    """Working from the queue: the chat chosen there opens with the composer focused, and once
    the reply is sent the next chat of the queue opens by itself (the chatter never goes back
    to a list between two answers); ``Esc`` in the composer shows the queue again.

    Held by the chats screen (``queue_mode``), which calls :meth:`sent` after a reply is
    queued and :meth:`left` when the composer is left."""

    def __init__(
        self,
        view: Any,  # the chats screen (console.tui.chats_screen.ChatsScreen)
        *,
        rules: BadgeRules,
        sort: str = "waiting",
        waiting_alert_minutes: int = 15,
    ) -> None:
        self.view = view
        self.rules = rules
        self.sort = sort
        self.waiting_alert_minutes = waiting_alert_minutes
        #: The chatter works from the queue (set when a chat is chosen there).
        self.active = False
        self.screen: QueueScreen | None = None
        #: Due reminders already announced, by (chat, due time).
        self._reminded: set[tuple[str, object]] = set()

    def account_ids(self) -> list[str]:
        return [a.account_id for a in self.view.accounts]

    def show(self) -> None:
        """Show the queue (its cursor on the top chat)."""
        app = self.view
        if self.screen is not None:
            if self.screen not in app.app.screen_stack:  # else shown (a modal may be over it)
                app.app.push_screen(self.screen, self._chosen)
            return
        queue = QueueList(
            app.source,
            self.account_ids,
            app.account_name,
            rules=self.rules,
            clock=app.clock,
            waiting_alert_minutes=self.waiting_alert_minutes,
            sort=self.sort,
            id="queue",
        )
        # Installed: kept (composed, styled) between two visits, which then only re-read.
        self.screen = QueueScreen(queue)
        app.app.install_screen(self.screen, name="queue")
        app.app.push_screen(self.screen, self._chosen)

    @property
    def shown(self) -> bool:
        return self.screen is not None and self.view.app.screen is self.screen

    def stale(self) -> None:
        """Chats changed: re-read the queue if it is on screen."""
        if self.screen is not None and self.shown:
            self.screen.queue.reload()

    def _chosen(self, key: tuple[str, str] | None) -> None:
        self.sort = self.screen.queue.sort if self.screen is not None else self.sort
        if key is None:
            # Back to the chats: the keys go to the list, never into a composer left focused
            # behind the queue (a key typed next would become a reply).
            self.active = False
            self.view.call_after_refresh(self.view.query_one("#chat-list").focus)
            return
        self.active = True
        self.view.answer_chat(*key)

    async def sent(self, account_id: str, chat_id: str) -> None:
        """A reply went to ``chat_id``: its reminder is done; open the next chat waiting."""
        source = self.view.source
        await source.clear_reminder(account_id, chat_id)
        if not self.active:
            return
        rows = await source.queue(self.account_ids(), self.sort, 0, 3, self.view.clock())
        after = [r for r in rows if (r.chat.account_id, r.chat.chat_id) != (account_id, chat_id)]
        if not after:
            self.active = False
            self.view.notify("Nobody else is waiting for an answer.", markup=False)
            self.show()
            return
        chat = after[0].chat
        who = fan_label(chat.fan_name, chat.fan_username)
        self.view.notify(
            f"Next in the queue: {who} · {self.view.account_name(chat.account_id)}",
            timeout=3,
            markup=False,
        )
        self.view.answer_chat(chat.account_id, chat.chat_id)

    async def tick(self) -> None:
        """Every few seconds: due reminders come back (the queue is re-read when shown, the
        ``follow_up`` alert), and chats waiting past ``[notify] waiting_minutes`` alert."""
        app = self.view
        notifier = app.notifier
        watch_waits = bool(notifier.channels("waiting"))
        now = app.clock()
        rows = await app.source.queue(self.account_ids(), "waiting", 0, 20, now)
        due = [r for r in rows if r.reminder_due is not None]
        for row in due:
            key = (row.chat.chat_id, row.reminder_due)
            if key not in self._reminded:
                self._reminded.add(key)
                who = fan_label(row.chat.fan_name, row.chat.fan_username)
                app.notify(
                    f"Reminder: {who} · {app.account_name(row.chat.account_id)}",
                    timeout=8,
                    markup=False,
                )
                notifier.alert(self._alert(row, "follow_up"))
                self.stale()
        if not watch_waits:
            return
        for row in rows:
            since = row.chat.waiting_since
            if since is None or row.reminder_due is not None:
                continue
            minutes = int((now - since).total_seconds() // 60)
            notifier.waited(self._alert(row, "waiting"), since, minutes)

    def _alert(self, row: QueueRow, trigger: str) -> Any:
        from console.tui.notify import Alert

        chat = row.chat
        return Alert(
            trigger,
            chat.account_id,
            self.view.account_name(chat.account_id),
            chat.chat_id,
            chat.fan_id,
            fan_label(chat.fan_name, chat.fan_username),
            tier=self.rules.tier(chat.spend_millis or 0),
        )

    def left(self) -> bool:
        """The composer was left (``Esc``): back to the queue when working from it."""
        if not self.active:
            return False
        self.active = False
        self.show()
        return True
