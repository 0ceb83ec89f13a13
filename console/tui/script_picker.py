"""The script picker (``ctrl+t`` in a chat): saved replies, filled in for this fan.

A fuzzy filter over the scripts' names and texts; the highlighted script is shown filled in
below the list (the fan's values in bold), with any unknown placeholder named before it is
inserted (it is left out of the text, never sent as braces). Enter inserts the text at the
composer's cursor, and attaches the script's media (a PPV when it has a price); the chatter
then edits and sends as usual: a script is never sent by itself. ``ctrl+s`` saves what is in
the composer as a new script of this account (``scripts/<account id>.toml``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.segment import Segment
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from console.scripts import (
    Filled,
    Script,
    ScriptsError,
    account_file,
    fill,
    load_scripts,
    save_script,
)
from console.tui.fuzzy import FuzzyIndex
from console.tui.key_order import caught_up
from console.tui.pick_list import PickList
from console.tui.text import ago, clean, money_text, plain, utcnow

if TYPE_CHECKING:
    from console.tui.source import ConsoleSource, FanCard
    from console.tui.vault_picker import MediaChoice


@dataclass(frozen=True, slots=True)
class ScriptChoice:
    text: str
    media: MediaChoice | None = None


def fan_values(card: FanCard | None, account_name: str) -> dict[str, str]:
    """The placeholders' values for one fan, from the cache."""
    values = {"account": account_name}
    if card is None:
        return values
    fan = card.fan
    values["name"] = fan.display_name or fan.username
    values["username"] = fan.username
    sub = fan.subscription
    values["tier"] = (sub.tier_name or "") if sub is not None else ""
    values["spend"] = money_text(fan.lifetime_spend_millis) if fan.lifetime_spend_millis else ""
    if card.purchases and card.purchases[0].title:
        values["last_purchase"] = card.purchases[0].title
    elif fan.last_purchase_at is not None:
        when = ago(fan.last_purchase_at, utcnow())
        when = "just now" if when == "now" else f"{when} ago"
        values["last_purchase"] = f"the {money_text(fan.last_purchase_millis)} unlock {when}"
    return values


