"""A yes/no question before an action that cannot be taken back: unsend a message, delete an
automated message (console.tui.automations), quit while actions wait in the outbox.

Fansly's web console asks before it deletes a message; so does the console. The quoted text is
the chatter's own message, shown as plain text.

Quit while actions wait in the outbox? The console asks first and says how many (issue 11: `q`
quit with a reply queued and said nothing). Nothing is dropped either way: what is queued stays
in the cache and is delivered the next time the console runs online.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static
from textual.widgets.button import ButtonVariant

from console.tui.text import plain


def waiting_text(counts: dict[str, int], names: dict[str, str]) -> Content:
    """What is waiting, said plainly: how many actions, and per account when several."""
    total = sum(counts.values())
    head = (
        f"{total} action{'s' if total != 1 else ''} (replies, likes, pins, mutes) "
        f"{'are' if total != 1 else 'is'} not delivered yet."
    )
    parts = [Content.styled(head, "bold")]
    waiting = [(names.get(a, a), n) for a, n in counts.items() if n]
    if len(waiting) > 1:
        parts.append(Content("\n"))
        for i, (name, count) in enumerate(waiting):
            sep = ", " if i else ""
            parts += [Content(sep), plain(name, one_line=True), Content(f" {count}")]
    parts.append(
        Content(
            "\n\nThey stay queued on this machine and are delivered the next time the console "
            "runs online."
        )
    )
    return Content.assemble(*parts)


class YesNo(ModalScreen[bool]):
    """A y/n question: its subclasses give the words (bindings, question, the buttons)."""

    #: Focus the safe answer at opening (else Textual focuses the first button, the yes).
    NO_FIRST: ClassVar[bool] = False

    @staticmethod
    def buttons(yes: str, no: str = "Keep", variant: ButtonVariant = "error") -> ComposeResult:
        with Horizontal(id="confirm-buttons"):
            yield Button(f"{yes} (y)", variant=variant, id="confirm-yes")
            yield Button(f"{no} (n)", id="confirm-no")

    def on_mount(self) -> None:
        if self.NO_FIRST:
            self.query_one("#confirm-no", Button).focus()

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


class ConfirmQuit(YesNo):
    """Quit with undelivered actions? y / n."""

    DEFAULT_CSS = """
    ConfirmQuit {
        align: center middle;
    }
    #quit-box {
        width: 66;
        height: auto;
        padding: 1 2;
        background: $surface;
        border: round $warning;
    }
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Quit", id="quit.yes", tooltip="Quit; they stay queued"),
        Binding("n,escape", "answer(False)", "Stay", id="quit.no", tooltip="Back to the chats"),
    ]

    #: The safe answer has the focus: an Enter typed a moment too late does not quit.
    NO_FIRST = True

    def __init__(self, counts: dict[str, int], names: dict[str, str]) -> None:
        super().__init__()
        self.counts = counts
        self.names = names

    def compose(self) -> ComposeResult:
        with Vertical(id="quit-box"):
            yield Static(waiting_text(self.counts, self.names), id="quit-text")
            yield from self.buttons("Quit anyway", no="Stay", variant="warning")
