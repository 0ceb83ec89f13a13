"""The reply-to bar, the status line and the offline banner (the fan profile pane is in
``console.tui.profile``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

from console.changes import OFFLINE_MODE, ConnectionChanged, OutboxChanged, SyncProgress
from console.tui.source import MessageRow
from console.tui.text import ago, clean, plain, utcnow
from console.tui.zone import hhmm, zone_abbreviation

if TYPE_CHECKING:  # pydantic models: the first paint needs none
    from console.api.credits import CreditStatus
    from console.api.models import RateBudget


class ReplyBar(Static):
    """Shows the message being replied to; hidden when not replying."""

    def show(self, message: MessageRow | None, who: str) -> None:
        self.display = message is not None
        if message is not None:
            quoted = clean(message.text[:800], one_line=True)[:160]
            self.update(
                Content.assemble(
                    Content.styled("↩ Replying to ", "bold"),
                    plain(who, one_line=True, style="bold"),
                    Content(": "),
                    plain(quoted, style="italic"),
                    Content.styled("   (esc cancels)", "$text-muted"),
                )
            )


class StatusLine(Static):
    """Connection, sync progress, queued actions, the minute's request budget and the zone
    times are shown in."""

    TOOLTIP = (
        "● the gateway connection · ⟳ chats synced so far · ⇡ actions waiting to be sent · "
        "API calls left this minute: what remains of the gateway's per-minute request budget "
        "for your API key · credits: what the console spent with the gateway this month, "
        "against [budget] monthly_credits (fansly-console usage breaks it down) · "
        "times in: the zone of every time shown "
        "([ui] timezone in the config changes it)"
    )

    def __init__(self, *, clock: Callable[[], datetime] = utcnow, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tooltip = self.TOOLTIP
        self.clock = clock
        self.connection = ConnectionChanged("offline", clock(), "starting")
        self.progress: dict[str, SyncProgress] = {}
        self.outbox: dict[str, OutboxChanged] = {}
        self.budget: RateBudget | None = None
        self.credits: CreditStatus | None = None
        #: The events hub's connection, with ``--events`` (None: the embedded listener).
        self.hub: ConnectionChanged | None = None

    def apply(self, update: ConnectionChanged | SyncProgress | OutboxChanged) -> None:
        if isinstance(update, ConnectionChanged):
            self.connection = update
        elif isinstance(update, SyncProgress):
            self.progress[update.account_id] = update
        else:
            self.outbox[update.account_id] = update
        self.render_status()

    def render_status(self) -> None:
        conn = self.connection
        style = {"live": "$text-success", "reconnecting": "$text-warning"}.get(
            conn.state, "$text-error"
        )
        label = conn.state if conn.state == "live" else f"{conn.state} since {hhmm(conn.since)}"
        parts = [Content.styled(f"● {label}", style)]
        if conn.detail and conn.state != "live":
            parts.append(Content(" ("))
            parts.append(plain(conn.detail, one_line=True))
            parts.append(Content(")"))
        if self.hub is not None:
            parts.append(self._hub_part(self.hub))
        running = [p for p in self.progress.values() if not p.finished]
        if running:
            done = sum(p.done for p in running)
            total = sum(p.total for p in running) or 1
            parts.append(Content(f"  ⟳ sync {done}/{total}"))
        pending = sum(o.pending for o in self.outbox.values())
        failed = sum(o.failed for o in self.outbox.values())
        if pending:
            parts.append(Content(f"  ⇡ {pending} queued"))
        if failed:
            parts.append(Content.styled(f"  ✗ {failed} failed", "$text-error"))
        if self.budget is not None and self.budget.remaining is not None:
            # The gateway's per-minute request budget for the API key (every call is billed).
            budget = f"{self.budget.remaining}/{self.budget.limit}"
            parts.append(Content(f"  API calls left this minute: {budget}"))
        if self.credits is not None:
            parts.append(self._credits_part(self.credits))
        # The one place a time stamp's zone is named (the help screen says it in full).
        parts.append(Content.styled(f"  times in {zone_abbreviation(self.clock())}", "$text-muted"))
        # One line of fixed height: no layout pass needed (a backfill updates this a lot).
        self.update(Content.assemble(*parts), layout=False)

    @staticmethod
    def _credits_part(credits: CreditStatus) -> Content:
        """Credits used this month against the budget; warns from 80%, errs once spent."""
        style = ""
        cap = credits.background_cap
        if credits.exhausted or (credits.budget and credits.used >= credits.budget):
            style = "$text-error"
        elif (cap is not None and credits.used >= cap) or (
            credits.budget and credits.used >= 0.8 * credits.budget
        ):
            style = "$text-warning"
        text = "  " + credits.text()
        if credits.exhausted:
            text += " (the gateway refused: 402)"
        return Content.styled(text, style) if style else Content(text)

    @staticmethod
    def _hub_part(hub: ConnectionChanged) -> Content:
        style = {"live": "$text-success", "reconnecting": "$text-warning"}.get(
            hub.state, "$text-error"
        )
        label = "hub live" if hub.state == "live" else f"hub {hub.state} since {hhmm(hub.since)}"
        parts = [Content("  "), Content.styled(f"⇄ {label}", style)]
        if hub.detail and hub.state != "live":
            parts += [Content(" ("), plain(hub.detail, one_line=True), Content(")")]
        return Content.assemble(*parts)

    def since_text(self) -> str:
        return ago(self.connection.since, self.clock())


#: The connection's detail in team mode (the console's server is the team server).
TEAM_SERVER = "team server"


class OfflineBanner(Static):
    """Shown while the gateway cannot be reached (or with ``--offline``): since when, and how
    many actions wait in the outbox to be delivered once it is back."""

    def show(self, connection: ConnectionChanged, queued: int) -> None:
        self.display = connection.state != "live"
        if not self.display:
            return
        since = hhmm(connection.since)
        actions = f"{queued} action{'s' if queued != 1 else ''} queued"
        if connection.detail == OFFLINE_MODE:
            head = f"Offline mode since {since} — {actions}"
            tail = "; sent the next time the console runs online. Cached chats and search work."
        else:
            word = "Reconnecting" if connection.state == "reconnecting" else "Offline"
            head = f"{word} since {since} — {actions}"
            where = "the team server" if connection.detail == TEAM_SERVER else "the gateway"
            tail = f"; delivered once {where} is back. Cached chats and search work."
        self.update(Content.assemble(Content.styled("⚠ " + head, "bold"), Content(tail)))
