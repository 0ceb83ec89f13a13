"""The form that creates an automated message (or replaces one: the gateway has no update).

Each trigger shows only the fields it takes (§13: delay and cooldown for all, a subscription
streak for renewals, a minimum tip and keywords for tips, a tier for subscriber triggers).
Everything is checked here, field by field, before any request; what the provider still
refuses comes back next to the field it names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Select, Static, TextArea

from console.api.errors import ApiError, InvalidRequestError
from console.api.models import (
    MAX_AUTOMATION_DELAY,
    RENEW_TRIGGERS,
    SUBSCRIBER_TRIGGERS,
    AutomatedMessage,
    TriggerType,
)
from console.tui.source import ConsoleSource
from console.tui.text import clean, plain

TRIGGER_LABELS: dict[TriggerType, str] = {
    TriggerType.NEW_SUBSCRIBER: "New subscriber (welcome message)",
    TriggerType.SUBSCRIBER_RENEW: "Subscriber renews",
    TriggerType.NEW_TIP: "New tip (thank-you)",
    TriggerType.NEW_FOLLOWER: "New follower",
    TriggerType.NEW_GIFT_LINK_SUBSCRIBER: "New subscriber from a gift link",
    TriggerType.NEW_GIFT_LINK_SUBSCRIBER_RENEW: "Gift-link subscriber renews",
    TriggerType.DISABLED: "Disabled (kept, never sent)",
}

#: Form field → the words that name it in our model's errors and in the provider's 400s.
_FIELD_WORDS: dict[str, tuple[str, ...]] = {  # most specific first: "…renewal triggers"
    "streak": ("subscriptionstreak", "streak"),
    "keywords": ("keywords",),
    "tier": ("subscriptiontierid", "tier"),
    "tip": ("tipamount", "tip"),
    "delay": ("delay",),
    "cooldown": ("cooldown",),
    "content": ("content", "message text", "the message"),
    "trigger": ("triggertype", "trigger"),
}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> int:
    """``90``, ``90s``, ``5m``, ``2h``, ``1d`` → seconds (0 when empty)."""
    if not text.strip():
        return 0
    match = _DURATION.match(text)
    if match is None:
        raise ValueError("write a duration like 90, 90s, 5m, 2h or 1d")
    seconds = int(match[1]) * _UNITS[match[2].lower()]
    if seconds > MAX_AUTOMATION_DELAY:
        raise ValueError("at most 7 days")
    return seconds


def duration_text(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return str(seconds)


#: Under each duration field from the start: the unit is said before any error could.
DURATION_UNITS = "a number alone is seconds; 5m minutes, 2h hours, 1d days"


def duration_words(seconds: int) -> str:
    """``7200`` → ``2 hours``, ``90`` → ``1 min 30 s``, ``0`` → ``none``."""
    if seconds == 0:
        return "none"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds % size == 0 and (seconds < 60 or size > 1):
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}")
    return " ".join(parts)


def duration_hint(text: str) -> str:
    """What a duration field says under it: what was typed, in words, and the units."""
    try:
        seconds = parse_duration(text)
    except ValueError:
        return DURATION_UNITS
    return f"= {duration_words(seconds)} · {DURATION_UNITS}"


def parse_tip(text: str) -> float:
    """``2.5``, ``$2.50``, ``10`` → dollars, kept to the cent; ValueError with the reason."""
    try:
        amount = Decimal(text.strip().lstrip("$").strip())
    except InvalidOperation:
        raise ValueError("an amount in dollars, like 10 or 12.50") from None
    if not amount.is_finite():
        raise ValueError("an amount in dollars, like 10 or 12.50")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("dollars and whole cents, like 2.50 (no fractions of a cent)")
    return float(amount)


def dollars_text(amount: float) -> str:
    """A minimum tip as the chatter typed it: ``$2.50``, ``$10.00``."""
    return f"${amount:,.2f}"


def field_of(message: str) -> str | None:
    """Which form field an error message is about (``None``: the whole rule)."""
    folded = message.casefold()
    for name, words in _FIELD_WORDS.items():
        if any(word in folded for word in words):
            return name
    return None


def fields_for(trigger: TriggerType) -> set[str]:
    """The form fields a trigger takes (content, delay and cooldown always)."""
    shown = {"content", "delay", "cooldown"}
    if trigger in RENEW_TRIGGERS:
        shown.add("streak")
    if trigger in SUBSCRIBER_TRIGGERS:
        shown.add("tier")
    if trigger is TriggerType.NEW_TIP:
        shown |= {"tip", "keywords"}
    return shown


class AutomationForm(ModalScreen[AutomatedMessage | None]):
    """Create (or replace) one automated message; ctrl+s saves, Esc cancels."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="automation.save", tooltip="Check and create"),
        Binding(
            "escape", "cancel", "Cancel", id="automation.cancel", tooltip="Close, send nothing"
        ),
    ]

    def __init__(
        self,
        source: ConsoleSource,
        account_id: str,
        replacing: AutomatedMessage | None = None,
        existing: Sequence[AutomatedMessage] = (),
    ) -> None:
        super().__init__()
        self.source = source
        self.account_id = account_id
        self.replacing = replacing
        #: The account's rules, to warn before a second one for the same trigger.
        self.existing = list(existing)
        #: Requests sent from this form (the tests check that invalid rules send none).
        self.requests = 0

    def compose(self) -> ComposeResult:
        rule = self.replacing
        title = "Replace automated message" if rule else "New automated message"
        with VerticalScroll(id="automation-form"):
            yield Static(Content.styled(title, "bold"), id="form-title")
            if rule is not None:
                yield Static(
                    Content.styled(
                        "The gateway cannot edit a rule: saving creates this one and then "
                        "deletes the old one.",
                        "$text-warning",
                    ),
                    id="form-replace-note",
                )
            trigger = rule.trigger_type if rule else TriggerType.NEW_SUBSCRIBER
            yield from self._row(
                "trigger",
                "When",
                Select(
                    [(label, t.value) for t, label in TRIGGER_LABELS.items()],
                    value=trigger.value,
                    allow_blank=False,
                    id="field-trigger",
                ),
            )
            content = TextArea(
                rule.content if rule else "",
                soft_wrap=True,
                tab_behavior="focus",
                id="field-content",
            )
            yield from self._row("content", "Message", content)
            delay = duration_text(rule.delay_seconds) if rule else "0"
            yield from self._text(
                "delay", "Delay", delay, "0, 90s, 5m, 2h, 1d", hint=duration_hint(delay)
            )
            cooldown = duration_text(rule.cooldown_seconds) if rule else "0"
            yield from self._text(
                "cooldown",
                "Cooldown",
                cooldown,
                "gap before the same fan gets it again",
                hint=duration_hint(cooldown),
            )
            streak = str(rule.subscription_streak) if rule and rule.subscription_streak else "1"
            yield from self._text("streak", "Streak", streak, "renewals in a row, at least 1")
            tip = f"{rule.tip_amount_dollars:.2f}" if rule and rule.tip_amount_dollars else ""
            yield from self._text(
                "tip", "Min tip $", tip, "1–500, empty: any tip", hint="US dollars, to the cent"
            )
            keywords = ", ".join(rule.keywords) if rule else ""
            yield from self._text("keywords", "Keywords", keywords, "comma separated, optional")
            tier = rule.subscription_tier_id or "" if rule else ""
            yield from self._text("tier", "Tier id", tier, "empty: every tier")
            yield Static(id="form-warning")
            yield Static(id="form-error")
            yield Static(
                Content.styled("tab moves · ctrl+s saves · esc cancels", "$text-muted"),
                id="form-help",
            )

    def _row(self, name: str, label: str, widget: Any, hint: str | None = None) -> ComposeResult:
        with Vertical(classes="form-field", id=f"row-{name}"):
            with Horizontal(classes="form-line"):
                yield Static(Content(label), classes="form-label")
                yield widget
            if hint is not None:
                yield Static(
                    Content.styled(hint, "$text-muted"),
                    classes="form-field-hint",
                    id=f"hint-{name}",
                )
            yield Static(classes="form-field-error", id=f"error-{name}")

    def _text(
        self, name: str, label: str, value: str, placeholder: str, hint: str | None = None
    ) -> ComposeResult:
        yield from self._row(
            name,
            label,
            Input(value=value, placeholder=placeholder, compact=True, id=f"field-{name}"),
            hint,
        )

    @on(Input.Changed, "#field-delay, #field-cooldown")
    def _duration_typed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("field-")
        self.query_one(f"#hint-{name}", Static).update(
            Content.styled(duration_hint(event.value), "$text-muted")
        )

    def on_mount(self) -> None:
        self._show_fields()
        self.query_one("#field-content").focus()

    @property
    def trigger(self) -> TriggerType:
        return TriggerType(str(self.query_one("#field-trigger", Select).value))

    @on(Select.Changed, "#field-trigger")
    def _show_fields(self) -> None:
        shown = fields_for(self.trigger) | {"trigger"}
        for row in self.query(".form-field"):
            row.display = (row.id or "").removeprefix("row-") in shown
        self._warn_if_taken()

    def _warn_if_taken(self) -> None:
        """Said as soon as the trigger is chosen: the provider sends every rule that matches,
        so a second welcome means two welcomes. Saving stays possible (a second tip rule
        with other keywords may be meant)."""
        trigger = self.trigger
        replaced = self.replacing.id if self.replacing is not None else None
        taken = [r for r in self.existing if r.trigger_type is trigger and r.id != replaced]
        warning = Content("")
        if taken and trigger is not TriggerType.DISABLED:
            label = TRIGGER_LABELS.get(trigger, trigger.value)
            count = "a rule" if len(taken) == 1 else f"{len(taken)} rules"
            warning = Content.styled(
                f"⚠ This account already has {count} for “{label}”: a fan would get each of "
                "them. To change it, replace it instead (e in the list).",
                "$text-warning",
            )
        self.query_one("#form-warning", Static).update(warning)

    def _value(self, name: str) -> str:
        if name == "content":
            return self.query_one("#field-content", TextArea).text
        return self.query_one(f"#field-{name}", Input).value

    def _clear_errors(self) -> None:
        for error in self.query(".form-field-error"):
            assert isinstance(error, Static)
            error.update(Content(""))
        self.query_one("#form-error", Static).update(Content(""))

    def show_error(self, field: str | None, text: str) -> None:
        """Put an error next to its field (or under the form), as plain text."""
        shown = fields_for(self.trigger) | {"trigger"}
        target = f"#error-{field}" if field in shown else "#form-error"
        self.query_one(target, Static).update(
            plain("✗ " + clean(text, one_line=True), style="$text-error")
        )

    def build_rule(self) -> AutomatedMessage | None:
        """The rule as typed, or ``None`` after showing every problem next to its field."""
        self._clear_errors()
        trigger = self.trigger
        shown = fields_for(trigger)
        values: dict[str, Any] = {"trigger_type": trigger, "content": self._value("content")}
        problems: list[tuple[str | None, str]] = []
        for name, key in (("delay", "delay_seconds"), ("cooldown", "cooldown_seconds")):
            try:
                values[key] = parse_duration(self._value(name))
            except ValueError as exc:
                problems.append((name, str(exc)))
        if "streak" in shown:
            text = self._value("streak").strip()
            if not text.isdigit() or int(text) < 1:
                problems.append(("streak", "a whole number of renewals, at least 1"))
            else:
                values["subscription_streak"] = int(text)
        if "tip" in shown and self._value("tip").strip():
            try:
                values["tip_amount_dollars"] = parse_tip(self._value("tip"))
            except ValueError as exc:
                problems.append(("tip", str(exc)))
        if "keywords" in shown:
            values["keywords"] = self._value("keywords")
        if "tier" in shown and self._value("tier").strip():
            values["subscription_tier_id"] = self._value("tier").strip()
        if not problems:
            try:
                return AutomatedMessage(**values)
            except ValidationError as exc:
                for error in exc.errors():
                    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
                    loc = " ".join(str(part) for part in error.get("loc", ()))
                    problems.append((field_of(loc) or field_of(message), message))
        for field, message in problems:
            self.show_error(field, message)
        return None

    def action_save(self) -> None:
        rule = self.build_rule()
        if rule is not None:
            self._create(rule)

    @work(group="automation-save", exclusive=True, exit_on_error=False)
    async def _create(self, rule: AutomatedMessage) -> None:
        self.query_one("#form-error", Static).update(Content.styled("Saving…", "$text-muted"))
        self.requests += 1
        try:
            created = await self.source.create_automation(self.account_id, rule)
        except InvalidRequestError as exc:
            # The provider's own words, next to the field they name.
            self.query_one("#form-error", Static).update(Content(""))
            self.show_error(field_of(exc.message), f"Fansly refused: {exc.message or exc}")
            return
        except ApiError as exc:
            self.show_error(None, str(exc))
            return
        if self.replacing is not None and self.replacing.id:
            try:
                await self.source.delete_automation(self.account_id, self.replacing.id)
            except ApiError as exc:
                self.app.notify(
                    clean(f"The new rule is saved, but the old one was not deleted: {exc}"),
                    severity="warning",
                    markup=False,
                )
        self.dismiss(created)

    def action_cancel(self) -> None:
        self.dismiss(None)
