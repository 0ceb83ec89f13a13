"""The fan profile pane, the reply-to bar and the status line."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from console.api.models import Message, RateBudget, money_text
from console.sync.updates import ConnectionChanged, OutboxChanged, SyncProgress
from console.tui.source import FanCard
from console.tui.text import ago, clean, plain, utcnow


class FanProfile(VerticalScroll, can_focus=False):
    """Name, username, subscription, spend, lists and the team's notes on the fan."""

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="profile-body")

    def show(self, card: FanCard | None) -> None:
        body = self.query_one("#profile-body", Static)
        if card is None:
            body.update(Content("No chat open."))
            return
        fan = card.fan
        lines: list[Content] = [
            plain(fan.name, one_line=True, style="bold"),
            plain("@" + clean(fan.username, one_line=True), style="$text-muted"),
            Content(""),
        ]
        sub = fan.subscription
        if sub is not None:
            tier = plain(sub.tier_name or "subscriber", one_line=True)
            lines.append(Content.assemble("Tier: ", tier))
            lines.append(Content(f"Status: {sub.status.value}"))
            if sub.renew_date is not None:
                lines.append(Content(f"Renews: {sub.renew_date:%d %b %Y}"))
        else:
            lines.append(Content("Not subscribed"))
        lines.append(Content(f"Lifetime spend: {money_text(fan.lifetime_spend_millis)}"))
        lines.append(Content(f"Tips: {money_text(fan.tips_millis)}"))
        if fan.lists:
            lines.append(Content.assemble("Lists: ", plain(", ".join(fan.lists), one_line=True)))
        if card.muted:
            lines.append(Content.styled("Muted", "$text-warning"))
        if card.notes:
            lines.append(Content(""))
            lines.append(Content.styled("Notes", "bold"))
            lines.extend(plain("• " + clean(note)) for note in card.notes)
        body.update(Content("\n").join(lines))


class ReplyBar(Static):
    """Shows the message being replied to; hidden when not replying."""

    def show(self, message: Message | None, who: str) -> None:
        self.display = message is not None
        if message is not None:
            quoted = clean(message.content, one_line=True)[:160]
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
    """Connection, sync progress, queued actions and the minute's request budget."""

    def __init__(self, *, clock: Callable[[], datetime] = utcnow, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.connection = ConnectionChanged("offline", clock(), "starting")
        self.progress: dict[str, SyncProgress] = {}
        self.outbox: dict[str, OutboxChanged] = {}
        self.budget: RateBudget | None = None

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
        label = conn.state if conn.state == "live" else f"{conn.state} since {conn.since:%H:%M}"
        parts = [Content.styled(f"● {label}", style)]
        if conn.detail and conn.state != "live":
            parts.append(Content(" ("))
            parts.append(plain(conn.detail, one_line=True))
            parts.append(Content(")"))
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
            parts.append(Content(f"  {self.budget.remaining}/{self.budget.limit} req left"))
        # One line of fixed height: no layout pass needed (a backfill updates this a lot).
        self.update(Content.assemble(*parts), layout=False)

    def since_text(self) -> str:
        return ago(self.connection.since, self.clock())
