"""The open conversation: a bounded window of message widgets over the chat's history.

The newest page is shown on open; scrolling near the top loads the previous page (from the
cache, or from the API through the source when the cache has a gap). Opened at a message (a
search result), the window is centred on it and scrolling near the bottom loads newer pages
until the newest. The window never holds more than ``MAX_MESSAGES`` widgets: past that, the
far end is pruned.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from textual import work
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from console.tui.source import ConsoleSource, MessageRow, MessageState
from console.tui.text import clean, money_text, plain, utcnow
from console.tui.zone import hhmm, local_day

if TYPE_CHECKING:  # a pydantic model: the first paint needs none
    from console.api.models import Attachment, Message

PAGE = 30
#: Three pages (several screens of scroll-back). Textual lays out every widget of the screen
#: on each change, so each live message costs in proportion: 150 widgets took ~8 ms of layout
#: and ~10 ms of render per message at 120x36, 60 took ~5-6 and ~8.
MAX_MESSAGES = 90
#: A message longer than this (characters or lines) shows folded; ``x`` unfolds it. A 1 MB
#: message (the webhook cap allows it) took 1.65 s to lay out and paint in full, every time
#: its chat opened; folded, it costs what a short one does.
FOLD_CHARS = 2_000
FOLD_LINES = 20
#: Unfolded, a message shows at most this much (~a thousand lines); the rest is said, not shown.
UNFOLDED_CHARS = 50_000
_LIKE_GLYPHS = {1: "♥", 2: "😂", 3: "😮", 4: "😢", 5: "🔥", 6: "👍", 7: "👎"}


class DateSeparator(Static):
    def __init__(self, day: str) -> None:
        super().__init__(Content(f"── {day} ──"), classes="date-separator")
        self.day = day


class NewMarker(Static):
    def __init__(self) -> None:
        super().__init__(Content("── new ──"), classes="new-marker")


class MessageView(Static):
    """One message: who and when, the quoted message, the text, likes, pin and state."""

    def __init__(self, row: MessageRow, sender_name: str, *, online: bool = True) -> None:
        # The classes are given here, not set one by one: on a widget not yet mounted each
        # ``set_class`` re-matches the whole stylesheet (~5 ms per message, 30 per chat).
        super().__init__(classes=" ".join(["message", *self._state_classes(row)]))
        self.row = row
        self.sender_name = sender_name
        #: Whether the gateway can be reached: a pending message is "sending", or waits.
        self.online = online
        #: Shown in full (``x``); long messages start folded.
        self.unfolded = False
        self.update(self._content())

    @staticmethod
    def _state_classes(row: MessageRow) -> list[str]:
        return [
            name
            for name, on in (
                ("-own", row.outgoing),
                ("-fan", not row.outgoing),
                ("-pending", row.state is MessageState.PENDING),
                ("-failed", row.state is MessageState.FAILED),
                ("-unsent", row.state is MessageState.UNSENT),
                ("-pinned", row.message.pinned),
            )
            if on
        ]

    @property
    def long(self) -> bool:
        return _fold_at(self.row.message.content) is not None

    def toggle_fold(self) -> bool:
        """Fold or unfold a long message; ``False`` when it is short (nothing to do)."""
        if not self.long:
            return False
        self.unfolded = not self.unfolded
        self._apply()
        return True

    @property
    def message_id(self) -> str:
        return self.row.id

    def update_row(self, row: MessageRow) -> None:
        self.row = row
        self._apply()

    def _apply(self) -> None:
        wanted = set(self._state_classes(self.row))
        for name in ("-own", "-fan", "-pending", "-failed", "-unsent", "-pinned"):
            if (name in wanted) != self.has_class(name):
                self.set_class(name in wanted, name)
        self.update(self._content())

    def _content(self) -> Content:
        row, msg = self.row, self.row.message
        who = "You" if row.outgoing else self.sender_name
        head = [
            plain(who, one_line=True, style="bold"),
            Content(f"  {hhmm(msg.created_at)}"),
        ]
        if msg.pinned:
            head.append(Content.styled("  📌 pinned", "$text-warning"))
        if msg.likes:
            glyphs = "".join(sorted({_LIKE_GLYPHS.get(lk.type, "♥") for lk in msg.likes}))
            mine = " (you)" if row.liked_by_me else ""
            head.append(Content(f"  {glyphs} {len(msg.likes)}{mine}"))
        if row.queued:
            head.append(Content.styled(f"  ⧗ {', '.join(row.queued)} queued", "$text-muted"))
        if row.state is MessageState.PENDING:
            waiting = "sending" if self.online else "queued until online"
            head.append(Content.styled(f"  ⧗ {waiting}", "$text-muted"))
        elif row.state is MessageState.FAILED:
            head.append(Content.styled("  ✗ failed: ", "$text-error"))
            head.append(plain(row.error or "not sent", one_line=True, style="$text-error"))
            head.append(Content.styled("  (e: retry)", "$text-muted"))
        elif row.state is MessageState.UNSENT:
            head.append(Content.styled("  ⊘ unsent", "$text-muted"))
        parts = [Content.assemble(*head)]
        if msg.in_reply_to:
            quoted = row.reply_to.content if row.reply_to is not None else "(earlier message)"
            parts.append(
                plain("▏" + clean(quoted[:600], one_line=True)[:120], style="italic $text-muted")
            )
        if msg.tip_millis:
            parts.append(
                Content.styled(f"💵 tip {money_text(msg.tip_millis)}", "bold $text-success")
            )
        text = msg.content
        cut = _fold_at(text)
        if cut is None:
            parts.append(plain(text))
        else:
            # Only the part shown is cleaned and laid out: the cost is the fold's, not the
            # message's.
            shown = min(len(text), UNFOLDED_CHARS) if self.unfolded else cut
            parts.append(plain(text[:shown]))
            rest = len(text) - shown
            if self.unfolded and rest:
                note = f"… {rest:,} more characters not shown (x folds)"
            elif self.unfolded:
                note = "x folds the message"
            else:
                note = f"… folded: {len(text):,} characters in all (x shows more)"
            parts.append(Content.styled(note, "italic $text-muted"))
        if msg.attachments:
            parts.extend(media_lines(msg.attachments, row.state))
        return Content("\n").join(parts)


#: Items listed one per line; past this, "+N more".
MEDIA_SHOWN = 4


def media_lines(attachments: list[Attachment], state: MessageState) -> list[Content]:
    """A message's media, one line each ("📷 photo · 'beach set 3'"), then for a PPV its price
    and state: not bought yet, or bought (with when, if a sale said so)."""
    lines = [plain(a.label, one_line=True, style="$text-muted") for a in attachments[:MEDIA_SHOWN]]
    if len(attachments) > MEDIA_SHOWN:
        lines.append(Content.styled(f"+{len(attachments) - MEDIA_SHOWN} more", "$text-muted"))
    price = next((a.price_millis for a in attachments if a.price_millis), None)
    if price is None:
        return lines
    head = f"💰 PPV {money_text(price)}"
    bought = [a for a in attachments if a.bought]
    if bought:
        when = min((a.bought_at_ms for a in bought if a.bought_at_ms), default=None)
        at = ""
        if when is not None:
            moment = datetime.fromtimestamp(when / 1000, tz=UTC)
            at = f" {local_day(moment):%d %b} {hhmm(moment)}"
        lines.append(Content.styled(f"{head} · ✔ bought{at}", "bold $text-success"))
    elif state is MessageState.SENT:
        lines.append(Content.styled(f"{head} · sent, not bought yet", "$text-warning"))
    else:
        lines.append(Content.styled(head, "$text-warning"))
    return lines


def _fold_at(text: str) -> int | None:
    """Where a long message is folded (``None``: it is short enough to show in full)."""
    if len(text) <= FOLD_CHARS and text.count("\n", 0, FOLD_CHARS) < FOLD_LINES:
        return None
    cut = min(len(text), FOLD_CHARS)
    newline = -1
    for _ in range(FOLD_LINES):
        newline = text.find("\n", newline + 1, cut)
        if newline < 0:
            break
    else:
        cut = newline
    return cut if cut < len(text) else None


class PinnedStrip(Static):
    """The chat's pinned messages, one line each, at the top of the thread."""

    def show(self, rows: list[MessageRow]) -> None:
        self.display = bool(rows)
        lines = [
            plain("📌 " + clean(r.message.content[:800], one_line=True)[:200]) for r in rows[-3:]
        ]
        self.update(Content("\n").join(lines))


