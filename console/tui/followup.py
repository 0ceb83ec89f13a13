"""Snooze and follow-ups on a chat (issue 16).

- ``z`` "remind me in N minutes": the chat leaves the queue and comes back on top, marked
  "⏰ reminder", when due (kept in the cache: a console started later still shows it). Answering
  the chat clears it; ``z`` then ``0`` clears it too.
- ``F`` "follow up in N minutes unless they reply": a message kept in the outbox with a due
  time, shown under the thread's title ("⏱ follow-up at 14:30 unless they reply"), cancelled by
  any message from the fan, sent once. It is sent by a running console (its outbox): the form
  says so. One that came due while no console ran is not sent late: at the next start the
  console asks whether to send it now or drop it. ``C`` cancels the chat's follow-ups.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from console.tui.key_order import caught_up
from console.tui.text import clean, fan_label, plain
from console.tui.zone import local

#: Minutes offered when the chatter types nothing.
DEFAULT_MINUTES = 30
MAX_MINUTES = 7 * 24 * 60


@dataclass(frozen=True, slots=True)
class FollowUpRow:
    """A follow-up waiting in the outbox (or held: missed)."""

    account_id: str
    chat_id: str
    client_id: str
    due: datetime
    text: str


def _minutes(value: str) -> int | None:
    text = value.strip() or str(DEFAULT_MINUTES)
    if not text.isdigit():
        return None
    minutes = int(text)
    return minutes if minutes <= MAX_MINUTES else None


_FORM_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 64; max-width: 100%; height: auto; border: round $accent;
    background: $surface; padding: 0 1;
}}
{name} .hint {{ color: $text-muted; }}
"""


class RemindForm(ModalScreen[int | None]):
    """``z``: remind me about this chat in N minutes (0 clears the reminder)."""

    DEFAULT_CSS = _FORM_CSS.format(name="RemindForm")
    BINDINGS = [Binding("escape", "close", "Close", id="remind.close", tooltip="Close")]

    def __init__(self, who: str, current: datetime | None) -> None:
        super().__init__()
        self.who = who
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content.assemble(Content.styled("Remind me about ", "bold"), self.who))
            yield Input(placeholder=f"minutes ({DEFAULT_MINUTES})", id="remind-minutes")
            now = (
                f"A reminder is set for {local(self.current).strftime('%H:%M')}; 0 clears it."
                if self.current is not None
                else "The chat leaves the queue until then, then comes back on top."
            )
            yield Static(now, classes="hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        minutes = _minutes(event.value)
        if minutes is None:
            self.notify(f"Minutes: a number from 0 to {MAX_MINUTES}.", severity="warning")
            return
        self.dismiss(minutes)

    def action_close(self) -> None:
        self.dismiss(None)


class FollowUpForm(ModalScreen[tuple[int, str] | None]):
    """``F``: follow up in N minutes unless they reply."""

    DEFAULT_CSS = _FORM_CSS.format(name="FollowUpForm")
    BINDINGS = [
        Binding("escape", "close", "Close", id="follow_up.close", tooltip="Close"),
        # Enter is the form's, in the order the keys came (console/tui/key_order.py): keys
        # typed ahead after it land in the next field (Input.Submitted and focus() both
        # waited behind them: "1sti" in the minutes).
        Binding(
            "enter",
            "next",
            "Next",
            show=False,
            priority=True,
            id="follow_up.next",
            tooltip="The message; on the message, set the follow-up",
        ),
    ]

    def __init__(self, who: str) -> None:
        super().__init__()
        self.who = who

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content.assemble(Content.styled("Follow up with ", "bold"), self.who))
            yield Input(placeholder=f"in minutes ({DEFAULT_MINUTES})", id="follow-minutes")
            yield Input(placeholder="the message", id="follow-text")
            yield Static(
                "Sent once, unless they write first. Sent by a running console: one that "
                "comes due while none runs is held, and you are asked at the next start.",
                classes="hint",
            )

    def on_mount(self) -> None:
        self.query_one("#follow-minutes", Input).focus()

    async def action_next(self) -> None:
        await caught_up(self)
        field = self.query_one("#follow-minutes", Input)
        if self.focused is field:
            self.set_focus(self.query_one("#follow-text", Input))
            return
        minutes = _minutes(field.value)
        text = self.query_one("#follow-text", Input).value
        if minutes is None or minutes == 0:
            self.notify(f"Minutes: a number from 1 to {MAX_MINUTES}.", severity="warning")
            self.set_focus(field)
            return
        if not text.strip():
            self.notify("Write the follow-up message first.", severity="warning")
            return
        self.dismiss((minutes, text))

    def action_close(self) -> None:
        self.dismiss(None)


