"""A yes/no question before an action that cannot be taken back (unsend a message).

Fansly's web console asks before it deletes a message; so does the console. The quoted text is
the chatter's own message, shown as plain text.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from console.tui.text import plain


class YesNo(ModalScreen[bool]):
    """A y/n question: its subclasses give the words (bindings, question, the Yes button)."""

    @staticmethod
    def buttons(yes: str) -> ComposeResult:
        with Horizontal(id="confirm-buttons"):
            yield Button(f"{yes} (y)", variant="error", id="confirm-yes")
            yield Button("Keep (n)", id="confirm-no")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class ConfirmUnsend(YesNo):
    """Unsend this message? y / n."""

    BINDINGS = [
        Binding("y", "answer(True)", "Unsend", id="unsend.yes", tooltip="Unsend the message"),
        Binding("n,escape", "answer(False)", "Keep", id="unsend.no", tooltip="Keep the message"),
    ]

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            question = "Unsend this message? The fan will no longer see it."
            yield Static(Content.styled(question, "bold"))
            yield Static(plain("  " + self.text[:160] + ("…" if len(self.text) > 160 else "")))
            yield from self.buttons("Unsend")
