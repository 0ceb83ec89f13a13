"""The open conversation: a bounded window of message widgets over the chat's history.

The newest page is shown on open; scrolling near the top loads the previous page through the
source, which reads the cache and fetches past it where it can (the gateway; the team server
in team mode) and says when the chat's first message is reached. Opened at a message (a
search result), the window is centred on it and scrolling near the bottom loads newer pages
until the newest. The window never holds more than ``MAX_MESSAGES`` widgets: past that, the
far end is pruned.

The parts: the message widgets and the day and "new" markers are ``console.tui.message_view``;
keeping the reader's place while messages join above is ``console.tui.place_keeping`` (the
thread's base); the pinned strip above the thread is ``console.tui.pinned_strip``. The
window's opening, paging, live changes and selection stay together here: they share one
state (the held part of the page, the opening's generation, the selection's index), and
spread over modules each would have to know the others' invariants.
"""

from __future__ import annotations

from textual import work
from textual.binding import Binding
from textual.widgets import Static

# The message widgets and the pinned strip live in their own modules; importable from here
# as they always were (the tests and benches import them so).
from console.tui.message_view import (
    FOLD_CHARS,
    FOLD_LINES,
    MEDIA_SHOWN,
    UNFOLDED_CHARS,
    DateSeparator,
    MessageView,
    NewMarker,
    media_lines,
    message_widgets,
)
from console.tui.pinned_strip import PinnedStrip
from console.tui.place_keeping import PlaceKeepingScroll
from console.tui.source import ConsoleSource, MessagePage, MessageRow, MessageState
from console.tui.zone import local_day

PAGE = 30
#: Three pages (several screens of scroll-back). Textual lays out every widget of the screen
#: on each change, so each live message costs in proportion: 150 widgets took ~8 ms of layout
#: and ~10 ms of render per message at 120x36, 60 took ~5-6 and ~8.
MAX_MESSAGES = 90
#: A chat opens with at least this many of its page's newest messages mounted (more on a tall
#: terminal: enough to fill it, a message taking 3 lines or more); the rest of the page is held
#: in memory and mounted when the chatter goes up to it.
FIRST_PAINT_MIN = 14
#: Fewer messages than this on the newest page: the workspace fetches a page from the gateway
#: when a chat opens (``OPEN_FETCH`` in console/tui/workspace_source.py).
THIN = 10


