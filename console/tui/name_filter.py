"""The chat list's name filter (key ``s``): Enter keeps the filter and goes back to the list,
Esc clears it and goes back. Without Esc, the keys a chatter pressed next (``f``, ``r``…) kept
typing into the filter."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class NameFilter(Input):
    """An ``Input`` that Esc leaves (clearing what was typed)."""

    BINDINGS = [
        Binding(
            "escape",
            "leave",
            "Clear and leave",
            id="names.leave",
            tooltip="Clear the name filter and go back to the chat list (Enter keeps it)",
        ),
    ]

    class Left(Message):
        """Esc was pressed: the filter is cleared; the list should take the keys."""

    def action_leave(self) -> None:
        self.value = ""  # posts Changed: the list shows every chat again
        self.post_message(self.Left())
