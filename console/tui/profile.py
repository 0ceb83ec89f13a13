"""The fan profile pane: who the fan is, what they spend, the lists they are on and the team's
private note (edited in place, kept in the cache, never sent to the API).

Everything here comes from the cache, so the pane works offline; the app asks the workspace
to refresh the fan in the background when a chat opens, and re-shows the card when the
``FanChanged`` update arrives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from console.tui.source import FanCard, ListChoice
from console.tui.text import ago, clean, money_text, plain, utcnow
from console.tui.tick_list import TickList
from console.tui.zone import local

if TYPE_CHECKING:
    from textual.widgets import Sparkline

    from console.tui.team_ui import SharedNote


def _ago(since: datetime, now: datetime) -> str:
    """``3h ago``; ``just now`` (not "now ago") within the minute."""
    text = ago(since, now)
    return "just now" if text == "now" else f"{text} ago"


#: Purchases listed on the profile (the newest; the count says how many in all).
PURCHASES_SHOWN = 5
#: Bars of the spend chart (one per equal slice of time from the first purchase to now).
SPEND_BARS = 24
MAX_NOTE_LENGTH = 4000
#: Shared notes shown in the pane (the newest; team mode).
SHARED_NOTES_SHOWN = 20


def spend_buckets(
    history: list[tuple[datetime, int]], now: datetime, bars: int = SPEND_BARS
) -> list[float]:
    """Spend summed into ``bars`` equal slices of time, oldest first (dollars)."""
    if len(history) < 2:
        return []
    start = min(at for at, _ in history)
    span = max((now - start).total_seconds(), 1.0)
    buckets = [0.0] * bars
    for at, amount in history:
        index = min(bars - 1, int((at - start).total_seconds() / span * bars))
        buckets[max(index, 0)] += amount / 1000
    return buckets


class NoteEditor(TextArea):
    """The team's note on the fan, edited in place; ctrl+s or Esc saves and leaves."""

    BINDINGS = [
        Binding(
            "ctrl+s,escape",
            "save",
            "Save note",
            id="note.save",
            tooltip="Save the note (kept on this machine, never sent to Fansly) and leave",
        ),
    ]

    @dataclass(eq=False)
    class Saved(Message):
        account_id: str
        fan_id: str
        text: str

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, soft_wrap=True, show_line_numbers=False, tab_behavior="focus")
        self.account_id = ""
        self.fan_id = ""

    def start(self, account_id: str, fan_id: str, text: str) -> None:
        self.account_id, self.fan_id = account_id, fan_id
        self.load_text(text)
        self.move_cursor(self.document.end)
        self.display = True
        self.screen.set_focus(self)  # at once: the note typed right after N lands here

    def action_save(self) -> None:
        if not self.display:
            return
        self.display = False
        text = self.text.strip()[:MAX_NOTE_LENGTH]
        self.post_message(self.Saved(self.account_id, self.fan_id, text))

    def _on_blur(self, event: events.Blur) -> None:
        # Clicking or tabbing away keeps what was typed: a note is never silently lost.
        self.action_save()


