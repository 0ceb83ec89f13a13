"""The automated messages of one account (key ``a``): list, create, replace, delete.

The list shows the cached rules at once (so it works offline) and then the gateway's. The
provider has no update route, so "edit" is a delete + recreate and the screen says so.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from console.api.errors import ApiError
from console.api.models import AutomatedMessage
from console.tui.automation_form import (
    TRIGGER_LABELS,
    AutomationForm,
    dollars_text,
    duration_text,
)
from console.tui.confirm import YesNo
from console.tui.footer import ConsoleFooter
from console.tui.source import ConsoleSource
from console.tui.text import clean, plain

EDIT_NOTE = (
    "The gateway cannot change a rule in place: e replaces it (the new one is created, then "
    "the old one deleted)."
)


def rule_content(rule: AutomatedMessage) -> Content:
    """Two lines: the trigger with its settings, then the message (plain text)."""
    details = [f"delay {duration_text(rule.delay_seconds)}"]
    if rule.cooldown_seconds:
        details.append(f"cooldown {duration_text(rule.cooldown_seconds)}")
    if rule.subscription_streak:
        details.append(f"streak {rule.subscription_streak}")
    if rule.tip_amount_dollars:
        details.append(f"tips from {dollars_text(rule.tip_amount_dollars)}")
    if rule.subscription_tier_id:
        details.append(f"tier {clean(rule.subscription_tier_id, one_line=True)}")
    head = Content.assemble(
        Content.styled(TRIGGER_LABELS.get(rule.trigger_type, rule.trigger_type.value), "bold"),
        Content.styled("  " + " · ".join(details), "$text-muted"),
    )
    if rule.keywords:
        words = ", ".join(clean(w, one_line=True) for w in rule.keywords)
        head = Content.assemble(head, Content.styled(" · keywords: ", "$text-muted"), plain(words))
    text = clean(rule.content, one_line=True)
    return Content("\n").join([head, plain("  " + (text[:160] + ("…" if len(text) > 160 else "")))])


class ConfirmDelete(YesNo):
    """Delete this rule? y / n."""

    BINDINGS = [
        Binding("y", "answer(True)", "Delete", id="confirm.yes", tooltip="Delete the rule"),
        Binding("n,escape", "answer(False)", "Keep", id="confirm.no", tooltip="Keep the rule"),
    ]

    def __init__(self, rule: AutomatedMessage) -> None:
        super().__init__()
        self.rule = rule

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(Content.styled("Delete this automated message?", "bold"))
            yield Static(rule_content(self.rule))
            yield from YesNo.buttons("Delete")


class AutomationsScreen(Screen[None]):
    """One account's automation rules."""

    BINDINGS = [
        Binding("c,plus", "create", "New", id="automations.new", tooltip="Create a rule"),
        Binding("e", "edit", "Replace", id="automations.edit", tooltip="Replace the selected rule"),
        Binding("d,delete", "delete", "Delete", id="automations.delete", tooltip="Delete the rule"),
        Binding("g", "refresh", "Refresh", id="automations.refresh", tooltip="Ask the gateway"),
        Binding("escape,a", "close", "Back", id="automations.close", tooltip="Back to chats"),
    ]

    def __init__(self, source: ConsoleSource, account_id: str, account_name: str) -> None:
        super().__init__()
        self.source = source
        self.account_id = account_id
        self.account_name = account_name
        self.rules: list[AutomatedMessage] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="automations"):
            yield Static(
                Content.assemble(
                    Content.styled("Automated messages · ", "bold"),
                    plain(self.account_name, one_line=True, style="bold"),
                ),
                id="automations-title",
            )
            yield Static(Content.styled(EDIT_NOTE, "$text-muted"), id="automations-note")
            yield Static(id="automations-state")
            yield OptionList(id="automations-list")
        yield ConsoleFooter()  # F1 Help first, as on the chats screen

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self._load(refresh=True)

    @work(group="automations", exclusive=True, exit_on_error=False)
    async def _load(self, refresh: bool) -> None:
        self._show(await self.source.automations(self.account_id), "from the cache")
        if not refresh:
            return
        self._state("Asking the gateway…", "$text-muted")
        try:
            rules = await self.source.refresh_automations(self.account_id)
        except ApiError as exc:
            self._state(f"Showing the cached rules: {exc}", "$text-warning")
            return
        self._show(rules, "")

    def _state(self, text: str, style: str) -> None:
        self.query_one("#automations-state", Static).update(
            plain(clean(text, one_line=True), style=style)
        )

    def _show(self, rules: list[AutomatedMessage], where: str) -> None:
        options = self.query_one(OptionList)
        keep = options.highlighted
        self.rules = rules
        options.clear_options()
        options.add_options([Option(rule_content(rule)) for rule in rules])
        if rules:
            options.highlighted = min(keep or 0, len(rules) - 1)
        count = f"{len(rules)} rule{'s' if len(rules) != 1 else ''}"
        if not rules:
            count = "No rules yet: c creates one (a welcome for new subscribers, say)."
        self._state(f"{count}{' · ' + where if where else ''}", "$text-muted")

    @property
    def selected(self) -> AutomatedMessage | None:
        index = self.query_one(OptionList).highlighted
        return self.rules[index] if index is not None and index < len(self.rules) else None

    def action_create(self) -> None:
        self.app.push_screen(
            AutomationForm(self.source, self.account_id, existing=self.rules), self._saved
        )

    def action_edit(self) -> None:
        rule = self.selected
        if rule is not None:
            self.app.push_screen(
                AutomationForm(self.source, self.account_id, rule, existing=self.rules),
                self._saved,
            )

    def _saved(self, rule: AutomatedMessage | None) -> None:
        if rule is not None:
            self.app.notify("Automated message saved.", markup=False)
            self._load(refresh=True)

    def action_delete(self) -> None:
        rule = self.selected
        if rule is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._delete(rule)

        self.app.push_screen(ConfirmDelete(rule), answered)

    @work(group="automations-delete", exit_on_error=False)
    async def _delete(self, rule: AutomatedMessage) -> None:
        if not rule.id:
            return
        try:
            await self.source.delete_automation(self.account_id, rule.id)
        except ApiError as exc:
            self.app.notify(clean(f"Not deleted: {exc}"), severity="error", markup=False)
            return
        self.app.notify("Automated message deleted.", markup=False)
        self._load(refresh=True)

    def action_refresh(self) -> None:
        self._load(refresh=True)

    def action_close(self) -> None:
        self.dismiss(None)
