"""A scrolling window of messages that keeps the reader's place while messages join or leave
above what they look at (the thread's base: ``console.tui.thread``).

Textual's ``anchor()`` holds the end of the content in view; a reader who scrolled away from
the end is held here instead, on the message at the top of their view, in the very layout
that places the new widgets (see :meth:`PlaceKeepingScroll.arrange`).
"""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.layout import DockArrangeResult

from console.tui.message_view import MessageView


class PlaceKeepingScroll(VerticalScroll):
    """A vertical scroll of message widgets whose reader stays on the message they read."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        #: What the reader looks at while the window is not held at its end: the message at
        #: the top of the view and the row it is on (see ``arrange``).
        self._reading: tuple[MessageView, float] | None = None
        #: The children's places at the last layout (relative to the scrolled content).
        self._arranged: DockArrangeResult | None = None

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._note_reading()

    @property
    def _held_at_end(self) -> bool:
        """The newest message is held in view (Textual's anchor): each layout scrolls to it."""
        return self.is_anchored and not self._anchor_released

    def _note_reading(self) -> None:
        """Note the message at the top of the view and its row, from the last layout."""
        self._reading = None
        if self._held_at_end or self._arranged is None:
            return
        top = self.scroll_y
        for placement in self._arranged.placements:
            widget = placement.widget
            if isinstance(widget, MessageView) and placement.region.bottom > top:
                self._reading = (widget, placement.region.y - top)
                return

    async def _finish_scrolling(self) -> None:
        """End a scroll under way (PageUp, Home animate) at its destination, before messages
        join above: the reader is held where they were going, and no later frame of the
        animation, counted in the old positions, moves them."""
        await self.app.animator.stop_animation(self, "scroll_y", complete=True)

    def arrange(self, size: Size, optimal: bool = False) -> DockArrangeResult:
        """Lay out the messages; a reader who is not at the end keeps what they look at in
        place. Messages joining above (the rest of the page, an older page, a late message)
        or leaving it would otherwise move it by their height; scrolling here, in the layout
        that places them, moves it in no frame (as Textual's anchor holds the end). Done after
        the layout, it was a frame late, and counted a message arriving below in the same
        layout as if it came above."""
        arranged = super().arrange(size, optimal)
        if optimal:
            return arranged
        self._arranged = arranged
        reading = self._reading
        if reading is None or self._held_at_end:
            return arranged
        view, row = reading
        for placement in arranged.placements:
            if placement.widget is view:
                y = max(0.0, placement.region.y - row)
                if y != self.scroll_y:
                    # As Textual's compositor scrolls an anchored widget: no watcher runs (the
                    # reader did not move), the scrollbar follows.
                    self.set_reactive(PlaceKeepingScroll.scroll_y, y)
                    self.set_reactive(PlaceKeepingScroll.scroll_target_y, y)
                    self.vertical_scrollbar.position = y
                break
        return arranged