class Thread(VerticalScroll, can_focus=True):
    """A bounded, scrollable window over one chat's messages, with a selected message."""

    BINDINGS = [
        Binding("up,k", "select(-1)", "Previous message", show=False, id="thread.up"),
        Binding("down,j", "select(1)", "Next message", show=False, id="thread.down"),
        Binding("end", "bottom", "Newest", show=False, id="thread.bottom"),
        Binding(
            "x",
            "fold",
            "Unfold",
            show=False,
            id="thread.fold",
            tooltip="Show a long (folded) message in full, or fold it again",
        ),
    ]

    def __init__(
        self,
        source: ConsoleSource,
        *,
        clock: Callable[[], datetime] = utcnow,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.source = source
        self.clock = clock
        self.account_id: str | None = None
        self.chat_id: str | None = None
        self.fan_name = ""
        self.selected_index: int | None = None
        self._exhausted = False
        self._loading_older = False
        #: False while the window does not reach the newest message (opened at a search hit).
        self.at_latest = True
        self._loading_newer = False
        self._generation = 0
        #: Whether the gateway can be reached (pending messages say "sending" or wait).
        self.online = True

    def set_online(self, online: bool) -> None:
        """The gateway came or went: pending messages say so."""
        if online == self.online:
            return
        self.online = online
        for view in self.message_views:
            view.online = online
            if view.row.state is MessageState.PENDING:
                view.update_row(view.row)

    # -- opening ---------------------------------------------------------------------------

    def open_chat(
        self,
        account_id: str,
        chat_id: str,
        fan_name: str,
        unread: int,
        around: str | None = None,
    ) -> None:
        """Show the chat's newest page, or the page around message ``around``."""
        self.account_id, self.chat_id, self.fan_name = account_id, chat_id, fan_name
        self._generation += 1
        self.selected_index = None
        self._exhausted = False
        self.at_latest = True
        if around is not None:
            self._load_around(self._generation, around)
        else:
            self._load_latest(self._generation, unread)

    @work(group="thread", exclusive=True, exit_on_error=False)
    async def _load_around(self, generation: int, message_id: str) -> None:
        assert self.account_id and self.chat_id
        account_id, chat_id = self.account_id, self.chat_id
        rows = await self.source.messages_around(account_id, chat_id, message_id, PAGE)
        if generation != self._generation:
            return
        if not rows:  # not cached after all: the newest page is better than nothing
            self._load_latest(generation, 0)
            return
        newer = await self.source.messages_after(account_id, chat_id, rows[-1].id, 1)
        if generation != self._generation:
            return
        self.at_latest = not newer
        await self.remove_children()
        await self.mount_all(self._build(rows, previous=None))
        views = self.message_views
        index = next((i for i, v in enumerate(views) if v.row.known_as(message_id)), None)
        if index is None:
            return
        self.selected_index = index
        views[index].add_class("-selected", "-found")

        def centre() -> None:
            self.scroll_to_center(views[index], animate=False, immediate=True)

        self.call_after_refresh(centre)

    async def show_latest(
        self, account_id: str, chat_id: str, fan_name: str, unread: int, rows: list[MessageRow]
    ) -> None:
        """Show the chat's newest page, read by the caller (who opens the chat in one frame:
        thread, title, profile and composer together)."""
        self.account_id, self.chat_id, self.fan_name = account_id, chat_id, fan_name
        self._generation += 1
        self.selected_index = None
        self._exhausted = False
        self.at_latest = True
        await self._show_rows(rows, unread)

    @work(group="thread", exclusive=True, exit_on_error=False)
    async def _load_latest(self, generation: int, unread: int) -> None:
        assert self.account_id and self.chat_id
        rows = await self.source.latest_messages(self.account_id, self.chat_id, PAGE)
        if generation != self._generation:
            return
        await self._show_rows(rows, unread)

    async def _show_rows(self, rows: list[MessageRow], unread: int) -> None:
        self._exhausted = len(rows) < PAGE
        widgets = self._build(rows, previous=None)
        first_unread = self._first_unread(rows, unread)
        if first_unread is not None:
            for i, w in enumerate(widgets):
                if isinstance(w, MessageView) and w.message_id == first_unread:
                    widgets.insert(i, NewMarker())
                    break
        # One layout and one frame for the old chat going and the new one coming (each of
        # removing and mounting asks for a reflow of the whole screen).
        with self.app.batch_update():
            await self.remove_children()
            await self.mount_all(widgets)
            # Anchored, the layout pass that places new messages also scrolls to them (no
            # second pass to scroll after it); scrolling away releases it, coming back to the
            # end restores it.
            self.anchor()

    @staticmethod
    def _first_unread(rows: list[MessageRow], unread: int) -> str | None:
        if unread <= 0:
            return None
        incoming = [r for r in rows if not r.outgoing]
        return incoming[-unread].id if len(incoming) >= unread else None

    def _build(self, rows: list[MessageRow], previous: Message | None) -> list[Static]:
        widgets: list[Static] = []
        last_day = local_day(previous.created_at) if previous else None
        for row in rows:
            day = local_day(row.message.created_at)
            if day != last_day:
                widgets.append(DateSeparator(f"{day:%a %d %b %Y}"))
                last_day = day
            widgets.append(MessageView(row, self.fan_name, online=self.online))
        return widgets

    @property
    def message_views(self) -> list[MessageView]:
        return list(self.query_children(MessageView))

    def view_of(self, message_id: str) -> MessageView | None:
        for view in self.query_children(MessageView):
            if view.row.known_as(message_id):
                return view
        return None

    # -- older pages -----------------------------------------------------------------------

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new <= 3 and old > new and not self._exhausted and not self._loading_older:
            self.load_older()
        if (
            not self.at_latest
            and new > old
            and new >= self.max_scroll_y - 3
            and not self._loading_newer
        ):
            self.load_newer()

    def load_newer(self) -> None:
        views = self.message_views
        if not views or self.account_id is None or self.chat_id is None:
            return
        self._loading_newer = True
        self._load_newer(self._generation, views[-1].message_id)

    @work(group="thread-newer", exclusive=True, exit_on_error=False)
    async def _load_newer(self, generation: int, after_id: str) -> None:
        try:
            assert self.account_id and self.chat_id
            rows = await self.source.messages_after(self.account_id, self.chat_id, after_id, PAGE)
            if generation != self._generation:
                return
            if len(rows) < PAGE:
                self.at_latest = True
            if not rows:
                return
            views = self.message_views
            await self.mount_all(self._build(rows, views[-1].row.message if views else None))
            removed = self._prune(from_top=True)
            if self.selected_index is not None:
                self.selected_index = max(0, self.selected_index - removed)
        finally:
            self._loading_newer = False

    def load_older(self) -> None:
        views = self.message_views
        if not views or self.account_id is None or self.chat_id is None:
            return
        self._loading_older = True
        self._load_older(self._generation, views[0].message_id)

    @work(group="thread-older", exclusive=True, exit_on_error=False)
    async def _load_older(self, generation: int, before_id: str) -> None:
        try:
            assert self.account_id and self.chat_id
            rows = await self.source.messages_before(self.account_id, self.chat_id, before_id, PAGE)
            if generation != self._generation:
                return
            if len(rows) < PAGE:
                self._exhausted = True
            if not rows:
                return
            first = self.children[0] if self.children else None
            if isinstance(first, DateSeparator) and local_day(rows[-1].message.created_at) == (
                local_day(self.message_views[0].row.message.created_at)
            ):
                await first.remove()
                first = self.children[0] if self.children else None
            before_height = self.virtual_size.height
            widgets = self._build(rows, previous=None)
            await self.mount_all(widgets, before=first)
            if self.selected_index is not None:
                self.selected_index += sum(isinstance(w, MessageView) for w in widgets)
            self._prune(from_top=False)

            def keep_position() -> None:
                added = self.virtual_size.height - before_height
                self.scroll_to(y=self.scroll_y + added, animate=False, immediate=True)

            self.call_after_refresh(keep_position)
        finally:
            self._loading_older = False

    def _prune(self, from_top: bool) -> int:
        views = self.message_views
        excess = len(views) - MAX_MESSAGES
        if excess <= 0:
            return 0
        doomed = views[:excess] if from_top else views[-excess:]
        for view in doomed:
            view.remove()
        if not from_top:
            self.at_latest = False  # the newest messages were pruned: reload them when needed
        return excess

    # -- live changes ----------------------------------------------------------------------

    @property
    def at_bottom(self) -> bool:
        return self.scroll_y >= self.max_scroll_y - 1

    async def message_added(self, row: MessageRow) -> None:
        views = self.message_views
        if self._view_in(views, row.id) is not None or (
            row.client_id is not None and self._view_in(views, row.client_id) is not None
        ):
            await self.message_changed(row)
            return
        if not self.at_latest:
            if row.outgoing:
                # The chatter just sent from an old part of the chat: take them to it.
                self.open_chat(self.account_id or "", self.chat_id or "", self.fan_name, 0)
            return  # newer pages load as the chatter scrolls down
        stick = self.at_bottom
        if views and row.message.created_at < views[-1].row.message.created_at:
            # History arriving late (a backfill page, a delayed webhook): it belongs in the
            # middle, or above the window, where scrolling up will load it.
            await self._insert_in_order(row, views)
            return
        previous = views[-1].row.message if views else None
        # One layout pass for the new message, the pruned one and the scroll: mounting and
        # removing each ask for a reflow of the whole screen, and a frame between them would
        # paint (and lay out) twice.
        with self.app.batch_update():
            if stick:
                self.anchor()
            excess = len(views) + 1 - MAX_MESSAGES
            if excess > 0:
                await self.remove_children(views[:excess])
                if self.selected_index is not None:
                    self.selected_index = max(0, self.selected_index - excess)
            await self.mount_all(self._build([row], previous))

    @staticmethod
    def _view_in(views: list[MessageView], message_id: str) -> MessageView | None:
        return next((v for v in views if v.row.known_as(message_id)), None)

    async def _insert_in_order(self, row: MessageRow, views: list[MessageView]) -> None:
        at = row.message.created_at
        if at < views[0].row.message.created_at:
            self._exhausted = False
            if len(views) < PAGE and self.account_id and self.chat_id:
                # A short window cannot be scrolled up to load it: show the newest page again.
                self.open_chat(self.account_id, self.chat_id, self.fan_name, 0)
            return
        after = next(v for v in views if v.row.message.created_at > at)
        await self.mount(MessageView(row, self.fan_name, online=self.online), before=after)
        if self.selected_index is not None and views.index(after) <= self.selected_index:
            self.selected_index += 1

    async def message_changed(self, row: MessageRow) -> None:
        view = self.view_of(row.id)
        if view is None and row.client_id is not None:
            view = self.view_of(row.client_id)
        if view is not None:
            view.update_row(row)

    # -- selection -------------------------------------------------------------------------

    @property
    def selected(self) -> MessageView | None:
        views = self.message_views
        if not views:
            return None
        if self.selected_index is None or self.selected_index >= len(views):
            return views[-1]
        return views[self.selected_index]

    def action_select(self, delta: int) -> None:
        views = self.message_views
        if not views:
            return
        current = len(views) - 1 if self.selected_index is None else self.selected_index
        index = max(0, min(len(views) - 1, current + delta))
        for view in views:
            view.remove_class("-selected")
        views[index].add_class("-selected")
        self.selected_index = index
        self.scroll_to_widget(views[index], animate=False, immediate=True)
        if index == 0 and delta < 0 and not self._exhausted:
            self.load_older()

    def action_fold(self) -> None:
        view = self.selected
        if view is not None and view.toggle_fold():
            self.scroll_to_widget(view, animate=False, immediate=True)

    def action_bottom(self) -> None:
        if not self.at_latest and self.account_id and self.chat_id:
            self.open_chat(self.account_id, self.chat_id, self.fan_name, 0)
            return
        self.scroll_end(animate=False)

    def on_focus(self) -> None:
        view = self.selected
        if view is not None:
            view.add_class("-selected")