class Thread(PlaceKeepingScroll, can_focus=True):
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
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.source = source
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
        self._reread_generation = -1  # the opening last read again when it was thin
        #: Whether the gateway can be reached (pending messages say "sending" or wait).
        self.online = True
        #: The older part of the open page, not mounted until the chatter goes up to it (as a
        #: page loaded from the cache would be, without reading it), and the message the "new"
        #: marker goes above if it is there.
        self._deferred: list[MessageRow] = []
        self._deferred_unread: str | None = None
        #: The held part is being mounted: what is above the window is not known yet.
        self._filling = False

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
        self._deferred = []
        self._reading = None
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
        newer = await self.source.messages_after(account_id, chat_id, rows[-1].key, 1)
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
        self, account_id: str, chat_id: str, fan_name: str, unread: int, rows: MessagePage
    ) -> None:
        """Show the chat's newest page, read by the caller (who opens the chat in one frame:
        thread, title, profile and composer together)."""
        self.account_id, self.chat_id, self.fan_name = account_id, chat_id, fan_name
        self._generation += 1
        self._deferred = []
        self._reading = None
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

    async def _show_rows(self, rows: MessagePage, unread: int) -> None:
        # The source says whether older messages may exist (in team mode a short cached page
        # may have more on the team server).
        self._exhausted = rows.at_start
        self._deferred = []
        first_unread = self._first_unread(rows, unread)
        # Only the newest messages, enough to fill the thread, are mounted; the rest of the
        # page is mounted when the chatter goes up to it (``_fill``). Each message widget costs
        # its building, mounting, styling and a share of the layout and frame (~1 ms each on a
        # loaded machine): opening a chat took ~60 ms of the app's time with 30 of them.
        # The terminal's height, not the thread's: known before the first layout, and the
        # thread is shorter. Up to 44 rows the count is the minimum: the same at every start,
        # even while a starting terminal still reports a default size.
        shown = max(FIRST_PAINT_MIN, self.app.size.height // 3 + 1)
        head, tail = rows[:-shown], rows[-shown:]
        # The window starts with its day, as any window does (``_mount_above`` drops that
        # separator when the day's earlier messages join above it).
        widgets = self._build(tail, None, first_unread)
        # One layout and one frame for the old chat going and the new one coming (each of
        # removing and mounting asks for a reflow of the whole screen).
        with self.app.batch_update():
            await self.remove_children()
            await self.mount_all(widgets)
            # Anchored, the layout pass that places new messages also scrolls to them (no
            # second pass to scroll after it); scrolling away releases it, coming back to the
            # end restores it.
            self.anchor()
        self._deferred, self._deferred_unread = head, first_unread

    @work(group="thread-fill", exit_on_error=False)
    async def _fill_in(self, generation: int) -> None:
        try:
            if generation == self._generation:
                await self._fill()
        finally:
            self._filling = False

    async def _fill(self) -> None:
        """Mount the part of the open page held back, above the window."""
        rows, self._deferred = self._deferred, []
        if not rows:
            return
        await self._mount_above(self._build(rows, None, self._deferred_unread), rows)

    async def _mount_above(self, widgets: list[Static], rows: list[MessageRow]) -> None:
        """Mount ``widgets`` (of ``rows``, older than the window) above the window, keeping
        in place what the chatter looks at."""
        await self._finish_scrolling()
        first = self.children[0] if self.children else None
        views = self.message_views
        if (
            isinstance(first, DateSeparator)
            and views
            and local_day(rows[-1].created_at) == local_day(views[0].row.created_at)
        ):
            await first.remove()
            first = self.children[0] if self.children else None
        # The widgets join the window as ``mount_all`` is called: the selection moves with
        # them then, not once they are mounted (a key pressed in between would use it). What
        # the reader looks at stays in place in the layout that places them (``arrange``).
        mounting = self.mount_all(widgets, before=first)
        if self.selected_index is not None:
            self.selected_index += sum(isinstance(w, MessageView) for w in widgets)
        await mounting

    @staticmethod
    def _first_unread(rows: list[MessageRow], unread: int) -> str | None:
        if unread <= 0:
            return None
        incoming = [r for r in rows if not r.from_creator]
        return incoming[-unread].key if len(incoming) >= unread else None

    def _build(
        self, rows: list[MessageRow], previous: MessageRow | None, new_from: str | None = None
    ) -> list[Static]:
        """The widgets of ``rows`` (following ``previous``), with the "new" marker above the
        message ``new_from`` if it is among them."""
        return message_widgets(rows, previous, self.fan_name, online=self.online, new_from=new_from)

    @property
    def message_views(self) -> list[MessageView]:
        return list(self.query_children(MessageView))

    @property
    def rows(self) -> list[MessageRow]:
        """The open page's messages, oldest first: the part held back, then those shown."""
        return [*self._deferred, *(view.row for view in self.message_views)]

    def view_of(self, message_id: str) -> MessageView | None:
        for view in self.query_children(MessageView):
            if view.row.known_as(message_id):
                return view
        return None

    # -- older pages -----------------------------------------------------------------------

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)  # notes what the reader looks at
        # The held part joins when the chatter goes up, not when a layout moves an anchored
        # thread (a pane folding away at start re-wraps it: that is not the chatter).
        chatter = not self.is_anchored or self._anchor_released
        more = (self._deferred and chatter) or not self._exhausted
        if new <= 3 and old > new and more and not self._loading_older:
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
        if self._deferred or not views or self.account_id is None or self.chat_id is None:
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
            await self.mount_all(self._build(rows, views[-1].row if views else None))
            removed = self._prune(from_top=True)
            if self.selected_index is not None:
                self.selected_index = max(0, self.selected_index - removed)
        finally:
            self._loading_newer = False

    def load_older(self) -> None:
        views = self.message_views
        if self._deferred:  # the rest of the open page comes first, from memory
            self._filling = True
            self._fill_in(self._generation)
            return
        if self._filling or not views or self.account_id is None or self.chat_id is None:
            return
        self._loading_older = True
        self._load_older(self._generation, views[0].message_id)

    @work(group="thread-older", exclusive=True, exit_on_error=False)
    async def _load_older(self, generation: int, before_id: str) -> None:
        try:
            assert self.account_id and self.chat_id
            # Past the cache, the source fetches (the gateway; the team server in team mode).
            rows = await self.source.messages_before(self.account_id, self.chat_id, before_id, PAGE)
            if generation != self._generation:
                return
            if rows.at_start:
                self._exhausted = True
            if not rows:
                return
            await self._mount_above(self._build(rows, previous=None), rows)
            self._prune(from_top=False)
        finally:
            self._loading_older = False

    def _prune(self, from_top: bool) -> int:
        views = self.message_views
        excess = len(views) - MAX_MESSAGES
        if excess <= 0:
            return 0
        doomed = views[:excess] if from_top else views[-excess:]
        if from_top:
            self._drop_held()
        for view in doomed:
            view.remove()
        if not from_top:
            self.at_latest = False  # the newest messages were pruned: reload them when needed
        return excess

    # -- live changes ----------------------------------------------------------------------

    @property
    def at_bottom(self) -> bool:
        # Fewer messages than the thread's height: an anchored thread's scroll is negative
        # (Textual holds the end of the content at the bottom), and nothing is below it.
        return self.max_scroll_y == 0 or self.scroll_y >= self.max_scroll_y - 1

    @property
    def thin(self) -> bool:
        """The newest page shows fewer messages than the gateway's fill on open, and the
        chatter has not moved in it: it may be all the cache had when the chat opened, before
        its account reached the gateway."""
        return (
            self.chat_id is not None
            and self.at_latest
            and self.selected_index is None
            and not self._deferred
            and len(self.message_views) < THIN
        )

    def reread_if_thin(self, *, again: bool = False) -> None:
        """Read the newest page again if the thread is thin (its account reached the gateway,
        which fills a thin chat), and add what it did not show: once per opening, ``again``
        when the gateway is back."""
        if self.thin and (again or self._reread_generation != self._generation):
            self._reread_generation = self._generation
            self._reread(self._generation)

    # Its own group: an exclusive "thread" worker would cancel an opening under way (a jump to
    # a search hit).
    @work(group="thread-reread", exclusive=True, exit_on_error=False)
    async def _reread(self, generation: int) -> None:
        assert self.account_id and self.chat_id
        rows = await self.source.latest_messages(self.account_id, self.chat_id, PAGE)
        # Only the messages it lacks join, each as a late message would: the shown ones keep
        # what changed while the page was read (a pin, a like, a reply pressed meanwhile;
        # shown again from the older read, they were undone on screen).
        for row in rows:
            if generation != self._generation:
                return
            if self._view_in(self.message_views, row.key) is None:
                await self.message_added(row)

    async def message_added(self, row: MessageRow) -> None:
        views = self.message_views
        if (
            self._view_in(views, row.key) is not None
            or (row.client_id is not None and self._view_in(views, row.client_id) is not None)
            or self._held(row) is not None
        ):
            await self.message_changed(row)
            return
        if not self.at_latest:
            if row.from_creator:
                # The chatter just sent from an old part of the chat: take them to it.
                self.open_chat(self.account_id or "", self.chat_id or "", self.fan_name, 0)
            return  # newer pages load as the chatter scrolls down
        stick = self.at_bottom
        if views and row.created_at < views[-1].row.created_at:
            # History arriving late (a backfill page, a delayed webhook): it belongs in the
            # middle, or above the window, where scrolling up will load it.
            await self._insert_in_order(row, views)
            return
        excess = len(views) + 1 - MAX_MESSAGES
        if excess > 0 and not stick:
            # A full window would lose its top, which may be what the reader looks at: the
            # window stops at its last message, and newer ones load when the reader goes down
            # to them (or presses End), as they do below a search hit.
            self.at_latest = False
            return
        previous = views[-1].row if views else None
        # One layout pass for the new message, the pruned one and the scroll: mounting and
        # removing each ask for a reflow of the whole screen, and a frame between them would
        # paint (and lay out) twice.
        with self.app.batch_update():
            if stick:
                self.anchor()
            if excess > 0:
                self._drop_held()
                await self.remove_children(views[:excess])
                if self.selected_index is not None:
                    self.selected_index = max(0, self.selected_index - excess)
            await self.mount_all(self._build([row], previous))

    def _drop_held(self) -> None:
        """The window's top goes: the held part no longer joins it (it is read again)."""
        if self._deferred:
            self._deferred = []
            self._exhausted = False

    def _held(self, row: MessageRow) -> int | None:
        """Where ``row`` is in the part of the open page not mounted yet."""
        return next(
            (
                i
                for i, r in enumerate(self._deferred)
                if r.known_as(row.key) or (row.client_id is not None and r.known_as(row.client_id))
            ),
            None,
        )

    @staticmethod
    def _view_in(views: list[MessageView], message_id: str) -> MessageView | None:
        return next((v for v in views if v.row.known_as(message_id)), None)

    async def _insert_in_order(self, row: MessageRow, views: list[MessageView]) -> None:
        at = row.created_at
        if at < views[0].row.created_at:
            held = self._deferred
            if held and at >= held[0].created_at:  # within the part not mounted yet
                later = (i for i, r in enumerate(held) if r.created_at > at)
                held.insert(next(later, len(held)), row)
                return
            self._exhausted = False
            if len(views) + len(held) < PAGE and self.account_id and self.chat_id:
                # A short window cannot be scrolled up to load it: show the newest page again.
                self.open_chat(self.account_id, self.chat_id, self.fan_name, 0)
            return
        after = next(v for v in views if v.row.created_at > at)
        await self._finish_scrolling()
        await self.mount(MessageView(row, self.fan_name, online=self.online), before=after)
        if self.selected_index is not None and views.index(after) <= self.selected_index:
            self.selected_index += 1

    async def message_changed(self, row: MessageRow) -> None:
        held = self._held(row)
        if held is not None:  # not mounted yet: it will be built from the new row
            self._deferred[held] = row
            return
        view = self.view_of(row.key)
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
        if index == 0 and delta < 0 and (self._deferred or not self._exhausted):
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


__all__ = [
    "FIRST_PAINT_MIN",
    "FOLD_CHARS",
    "FOLD_LINES",
    "MAX_MESSAGES",
    "MEDIA_SHOWN",
    "PAGE",
    "THIN",
    "UNFOLDED_CHARS",
    "DateSeparator",
    "MessageView",
    "NewMarker",
    "PinnedStrip",
    "Thread",
    "media_lines",
]
