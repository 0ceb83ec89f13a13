"""The help screen, generated from the bindings actually in force (remaps included)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static


def binding_rows(groups: list[tuple[str, list[Binding]]], keymap: dict[str, str]) -> Content:
    lines: list[Content] = []
    for title, bindings in groups:
        lines.append(Content.styled(title, "bold $accent"))
        for binding in bindings:
            keys = keymap.get(binding.id or "", binding.key) if binding.id else binding.key
            keys = ", ".join(k.strip() for k in keys.split(","))
            text = binding.tooltip or binding.description
            lines.append(Content.assemble(Content.styled(f"  {keys:<22}", "bold"), Content(text)))
        lines.append(Content(""))
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,f1,question_mark", "dismiss", "Close", id="help.close")]

    def __init__(self, groups: list[tuple[str, list[Binding]]], keymap: dict[str, str]) -> None:
        super().__init__()
        self.groups = groups
        self.keymap = keymap

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(Content.styled("fansly-console — keys", "bold"), id="help-title")
            yield Static(binding_rows(self.groups, self.keymap), id="help-body")
            yield Static(
                Content("Esc closes. ctrl+p opens the command palette (every action, themes)."),
                id="help-footer",
            )

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
