"""The composer: a multi-line ``TextArea`` where Enter sends and ctrl+j starts a new line."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

from console.api.models import MAX_MESSAGE_LENGTH

TYPING_INTERVAL = 3.0


class Composer(TextArea):
    """Write a reply. Enter sends; ctrl+j (or shift+enter where the terminal tells) is a newline."""

    BINDINGS = [
        Binding(
            "enter", "send", "Send", priority=True, id="composer.send", tooltip="Send the message"
        ),
        Binding(
            "ctrl+j,shift+enter",
            "newline",
            "New line",
            priority=True,
            id="composer.newline",
            tooltip="Start a new line in the message (ctrl+j)",
        ),
        Binding(
            "escape",
            "leave",
            "Cancel reply-to / leave",
            id="composer.leave",
            tooltip="Cancel the reply-to, or go back to the chat list",
        ),
    ]

    class Submitted(Message):
        def __init__(self, composer: Composer, text: str) -> None:
            super().__init__()
            self.composer = composer
            self.text = text

    class Typing(Message):
        """The chatter typed; sent at most once per ``TYPING_INTERVAL`` seconds."""

    class Left(Message):
        """Escape was pressed."""

    class Refused(Message):
        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, id: str | None = None
    ) -> None:
        super().__init__(id=id, soft_wrap=True, show_line_numbers=False, tab_behavior="focus")
        self.clock = clock
        self._last_typing: float | None = None
        self._quiet = False  # loading a draft is not typing

    def load_draft(self, text: str) -> None:
        self._quiet = text != self.text
        self.load_text(text)
        self.move_cursor(self.document.end)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if self._quiet:
            self._quiet = False
            return
        if not self.text.strip():
            return
        now = self.clock()
        if self._last_typing is None or now - self._last_typing >= TYPING_INTERVAL:
            self._last_typing = now
            self.post_message(self.Typing())

    def action_send(self) -> None:
        text = self.text.strip("\n")
        if not text.strip():
            self.post_message(self.Refused("Nothing to send: the message is empty."))
            return
        if len(text) > MAX_MESSAGE_LENGTH:
            self.post_message(
                self.Refused(
                    f"Not sent: the message has {len(text):,} characters; "
                    f"the limit is {MAX_MESSAGE_LENGTH:,}."
                )
            )
            return
        self.post_message(self.Submitted(self, text))

    def clear_sent(self) -> None:
        self._quiet = bool(self.text)
        self.clear()
        self._last_typing = None

    def action_newline(self) -> None:
        self.insert("\n")

    def action_leave(self) -> None:
        self.post_message(self.Left())
