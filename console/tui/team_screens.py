"""Team mode's screens: the double-reply guard's question, and ``team stats`` per chatter.

Both show the team's names and numbers as plain text (never markup). The stats are the
server's (``GET /team/stats``, console/team/stats.py computes them once for the CLI and this
screen alike); the screen only lays them out.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static, Tab, Tabs

from console.tui.confirm import YesNo
from console.tui.team_ui import PERIODS, TeamUI, guard_words, name_text
from console.tui.text import money_text, plain


class GuardQuestion(YesNo):
    """ben replied 12 s ago. Send anyway? y / n (n keeps the text in the composer)."""

    DEFAULT_CSS = """
    GuardQuestion { align: center middle; }
    #guard-box {
        width: 70; height: auto; padding: 1 2;
        background: $surface; border: round $warning;
    }
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Send", id="guard.yes", tooltip="Send it anyway, once"),
        Binding(
            "n,escape", "answer(False)", "Keep", id="guard.no", tooltip="Keep it in the composer"
        ),
    ]

    #: An Enter typed a moment too late (the chatter was still sending) does not send.
    NO_FIRST = True

    def __init__(self, others: list[dict[str, Any]], text: str) -> None:
        super().__init__()
        self.others = others
        self.text = text

    @property
    def question(self) -> str:
        return f"{guard_words(self.others)}. Send anyway?"

    def compose(self) -> ComposeResult:
        with Vertical(id="guard-box"):
            yield Static(plain(self.question, style="bold"), id="guard-question")
            shown = self.text[:160] + ("…" if len(self.text) > 160 else "")
            yield Static(plain("  " + shown), id="guard-text")
            yield Static(
                Content.styled("n keeps your text in the composer", "$text-muted"),
                id="guard-help",
            )
            yield from self.buttons("Send anyway", no="Keep", variant="warning")


def _median(seconds: object) -> str:
    if not isinstance(seconds, int | float):
        return "—"
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def stats_rows(rows: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    """The table's cells, plain text: a name, replies, median response, PPVs, revenue."""
    return [
        (
            name_text(row.get("chatter")),
            str(int(row.get("replies") or 0)),
            _median(row.get("median_response_seconds")),
            str(int(row.get("ppvs_sent") or 0)),
            str(int(row.get("ppvs_bought") or 0)),
            money_text(int(row.get("revenue_millis") or 0)),
        )
        for row in rows[:500]
    ]


class TeamStatsScreen(ModalScreen[None]):
    """``T``: per chatter, for a shift, a day or a week (tab / shift+tab between them)."""

    DEFAULT_CSS = """
    TeamStatsScreen { align: center middle; }
    #stats-box {
        width: 96; height: 80%; padding: 0 1;
        background: $surface; border: round $accent;
    }
    #stats-table { height: 1fr; }
    #stats-state { height: 1; color: $text-muted; }
    """

    BINDINGS = [
        Binding("escape,q,T", "close", "Close", id="stats.close", tooltip="Close the stats"),
        Binding("tab,right", "period(1)", "Next period", id="stats.next", tooltip="Next period"),
        Binding(
            "shift+tab,left",
            "period(-1)",
            "Previous period",
            id="stats.previous",
            tooltip="Previous period",
        ),
    ]

    COLUMNS = ("Chatter", "Replies", "Median response", "PPVs sent", "PPVs bought", "Revenue")

    def __init__(self, team: TeamUI) -> None:
        super().__init__()
        self.team = team
        self.period = 0
        #: The last answer per period (what the screen shows when the server goes away).
        self.shown: dict[str, list[tuple[str, ...]]] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="stats-box"):
            yield Static(Content.styled("Team stats", "bold"), id="stats-title")
            yield Tabs(*[Tab(label, id=f"period-{key}") for key, _, label in PERIODS])
            yield DataTable(id="stats-table", cursor_type="row", zebra_stripes=True)
            yield Static(id="stats-state")
            yield Static(
                Content.styled("tab switches the period · esc closes", "$text-muted"),
                id="stats-help",
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*self.COLUMNS)
        table.focus()
        self._load()

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        keys = [f"period-{key}" for key, _, _ in PERIODS]
        if event.tab.id in keys and keys.index(event.tab.id) != self.period:
            self.period = keys.index(event.tab.id)
            self._load()

    def action_period(self, step: int) -> None:
        self.period = (self.period + step) % len(PERIODS)
        self.query_one(Tabs).active = f"period-{PERIODS[self.period][0]}"
        self._load()

    def action_close(self) -> None:
        self.dismiss(None)

    @work(group="team-stats", exclusive=True, exit_on_error=False)
    async def _load(self) -> None:
        key, since, label = PERIODS[self.period]
        state = self.query_one("#stats-state", Static)
        state.update(f"{label}: asking the team server…")
        rows = await self.team.stats(since)
        if isinstance(rows, str):
            state.update(f"{label}: {rows}")
            self._fill(self.shown.get(key, []))
            return
        self.shown[key] = stats_rows(rows)
        self._fill(self.shown[key])
        state.update(f"{label}: {len(rows)} chatter{'s' if len(rows) != 1 else ''}")

    def _fill(self, rows: list[tuple[str, ...]]) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))  # Text: never markup
