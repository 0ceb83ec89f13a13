"""The accounts' tab bar, with the unread accounts scrolled out of view counted at its edges.

Twenty-five accounts do not fit a terminal's width: the bar scrolls to the active tab, and the
tabs past either edge would hide that their accounts hold unread messages. When the tabs
overflow, each edge past which tabs are hidden shows an arrow and how many accounts out of
view on that side have unread messages ("◂ 3" on the left, "5 ▸" on the right; the arrow alone
when none; blank when no tab is hidden on that side): the chatter sees
at a glance that work waits beyond the bar, and ``g`` (the switcher) or ``alt+←/→`` reaches it.
A tab cut by the edge counts as out of view (its count may be the part cut off).

The counts are updated when the unread counts change (``show_unread``), when the bar scrolls
and when it is resized.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual.app import ComposeResult
from textual.content import Content
from textual.css.query import NoMatches
from textual.widgets import Static, Tab, Tabs

LEFT, RIGHT = "◂", "▸"


class AccountTabs(Tabs):
    """``Tabs`` whose edges count the unread accounts out of view."""

    DEFAULT_CSS = """
    AccountTabs > .tabs-edge {
        display: none;
        width: 5;
        height: 1;
        color: $text-muted;
    }
    AccountTabs > .tabs-edge.-unread { color: $text-accent; text-style: bold; }
    AccountTabs > #tabs-edge-left { dock: left; content-align: left middle; }
    AccountTabs > #tabs-edge-right { dock: right; content-align: right middle; }
    AccountTabs.-overflow > .tabs-edge { display: block; }
    """

    def __init__(self, *tabs: Tab | str, **kwargs: Any) -> None:
        super().__init__(*tabs, **kwargs)
        #: Unread messages per tab id (``account-N``).
        self.unread: dict[str, int] = {}
        #: What the edges show: unread accounts out of view on the left, on the right.
        self.out_of_view = (0, 0)

    def compose(self) -> ComposeResult:
        yield Static(LEFT, id="tabs-edge-left", classes="tabs-edge", markup=False)
        yield Static(RIGHT, id="tabs-edge-right", classes="tabs-edge", markup=False)
        yield from super().compose()

    def on_mount(self) -> None:
        self.watch(self.query_one("#tabs-scroll"), "scroll_x", self._scrolled, init=False)

    def show_unread(self, unread: Mapping[str, int]) -> None:
        """The unread messages per tab id, as last counted."""
        self.unread = dict(unread)
        self.call_after_refresh(self.update_edges)

    def _scrolled(self, _value: float) -> None:
        self.update_edges()

    def on_resize(self) -> None:
        self.call_after_refresh(self.update_edges)

    def update_edges(self) -> None:
        """Count the unread accounts whose tabs are (partly) past each edge; show the edges
        when the tabs do not fit."""
        try:
            bar = self.query_one("#tabs-scroll")
            strip = self.query_one("#tabs-list")
        except NoMatches:
            return
        tabs = list(strip.query(Tab))
        if not tabs:
            return
        # Positions in the list's own space (the tabs and the list move together as it
        # scrolls), against the window the bar shows of it.
        origin = strip.region.x
        width = sum(tab.outer_size.width for tab in tabs)
        self.set_class(width > self.size.width, "-overflow")
        first, last = bar.scroll_x, bar.scroll_x + bar.size.width
        left = right = 0
        hidden_left = hidden_right = False
        for tab in tabs:
            start = tab.region.x - origin
            end = start + tab.outer_size.width
            unread = 1 if self.unread.get(tab.id or "") else 0
            if start < first:
                hidden_left, left = True, left + unread
            elif end > last:
                hidden_right, right = True, right + unread
        self.out_of_view = (left, right)
        self._edge("#tabs-edge-left", f"{LEFT} {left}" if left else LEFT, hidden_left, left)
        self._edge("#tabs-edge-right", f"{right} {RIGHT}" if right else RIGHT, hidden_right, right)

    def _edge(self, selector: str, text: str, hidden: bool, count: int) -> None:
        """An edge: the arrow when tabs are hidden past it, with the unread accounts among
        them; blank when the bar shows everything on that side."""
        edge = self.query_one(selector, Static)
        edge.update(Content(text if hidden else ""))
        edge.set_class(count > 0, "-unread")
