"""Quit while actions wait in the outbox? The console asks first and says how many (issue 11:
`q` quit with a reply queued and said nothing). Nothing is dropped either way: what is queued
stays in the cache and is delivered the next time the console runs online.
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


class ConfirmQuit(ModalScreen[bool]):
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
    #quit-buttons {
        height: auto;
        margin-top: 1;
    }
    #quit-buttons Button {
        margin-right: 2;
    }
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Quit", id="quit.yes", tooltip="Quit; they stay queued"),
        Binding("n,escape", "answer(False)", "Stay", id="quit.no", tooltip="Back to the chats"),
    ]

    def __init__(self, counts: dict[str, int], names: dict[str, str]) -> None:
        super().__init__()
        self.counts = counts
        self.names = names

    def compose(self) -> ComposeResult:
        with Vertical(id="quit-box"):
            yield Static(waiting_text(self.counts, self.names), id="quit-text")
            with Horizontal(id="quit-buttons"):
                yield Button("Quit anyway (y)", variant="warning", id="quit-yes")
                yield Button("Stay (n)", id="quit-no")

    def on_mount(self) -> None:
        # The safe answer has the focus: an Enter typed a moment too late does not quit.
        self.query_one("#quit-no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "quit-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