class ScriptPicker(ModalScreen[ScriptChoice | None]):
    """Pick a script to insert into the composer."""

    DEFAULT_CSS = """
    ScriptPicker { align: center middle; }
    #scripts-box {
        width: 90%; height: 90%; border: round $accent; background: $surface; padding: 0 1;
    }
    #scripts-title { text-style: bold; }
    #scripts-filter { border: none; height: 1; padding: 0 1; }
    #scripts-list { height: 1fr; }
    #scripts-preview {
        height: auto; max-height: 8; border-top: hkey $panel; padding: 0 1;
    }
    #scripts-status, #scripts-help { color: $text-muted; }
    """

    BINDINGS: ClassVar = [
        Binding("escape", "cancel", "Close", id="scripts.close", tooltip="Close, insert nothing"),
        Binding("up", "move(-1)", "Up", show=False, priority=True, id="scripts.up"),
        Binding("down", "move(1)", "Down", show=False, priority=True, id="scripts.down"),
        Binding("pageup", "move(-10)", "Page up", show=False, priority=True, id="scripts.pgup"),
        Binding("pagedown", "move(10)", "Page down", show=False, priority=True, id="scripts.pgdn"),
        Binding(
            "enter",
            "insert",
            "Insert",
            priority=True,
            id="scripts.insert",
            tooltip="Insert the script into the message (edit it before sending)",
        ),
        Binding(
            "ctrl+s",
            "save",
            "Save draft",
            priority=True,
            id="scripts.save",
            tooltip="Save the message being written as a new script of this account",
        ),
    ]

    def __init__(
        self,
        source: ConsoleSource,
        account_id: str,
        chat_id: str,
        account_name: str,
        draft: str,
        config_dir: Path,
        scripts: list[Script] | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self.account_id = account_id
        self.chat_id = chat_id
        self.account_name = account_name
        self.draft = draft
        self.config_dir = config_dir
        self.scripts: list[Script] = scripts if scripts is not None else []
        self._given = scripts is not None
        self.values: dict[str, str] = {"account": account_name}
        self._index = FuzzyIndex([])
        self.problem = ""
        self._shown_query = ""  # the filter the list shows (the field may be ahead of it)

    def compose(self) -> ComposeResult:
        with Vertical(id="scripts-box"):
            yield Static(Content.styled("Scripts", "bold"), id="scripts-title")
            yield Input(placeholder="filter: type part of a name or a text…", id="scripts-filter")
            yield PickList(self._line, id="scripts-list")
            yield Static("", id="scripts-preview")
            yield Static("", id="scripts-status", markup=False)
            yield Static(
                "type to filter · enter inserts (then edit and send) · ctrl+s saves the message "
                "as a script · esc closes",
                id="scripts-help",
                markup=False,
            )

    def on_mount(self) -> None:
        self.query_one("#scripts-filter", Input).focus()
        if not self._given:
            try:
                self.scripts = load_scripts(self.config_dir, self.account_id)
            except ScriptsError as exc:
                self.problem = str(exc)
        self._index = FuzzyIndex([f"{s.name} {s.text}" for s in self.scripts])
        self._show()
        self._load_fan()

    @work(group="scripts", exclusive=True, exit_on_error=False)
    async def _load_fan(self) -> None:
        card = await self.source.fan_card(self.account_id, self.chat_id)
        self.values = fan_values(card, self.account_name)
        self._show_preview()

    # -- showing -------------------------------------------------------------------------

    def _show(self) -> None:
        self._shown_query = self.query_one("#scripts-filter", Input).value
        matches = self._index.filter(self._shown_query)
        self.query_one(PickList).show(self.scripts, matches)
        status = self.problem or f"{len(matches)} of {len(self.scripts)} scripts"
        if self.scripts and self.scripts[0].scope == "example":
            status += " · the example set (ctrl+s saves this account's first script)"
        self.query_one("#scripts-status", Static).update(clean(status, one_line=True))
        self._show_preview()

    def _line(self, script: Script, ticked: bool, width: int) -> list[Segment]:
        styles = self.query_one(PickList).line_styles
        tag = ""
        if script.media:
            price = f"${script.price_dollars:g}" if script.price_dollars is not None else "free"
            tag = f"  💰 {len(script.media)} media · {price}"
        scope = "  (this account)" if script.scope == "account" else ""
        name = clean(script.name, one_line=True)[:40]
        text = clean(script.text, one_line=True)
        from rich.cells import cell_len, set_cell_size

        room = max(0, width - cell_len(name) - cell_len(tag) - len(scope) - 3)
        text = set_cell_size(text, room)
        return [
            Segment(name, styles.get("good")),
            Segment(scope, styles.get("muted")),
            Segment(tag, styles.get("warn")),
            Segment(" · " + text, styles.get("muted")),
        ]

    def current(self) -> Script | None:
        index = self.query_one(PickList).current
        return self.scripts[index] if index is not None else None

    def filled(self) -> Filled | None:
        script = self.current()
        return fill(script.text, self.values) if script is not None else None

    def _show_preview(self) -> None:
        preview = self.query_one("#scripts-preview", Static)
        filled = self.filled()
        if filled is None:
            preview.update("")
            return
        body = plain(filled.text)
        for start, end in filled.spans:
            body = body.stylize("bold $text-accent", start, end)
        lines = [body]
        if filled.unknown:
            named = ", ".join(filled.unknown)
            lines.append(
                plain(f"⚠ not a placeholder, left out: {named}", one_line=True, style="$text-error")
            )
        if filled.missing:
            named = ", ".join("{" + m + "}" for m in filled.missing)
            lines.append(
                plain(f"no value for this fan: {named}", one_line=True, style="$text-warning")
            )
        preview.update(Content("\n").join(lines))

    # -- keys ------------------------------------------------------------------------------

    @on(Input.Changed, "#scripts-filter")
    def _filter_changed(self) -> None:
        if self.query_one("#scripts-filter", Input).value != self._shown_query:
            self._show()

    async def _caught_up(self) -> None:
        """The keys typed before the one being handled are in the filter, and the list is
        filtered by them (console/tui/key_order.py): "thanks⏎" inserts a thanks script."""
        await caught_up(self)
        self._filter_changed()

    async def action_move(self, step: int) -> None:
        await self._caught_up()
        self.query_one(PickList).move(step)
        self._show_preview()

    def action_cancel(self) -> None:
        self.dismiss(None)

    async def action_insert(self) -> None:
        await self._caught_up()
        script, filled = self.current(), self.filled()
        if script is None or filled is None:
            return
        self._insert(script, filled)

    @work(group="scripts-insert", exclusive=True, exit_on_error=False)
    async def _insert(self, script: Script, filled: Filled) -> None:
        media = None
        if script.media:
            from console.api.models import media_label
            from console.tui.vault_picker import MediaChoice

            _albums, items = await self.source.vault(self.account_id)
            known = {item.media_id: item for item in items}
            labels = tuple(
                media_label(known[m].kind, known[m].title, known[m].duration_s)
                if m in known
                else "📎 media"
                for m in script.media
            )
            media = MediaChoice(script.media, labels, script.price_dollars)
        self.dismiss(ScriptChoice(filled.text, media))

    def action_save(self) -> None:
        text = self.draft.strip()
        if not text:
            self.notify("Write the message first, then save it as a script.", markup=False)
            return
        name = " ".join(text.split()[:5])[:40]
        path = account_file(self.config_dir, self.account_id)
        try:
            save_script(path, Script(name, text, scope="account"))
        except OSError as exc:
            self.notify(clean(f"Not saved: {exc}", one_line=True), severity="error", markup=False)
            return
        self.notify(clean(f"Saved as “{name}” in {path}", one_line=True), markup=False)
        self.scripts = load_scripts(self.config_dir, self.account_id)
        self._index = FuzzyIndex([f"{s.name} {s.text}" for s in self.scripts])
        self._show()