class FanProfile(VerticalScroll, can_focus=False):
    """Name, username, subscription, spend (with a chart), lists and the team's note."""

    def __init__(self, *, clock: Callable[[], datetime] = utcnow, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.card: FanCard | None = None
        # Mounted when first needed: the first screen shows no fan (a chart and a text editor
        # are ~5 ms of its first frame, and the chart's module is imported then).
        self._chart: Sparkline | None = None
        self._editor: NoteEditor | None = None
        #: Team mode: the notes are the team's shared ones (author and time each), and the
        #: editor adds one; solo mode keeps the local note.
        self.shared_notes = False
        self._shared: list[SharedNote] | None = None
        #: A note the team server did not take: (fan, text), offered at the next edit.
        self.unsent_note: tuple[str, str] | None = None
        self._shared_fan: str | None = None
        self._unreached = False

    def compose(self) -> ComposeResult:
        yield Static(id="profile-body")
        with Vertical(id="spend"):
            yield Static(id="spend-title")  # the chart goes under it
        yield Static(id="profile-lists")
        yield Static(id="note-title")
        yield Static(id="note-text")  # the note editor goes under it

    def on_mount(self) -> None:
        self.query_one("#spend").display = False

    @property
    def editing(self) -> bool:
        return self._editor is not None and bool(self._editor.display)

    async def edit_note(self) -> bool:
        """Open the note editor for the shown fan; ``False`` when no fan is shown."""
        card = self.card
        if card is None:
            return False
        self.query_one("#note-text").display = False
        if self._editor is None:
            self._editor = NoteEditor(id="note-editor")
            await self.mount(self._editor)  # mounted before the focus moves to it
        text = card.note
        if self.shared_notes:  # a new note for the team: the editor starts empty
            unsent, self.unsent_note = self.unsent_note, None
            text = unsent[1] if unsent is not None and unsent[0] == card.fan.id else ""
        self._editor.start(card.account_id, card.fan.id, text)
        self.scroll_end(animate=False)
        return True

    def show_shared(self, notes: list[SharedNote] | None) -> None:
        """Team mode: the fan's shared notes (None: the server could not be reached and none
        were fetched before)."""
        self._shared = notes if notes is not None else []
        self._unreached = notes is None
        if self.card is not None:
            self._show_note(self.card)

    def show(self, card: FanCard | None) -> None:
        editor = self._editor
        if self.editing and editor and (card is None or card.fan.id != editor.fan_id):
            editor.action_save()  # the chatter moved to another fan mid-note
        self.card = card
        body = self.query_one("#profile-body", Static)
        if card is None:
            body.update(Content("No chat open."))
            for selector in ("#profile-lists", "#note-title", "#note-text"):
                self.query_one(selector, Static).update(Content(""))
            self.query_one("#spend").display = False
            return
        body.update(self._body(card))
        self._show_spend(card)
        fan = card.fan
        lists = plain(", ".join(clean(x, one_line=True) for x in fan.lists) or "none", style="")
        self.query_one("#profile-lists", Static).update(
            Content.assemble(Content.styled("Lists ", "bold"), lists)
        )
        if self._shared is not None and self._shared_fan != fan.id:
            self._shared = None  # another fan's: theirs come from the server in a moment
            self._unreached = False
        self._shared_fan = fan.id
        self._show_note(card)

    def _show_note(self, card: FanCard) -> None:
        if self.shared_notes:
            self._show_shared(self._shared)
            return
        title = [Content.styled("Team note", "bold"), Content.styled(" (N)", "$text-muted")]
        if card.note_updated is not None:
            when = ago(card.note_updated, self.clock())
            title.append(
                Content.styled(
                    " · " + ("just now" if when == "now" else f"{when} ago"), "$text-muted"
                )
            )
        self.query_one("#note-title", Static).update(Content.assemble(*title))
        note = self.query_one("#note-text", Static)
        empty = Content.styled("— private to the team, never sent", "$text-muted")
        note.update(plain(card.note) if card.note else empty)
        note.display = not self.editing

    def _show_shared(self, notes: list[SharedNote] | None) -> None:
        count = f" ({len(notes)})" if notes else ""
        self.query_one("#note-title", Static).update(
            Content.assemble(
                Content.styled(f"Team notes{count}", "bold"),
                Content.styled(" (N adds one)", "$text-muted"),
            )
        )
        note = self.query_one("#note-text", Static)
        if notes is None:
            note.update(Content.styled("— asking the team server…", "$text-muted"))
        elif self._unreached:
            note.update(Content.styled("— the team server cannot be reached", "$text-muted"))
        elif not notes:
            note.update(
                Content.styled("— none yet; shared with the team, never sent", "$text-muted")
            )
        else:
            now, lines = self.clock(), []
            for item in notes[-SHARED_NOTES_SHOWN:]:
                when = f" · {_ago(item.at, now)}" if item.at is not None else ""
                lines.append(plain(f"{item.author}{when}", one_line=True, style="$text-muted"))
                lines.append(plain(item.text[:MAX_NOTE_LENGTH]))
            note.update(Content("\n").join(lines))
        note.display = not self.editing

    def _body(self, card: FanCard) -> Content:
        fan, now = card.fan, self.clock()
        lines: list[Content] = [
            plain(fan.name, one_line=True, style="bold"),
            plain("@" + clean(fan.username, one_line=True), style="$text-muted"),
            Content(""),
        ]
        sub = fan.subscription
        if sub is not None:
            tier = plain(sub.tier_name or "subscriber", one_line=True)
            status = sub.status.value if hasattr(sub.status, "value") else str(sub.status)
            lines.append(Content.assemble(Content("Tier: "), tier, Content(f" · {status}")))
            if status == "active":
                if not sub.auto_renew and sub.ends_at is not None:
                    lines.append(Content(f"Ends: {local(sub.ends_at):%d %b %Y}"))
                elif sub.renew_date is not None:
                    lines.append(Content(f"Renews: {local(sub.renew_date):%d %b %Y}"))
            elif sub.ends_at is not None:
                lines.append(Content(f"Ended: {local(sub.ends_at):%d %b %Y}"))
        else:
            lines.append(Content("Not subscribed"))
        lines.append(
            Content.assemble(
                Content("Lifetime spend: "),
                Content.styled(money_text(fan.lifetime_spend_millis), "bold $text-success"),
            )
        )
        lines.append(Content(f"Tips: {money_text(fan.tips_millis)}"))
        if fan.last_purchase_at is not None:
            lines.append(
                Content(
                    f"Last purchase: {money_text(fan.last_purchase_millis)}"
                    f" · {_ago(fan.last_purchase_at, now)}"
                )
            )
        if card.purchases:
            lines.append(Content.styled(f"Purchases ({len(card.purchases)})", "bold"))
            for bought in card.purchases[:PURCHASES_SHOWN]:
                from console.api.models import media_label

                label = media_label(bought.kind, bought.title, bought.duration_s)
                if bought.kind is None:
                    label = "📎 media"
                when = f" · {_ago(bought.bought_at, now)}" if bought.bought_at else ""
                lines.append(
                    plain(
                        f"{money_text(bought.price_millis)} {label}{when}",
                        one_line=True,
                    )
                )
        if card.muted:
            lines.append(Content.styled("Muted", "$text-warning"))
        return Content("\n").join(lines)

    def _show_spend(self, card: FanCard) -> None:
        data = spend_buckets(card.spend_history, self.clock())
        box = self.query_one("#spend")
        box.display = bool(data)
        if not data:
            return
        first = min(at for at, _ in card.spend_history)
        self.query_one("#spend-title", Static).update(
            Content.styled(f"Spend since {first:%b %Y}", "$text-muted")
        )
        if self._chart is None:
            from textual.widgets import Sparkline

            self._chart = Sparkline(data, summary_function=max, id="spend-chart")
            box.mount(self._chart)
        else:
            self._chart.data = data

    @on(NoteEditor.Saved)
    def _saved(self) -> None:
        self.query_one("#note-text").display = True


class ListPicker(ModalScreen[list[tuple[str, bool]] | None]):
    """Tick the lists the fan should be on; Enter applies the changes, Esc cancels."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="lists.cancel", tooltip="Close, change nothing"),
        # Not a priority key: Enter (the list's, as TickList.Submitted) and ctrl+s come after
        # the ticks typed before them (console/tui/key_order.py).
        Binding(
            "ctrl+s,enter",
            "apply",
            "Apply",
            id="lists.apply",
            tooltip="Put the fan on the ticked lists and off the others",
        ),
    ]

    def __init__(self, fan_name: str, choices: list[ListChoice]) -> None:
        super().__init__()
        self.fan_name = fan_name
        self.choices = choices

    def compose(self) -> ComposeResult:
        from textual.widgets.selection_list import Selection

        with Vertical(id="lists-box"):
            yield Static(
                Content.assemble(
                    Content.styled("Lists for ", "bold"), plain(self.fan_name, one_line=True)
                ),
                id="lists-title",
            )
            yield TickList(
                *[
                    Selection(plain(c.label, one_line=True), c.list_id, c.member)
                    for c in self.choices
                ],
                id="lists-choices",
            )
            yield Static(
                Content.styled("space ticks · enter applies · esc cancels", "$text-muted"),
                id="lists-help",
            )

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(TickList.Submitted)
    def _submitted(self) -> None:
        self.action_apply()

    def action_apply(self) -> None:
        from textual.widgets import SelectionList

        ticked = set(self.query_one(SelectionList).selected)
        changes = [
            (c.list_id, c.list_id in ticked)
            for c in self.choices
            if (c.list_id in ticked) != c.member
        ]
        self.dismiss(changes)
