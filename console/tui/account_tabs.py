"""The accounts' tab bar: one widget that draws every account's tab, and counts the unread
accounts scrolled out of view at its edges.

**One widget, not a widget per tab.** Textual's ``Tabs`` mounts a ``Tab`` widget per account,
and each costs its own styling, message pump, layout and render: about 1 ms of the first frame
per account, 20 ms of start-up at 25 accounts (issue 16's start-up goal) and more at the 100
accounts some agencies run. Here the tabs are text on two lines (the names, and the underline
under the active one) drawn from a list of names and unread counts; an account added costs a
few cells of arithmetic. The look is Textual's tabs' (the same theme variables).

**Scrolling.** Twenty-five accounts do not fit a terminal's width: the bar centres the active
tab, as Textual's tabs do. The tabs past either edge would hide that their accounts hold unread
messages: when the tabs overflow, each edge past which tabs are hidden shows an arrow and how
many accounts out of view on that side have unread messages ("◂ 3" on the left, "5 ▸" on the
right; the arrow alone when none; blank when no tab is hidden on that side). A tab cut by the
edge counts as out of view and is left blank (its cut-off count would read as the edge's).
``g`` (the switcher) or ``ctrl+PgUp/PgDn`` reach them; a click on an edge scrolls that way,
and the bar stays there (new counts do not pull it back) until a tab is activated.

**Keys and mouse.** A click on a tab activates it; focused, ``←``/``→`` step through the tabs.
Activating a tab (a click, a key, or setting :attr:`AccountTabs.active`) posts
:class:`AccountTabs.Activated`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

LEFT, RIGHT = "◂", "▸"
#: Cells each edge takes when the tabs overflow.
EDGE = 5
#: The underline under the active tab (Textual's tabs draw the same).
BAR, HALF_LEFT, HALF_RIGHT = "━", "╺", "╸"


class AccountTabs(Widget, can_focus=True):
    """The accounts' tabs (see the module's docstring)."""

    DEFAULT_CSS = """
    AccountTabs {
        width: 100%;
        height: 2;
        pointer: pointer;
        & > .account-tabs--tab { color: $foreground 50%; }
        & > .account-tabs--hover { color: $foreground; }
        & > .account-tabs--active { color: $foreground; }
        & > .account-tabs--count { color: $text-accent; text-style: bold; }
        & > .account-tabs--bar { color: $block-cursor-background; background: $foreground 10%; }
        & > .account-tabs--edge { color: $text-muted; }
        & > .account-tabs--edge-unread { color: $text-accent; text-style: bold; }
        &:focus {
            & > .account-tabs--active {
                text-style: $block-cursor-text-style;
                color: $block-cursor-foreground;
                background: $block-cursor-background;
            }
            & > .account-tabs--bar { background: $foreground 30%; }
        }
        &:ansi {
            & > .account-tabs--tab { text-style: dim; }
            & > .account-tabs--active { text-style: not dim bold; }
            & > .account-tabs--bar { background: $border-blurred; }
        }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "account-tabs--tab",
        "account-tabs--hover",
        "account-tabs--active",
        "account-tabs--count",
        "account-tabs--bar",
        "account-tabs--edge",
        "account-tabs--edge-unread",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "step(-1)", "Previous account", show=False),
        Binding("right", "step(1)", "Next account", show=False),
    ]

    #: The active tab's index, -1 before one is.
    active: reactive[int] = reactive(-1, init=False, layout=False)

    class Activated(Message):
        """A tab was activated (clicked, stepped to, or set)."""

        def __init__(self, tabs: AccountTabs, index: int) -> None:
            super().__init__()
            self.tabs = tabs
            self.index = index

        @property
        def control(self) -> AccountTabs:
            return self.tabs

    def __init__(self, names: Iterable[str] = (), *, id: str | None = None) -> None:
        super().__init__(id=id)
        #: Each account's tab name (one clean line: console/tui/account_switcher.tab_name).
        self.names: list[str] = list(names)
        #: Unread messages per tab index, as last counted.
        self.unread: dict[int, int] = {}
        #: The first cell of the tabs' line that the bar shows.
        self.shown_from = 0
        #: The bar keeps the active tab centred, until the chatter scrolls it by an edge (then
        #: until the next tab is activated or the bar resized).
        self._follows_active = True
        self._hover = -1

    # -- what the bar holds --------------------------------------------------------------

    def add(self, name: str) -> int:
        """A tab for another account, at the end; returns its index."""
        self.names.append(name)
        self._changed()
        return len(self.names) - 1

    def set_names(self, names: Iterable[str]) -> None:
        names = list(names)
        if names != self.names:
            self.names = names
            self._changed()

    def show_unread(self, unread: Mapping[int, int]) -> None:
        """The unread messages per tab index, as last counted."""
        unread = {i: n for i, n in unread.items() if n}
        if unread != self.unread:
            self.unread = unread
            self._changed()

    def label(self, index: int) -> str:
        """A tab's text as shown: its name, and its unread count when it has one."""
        count = self.unread.get(index, 0)
        return f"{self.names[index]} {count}" if count else self.names[index]

    @property
    def overflow(self) -> bool:
        return self._total() > self.size.width

    # -- geometry ------------------------------------------------------------------------

    def _widths(self) -> list[int]:
        # " name count " (Textual's tabs pad by one cell on each side).
        return [cell_len(self.label(i)) + 2 for i in range(len(self.names))]

    def _total(self) -> int:
        return sum(self._widths())

    def _view(self) -> tuple[int, int]:
        """Where the tabs are drawn in the bar (after the left edge) and how many cells."""
        width = self.size.width
        if self._total() > width:
            return EDGE, max(0, width - 2 * EDGE)
        return 0, width

    def _spans(self) -> list[tuple[int, int]]:
        """Each tab's [start, end) on the tabs' line."""
        spans, x = [], 0
        for width in self._widths():
            spans.append((x, x + width))
            x += width
        return spans

    def _clamp(self, shown_from: int) -> int:
        _left, view = self._view()
        return max(0, min(shown_from, self._total() - view))

    def _center_active(self) -> None:
        spans = self._spans()
        if not 0 <= self.active < len(spans):
            return
        start, end = spans[self.active]
        _left, view = self._view()
        self.shown_from = self._clamp((start + end) // 2 - view // 2)

    def _index_at(self, x: int) -> int:
        """The tab under cell ``x`` of the bar, -1 for none (an edge, or past the last)."""
        left, view = self._view()
        if not left <= x < left + view:
            return -1
        at = x - left + self.shown_from
        for index, (start, end) in enumerate(self._spans()):
            if start <= at < end:
                return index
        return -1

    @property
    def out_of_view(self) -> tuple[int, int]:
        """What the edges count: unread accounts out of view on the left, on the right."""
        left, right, _hidden_left, _hidden_right = self._edges()
        return left, right

    def _edges(self) -> tuple[int, int, bool, bool]:
        """The unread accounts whose tabs are (partly) past each edge, and whether tabs are
        hidden past each edge."""
        _left, view = self._view()
        first, last = self.shown_from, self.shown_from + view
        left = right = 0
        hidden_left = hidden_right = False
        for index, (start, end) in enumerate(self._spans()):
            unread = 1 if self.unread.get(index) else 0
            if start < first:
                hidden_left, left = True, left + unread
            elif end > last:
                hidden_right, right = True, right + unread
        return left, right, hidden_left, hidden_right

    def _changed(self) -> None:
        """Names or counts changed: widths moved; keep the active tab in view (or the
        chatter's scroll)."""
        if self._follows_active:
            self._center_active()
        self.shown_from = self._clamp(self.shown_from)
        self.refresh()

    # -- reacting --------------------------------------------------------------------------

    def watch_active(self, active: int) -> None:
        self._follows_active = True
        self._center_active()
        self.refresh()
        if active >= 0:
            self.post_message(self.Activated(self, active))

    def on_resize(self) -> None:
        self._follows_active = True
        self._center_active()

    def action_step(self, step: int) -> None:
        if self.names:
            self.active = (max(self.active, 0) + step) % len(self.names)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        hover = self._index_at(event.x)
        if hover != self._hover:
            self._hover = hover
            self.refresh()

    def on_leave(self) -> None:
        if self._hover != -1:
            self._hover = -1
            self.refresh()

    def on_click(self, event: events.Click) -> None:
        event.stop()
        index = self._index_at(event.x)
        if index >= 0:
            self.active = index
            return
        left, view = self._view()
        if left and (event.x < left or event.x >= left + view):  # an edge: scroll that way
            step = -(view // 2) if event.x < left else view // 2
            self.shown_from = self._clamp(self.shown_from + step)
            self._follows_active = False
            self.refresh()

    # -- drawing ---------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        left, view = self._view()
        if y == 0:
            line = self._tabs_line(base, view).crop(self.shown_from, self.shown_from + view)
        elif y == 1:
            line = self._underline(base, view)
        else:
            return Strip.blank(width, base)
        line = line.adjust_cell_length(view, base)
        if not left:
            return line
        if y == 0:
            lcount, rcount, hidden_left, hidden_right = self._edges()
            before = self._edge(f"{LEFT} {lcount}" if lcount else LEFT, hidden_left, lcount, base)
            after = self._edge(f"{rcount} {RIGHT}" if rcount else RIGHT, hidden_right, rcount, base)
            return Strip([before, *line, after], width)
        blank = Segment(" " * EDGE, base)
        return Strip([blank, *line, blank], width)

    def _edge(self, text: str, hidden: bool, count: int, base: Style) -> Segment:
        """An edge: the arrow when tabs are hidden past it, with the unread accounts among
        them; blank when the bar shows everything on that side. The right one is flush right."""
        name = "account-tabs--edge-unread" if count else "account-tabs--edge"
        shown = text if hidden else ""
        cells = " " * (EDGE - cell_len(shown)) + shown if shown.endswith(RIGHT) else shown
        return Segment(set_cell_size(cells, EDGE), base + self.get_component_rich_style(name))

    def _tabs_line(self, base: Style, view: int) -> Strip:
        """The tabs' line, whole; a tab cut by an edge is left blank (it is counted at that
        edge, and its cut-off count would read as the edge's), the active one excepted."""
        tab = base + self.get_component_rich_style("account-tabs--tab")
        hover = base + self.get_component_rich_style("account-tabs--hover")
        active = base + self.get_component_rich_style("account-tabs--active")
        count_style = self.get_component_rich_style("account-tabs--count")
        first, last = self.shown_from, self.shown_from + view
        segments: list[Segment] = []
        for index, (start, end) in enumerate(self._spans()):
            if index != self.active and (start < first or end > last):
                segments.append(Segment(" " * (end - start), base))
                continue
            style = active if index == self.active else hover if index == self._hover else tab
            segments.append(Segment(f" {self.names[index]}", style))
            count = self.unread.get(index)
            if count:
                segments.append(Segment(f" {count}", style + count_style))
            segments.append(Segment(" ", style))
        return Strip(segments)

    def _underline(self, base: Style, view: int) -> Strip:
        bar = self.get_component_rich_style("account-tabs--bar")
        under = base + Style.from_color(bar.bgcolor)
        over = base + Style.from_color(bar.color)
        spans = self._spans()
        if not 0 <= self.active < len(spans):
            return Strip([Segment(BAR * view, under)], view)
        start, end = spans[self.active]  # the label's cells, without the padding
        start = max(0, min(view, start + 1 - self.shown_from))
        end = max(0, min(view, end - 1 - self.shown_from))
        # As Textual's tabs: half bars on either side of the highlight.
        segments = [Segment(BAR * (start - 1) + HALF_RIGHT, under)] if start else []
        segments.append(Segment(BAR * (end - start), over))
        if end < view:
            segments.append(Segment(HALF_LEFT + BAR * (view - end - 1), under))
        return Strip(segments, view)
