"""A scrolling list for the pickers that paints only the rows on screen (line API).

``OptionList`` measures every option up front (10,000 take seconds); this list holds the
picker's rows as plain data and asks the picker for the few lines it shows. One line per row;
a cursor, and a set of ticked rows (multi-select).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

T = TypeVar("T")

#: ``(row, ticked, width) -> segments`` (without the cursor style: the list adds it).
LineMaker = Callable[[T, bool, int], list[Segment]]


class PickList(ScrollView, Generic[T], can_focus=False):
    """The rows a picker shows (``shown``: indices into ``rows``), with a cursor."""

    COMPONENT_CLASSES = {
        "pick-list--cursor",
        "pick-list--muted",
        "pick-list--good",
        "pick-list--warn",
        "pick-list--bad",
    }

    DEFAULT_CSS = """
    PickList { height: 1fr; background: $surface; }
    PickList > .pick-list--cursor { background: $accent 40%; text-style: bold; }
    PickList > .pick-list--muted { color: $text-muted; }
    PickList > .pick-list--good { color: $text-success; }
    PickList > .pick-list--warn { color: $text-warning; }
    PickList > .pick-list--bad { color: $text-error; }
    """

    def __init__(self, line: LineMaker[T], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.line = line
        self.rows: Sequence[T] = ()
        self.shown: Sequence[int] = ()
        self.ticked: set[int] = set()
        self.cursor = 0
        #: The component styles by short name (``muted``, ``good``, ``warn``, ``bad``), read
        #: once per repaint, for the line maker.
        self.line_styles: dict[str, Style] = {}

    def show(self, rows: Sequence[T], shown: Sequence[int]) -> None:
        """New rows or a new filter: the cursor goes back to the first match."""
        self.rows, self.shown, self.cursor = rows, shown, 0
        self.virtual_size = Size(self.size.width, len(shown))
        self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()

    @property
    def current(self) -> int | None:
        """The index (into ``rows``) under the cursor."""
        return self.shown[self.cursor] if 0 <= self.cursor < len(self.shown) else None

    def move(self, step: int) -> None:
        if not self.shown:
            return
        self.cursor = max(0, min(len(self.shown) - 1, self.cursor + step))
        if self.cursor < self.scroll_y:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= self.scroll_y + self.size.height:
            self.scroll_to(y=self.cursor - self.size.height + 1, animate=False, immediate=True)
        self.refresh()

    def toggle(self) -> None:
        index = self.current
        if index is not None:
            self.ticked.symmetric_difference_update({index})
            self.refresh()

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.shown))

    def render_lines(self, crop: Region) -> list[Strip]:
        self.line_styles = {
            name: self.get_component_rich_style(f"pick-list--{name}")
            for name in ("muted", "good", "warn", "bad")
        }
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        line = int(self.scroll_y) + y
        base = self.rich_style
        if line >= len(self.shown):
            return Strip.blank(width, base)
        index = self.shown[line]
        style: Style = base
        if line == self.cursor:
            style = base + self.get_component_rich_style("pick-list--cursor")
        segments = [
            Segment(text, style + seg_style if seg_style else style)
            for text, seg_style, *_ in self.line(self.rows[index], index in self.ticked, width)
        ]
        return Strip(segments).adjust_cell_length(width, style)
