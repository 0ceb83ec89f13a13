"""The help screen, generated from the bindings actually in force (remaps included)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

#: What the console's marks mean: in the help screen, and as the tooltip of what they mark.
TAB_BADGE = (
    "The number after an account's name is its unread messages, in every chat of that account."
)
CHAT_LIST_MARKS = (
    "Each chat: ▲ pinned, ★ VIP, the number of unread messages, then a time. While the fan "
    "waits for an answer, that time is how long since their first unanswered message (in the "
    "warning colour once it passes {waiting} min, [ui] waiting_alert_minutes); otherwise it is "
    "the time since the last message. A dimmed row is a muted fan."
)


def legend(waiting_minutes: int, zone: str) -> list[tuple[str, str]]:
    """The help screen's "What you see" rows: (where, what it means)."""
    return [
        ("Account tabs", TAB_BADGE),
        ("Chat list", CHAT_LIST_MARKS.format(waiting=waiting_minutes)),
        (
            "Status line",
            "The gateway connection, sync progress, actions queued, then the API calls left "
            "this minute: what remains of the gateway's per-minute request budget for your "
            "API key, and the credits the console spent this month against [budget] "
            "monthly_credits (`fansly-console usage` breaks them down).",
        ),
        ("Times", f"Every time is shown in {zone}; [ui] timezone in the config changes it."),
    ]


def legend_rows(rows: list[tuple[str, str]]) -> Content:
    lines = [Content.styled("What you see", "bold $accent")]
    for where, what in rows:
        lines.append(Content.assemble(Content.styled(f"  {where:<22}", "bold"), Content(what)))
    return Content("\n").join(lines)


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

    def __init__(
        self,
        groups: list[tuple[str, list[Binding]]],
        keymap: dict[str, str],
        marks: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__()
        self.groups = groups
        self.keymap = keymap
        self.marks = marks or []

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(Content.styled("fansly-console — keys", "bold"), id="help-title")
            yield Static(binding_rows(self.groups, self.keymap), id="help-body")
            if self.marks:
                yield Static(legend_rows(self.marks), id="help-legend")
            yield Static(
                Content("Esc closes. ctrl+p opens the command palette (every action, themes)."),
                id="help-footer",
            )

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