class MissedFollowUps(ModalScreen[bool | None]):
    """Follow-ups that came due while no console ran: send them now (y) or drop them (n)."""

    DEFAULT_CSS = _FORM_CSS.format(name="MissedFollowUps")
    BINDINGS = [
        Binding("y", "answer(True)", "Send now", id="missed.send", tooltip="Send them now"),
        Binding("n", "answer(False)", "Drop", id="missed.drop", tooltip="Drop them"),
        Binding("escape", "answer(None)", "Later", id="missed.later", tooltip="Ask later"),
    ]

    def __init__(self, rows: list[FollowUpRow], names: dict[str, str]) -> None:
        super().__init__()
        self.rows = rows
        self.names = names

    def compose(self) -> ComposeResult:
        with Vertical():
            count = len(self.rows)
            yield Static(
                Content.styled(
                    f"{count} follow-up{'s' if count != 1 else ''} came due while no console "
                    "ran (not sent):",
                    "bold",
                )
            )
            for row in self.rows[:8]:
                when = local(row.due).strftime("%d %b %H:%M")
                line = f"  {when} · {self.names.get(row.chat_id, 'a fan')}: {row.text}"
                yield Static(plain(clean(line, one_line=True)[:120]))
            yield Static("y: send them now · n: drop them · Esc: ask me later", classes="hint")

    def action_answer(self, send: bool | None) -> None:
        self.dismiss(send)


class FollowUpStrip(Static):
    """Under the thread's title: the open chat's follow-ups waiting (``C`` cancels)."""

    DEFAULT_CSS = """
    FollowUpStrip { height: auto; max-height: 3; color: $warning; padding: 0 1; }
    """

    def show(self, rows: list[FollowUpRow]) -> None:
        self.display = bool(rows)
        if not rows:
            return
        lines = []
        for row in rows[:3]:
            when = local(row.due).strftime("%H:%M")
            text = clean(row.text, one_line=True)[:60]
            lines.append(f"⏱ follow-up at {when} unless they reply: “{text}” (C cancels)")
        self.update(Content("\n".join(lines)))


# -- what the console's keys do (the app's actions call these) --------------------------------


def ask_reminder(app: Any) -> None:
    """``z``: remind me about the open chat (or the queue's selected one) in N minutes."""
    account_id, chat_id, who = app.account_id, app.chat_id, app.fan_name
    if not (account_id and chat_id):
        app.notify("Open a chat first.", severity="warning", markup=False)
        return
    remind(app, account_id, chat_id, who)


def remind(app: Any, account_id: str, chat_id: str, who: str) -> None:
    async def ask() -> None:
        current = await app.source.reminder(account_id, chat_id)

        async def chosen(minutes: int | None) -> None:
            if minutes is None:
                return
            if minutes == 0:
                if await app.source.clear_reminder(account_id, chat_id):
                    app.notify(f"Reminder cleared: {who}", markup=False)
            else:
                due = app.clock() + timedelta(minutes=minutes)
                await app.source.set_reminder(account_id, chat_id, due)
                app.notify(
                    f"Reminder at {local(due).strftime('%H:%M')}: {who} comes back on top of "
                    "the queue (w) then.",
                    markup=False,
                )
            app.queue_mode.stale()

        app.app.push_screen(RemindForm(who, current), chosen)

    app.run_worker(ask(), group="remind", exit_on_error=False)


def ask_follow_up(app: Any) -> None:
    """``F``: follow up with the open chat's fan in N minutes unless they reply."""
    account_id, chat_id, who = app.account_id, app.chat_id, app.fan_name
    if not (account_id and chat_id):
        app.notify("Open a chat first.", severity="warning", markup=False)
        return

    async def chosen(answer: tuple[int, str] | None) -> None:
        if answer is None:
            return
        minutes, text = answer
        due = app.clock() + timedelta(minutes=minutes)
        if await app._act(app.source.follow_up(account_id, chat_id, text, due)) is None:
            return
        app.notify(
            f"Follow-up to {who} at {local(due).strftime('%H:%M')} unless they reply "
            "(sent while a console runs).",
            markup=False,
        )
        app.refresh_follow_ups()

    app.app.push_screen(FollowUpForm(who), chosen)


def cancel_follow_ups(app: Any) -> None:
    """``C``: cancel the open chat's follow-ups."""
    account_id, chat_id = app.account_id, app.chat_id
    if not (account_id and chat_id):
        return

    async def cancel() -> None:
        rows = await app.source.follow_ups(account_id, chat_id)
        done = 0
        for row in rows:
            done += bool(await app.source.cancel_follow_up(account_id, row.client_id))
        app.notify(
            f"{done} follow-up{'s' if done != 1 else ''} cancelled." if done else "No follow-up.",
            markup=False,
        )
        app.refresh_follow_ups()

    app.run_worker(cancel(), group="follow-ups", exit_on_error=False)


async def ask_missed(app: Any, asked: set[str]) -> None:
    """Follow-ups held because they came due while no console ran: ask once per start."""
    ids = [a.account_id for a in app.accounts]
    rows = [r for r in await app.source.missed_follow_ups(ids) if r.client_id not in asked]
    if not rows:
        return
    asked.update(r.client_id for r in rows)
    names: dict[str, str] = {}
    for row in rows[:8]:
        chat = await app.source.chat(row.account_id, row.chat_id)
        if chat is not None:
            names[row.chat_id] = fan_label(chat.fan_name, chat.fan_username)

    async def answered(send: bool | None) -> None:
        if send is None:
            asked.difference_update(r.client_id for r in rows)  # asked again later
            return
        for row in rows:
            await app.source.settle_missed_follow_up(row.account_id, row.client_id, send)
        app.notify(
            f"{len(rows)} follow-up{'s' if len(rows) != 1 else ''} "
            f"{'sent now' if send else 'dropped'}.",
            markup=False,
        )

    app.app.push_screen(MissedFollowUps(rows, names), answered)
