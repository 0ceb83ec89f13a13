"""A ``SelectionList`` whose boxes say ticked or not with a glyph, not with colour alone.

Textual's boxes all show the same "X" and differ only in colour: unreadable on a monochrome
terminal, in some themes and for colour-blind chatters. Here a ticked box shows ✓ and an
unticked one is empty.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.binding import Binding
from textual.message import Message
from textual.strip import Strip
from textual.widgets import SelectionList
from textual.widgets._toggle_button import ToggleButton
from textual.widgets.option_list import OptionDoesNotExist

TICKED = "✓"
UNTICKED = " "


class TickList(SelectionList[str]):
    # Enter answers (Space ticks): not SelectionList's Enter, which ticks too. A key of the
    # list, not a priority key of its screen, so it comes after the ticks typed before it.
    BINDINGS = [Binding("enter", "submit", "Apply", show=False)]

    class Submitted(Message):
        """Enter: what is ticked is the answer."""

    def action_submit(self) -> None:
        self.post_message(self.Submitted())

    def render_line(self, y: int) -> Strip:
        line = super().render_line(y)
        segments = list(line)
        # The box is the line's first three segments: ▐ X ▌ (see SelectionList.render_line).
        if len(segments) < 3 or segments[1].text != ToggleButton.BUTTON_INNER:
            return line
        try:
            selection = self.get_option_at_index(self.scroll_offset.y + y)
        except OptionDoesNotExist:
            return line
        glyph = TICKED if selection.value in self.selected else UNTICKED
        segments[1] = Segment(glyph, segments[1].style)
        return Strip(segments, line.cell_length)
