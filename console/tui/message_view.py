"""One message of the thread as a widget, and the markers between messages (the day, "new").

A message shows who and when, the quoted message, the text (folded past ``FOLD_CHARS`` or
``FOLD_LINES``), likes, pin, queued actions, its state and its media; everything a fan wrote
is plain text (``console.tui.text.plain``). :func:`message_widgets` turns a run of rows into
the widgets the thread mounts. The thread (``console.tui.thread``) holds them in its window.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from textual.content import Content
from textual.geometry import Size
from textual.widgets import Static

from console.tui.source import MessageRow, MessageState
from console.tui.text import clean, money_text, plain
from console.tui.zone import hhmm, local_day

if TYPE_CHECKING:  # a pydantic model: the first paint needs none
    from console.api.models import Attachment

#: A message longer than this (characters or lines) shows folded; ``x`` unfolds it. A 1 MB
#: message (the webhook cap allows it) took 1.65 s to lay out and paint in full, every time
#: its chat opened; folded, it costs what a short one does.
FOLD_CHARS = 2_000
FOLD_LINES = 20
#: Unfolded, a message shows at most this much (~a thousand lines); the rest is said, not shown.
UNFOLDED_CHARS = 50_000
_LIKE_GLYPHS = {1: "♥", 2: "😂", 3: "😮", 4: "😢", 5: "🔥", 6: "👍", 7: "👎"}


class _Block(Static):
    """A widget of the thread that does not scroll: its virtual size is its size."""

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        # Textual keeps the virtual size as a reactive that asks for a layout of the whole
        # screen when it changes: every new block sized by the layout that placed it asked
        # for a second one at once (~8 ms for a chat of 30 messages). A block that does not
        # scroll has no use for it; a change of its size repaints it all the same.
        return super()._size_updated(size, virtual_size, container_size, layout=False)


class DateSeparator(_Block):
    def __init__(self, day: str) -> None:
        super().__init__(Content(f"── {day} ──"), classes="date-separator")
        self.day = day


class NewMarker(_Block):
    def __init__(self) -> None:
        super().__init__(Content("── new ──"), classes="new-marker")


class MessageView(_Block):
    """One message: who and when, the quoted message, the text, likes, pin and state."""

    def __init__(self, row: MessageRow, sender_name: str, *, online: bool = True) -> None:
        self.row = row
        self.sender_name = sender_name
        #: Whether the gateway can be reached: a pending message is "sending", or waits.
        self.online = online
        #: Shown in full (``x``); long messages start folded.
        self.unfolded = False
        # The classes and the content are given here, not set after: on a widget not yet
        # mounted each ``set_class`` re-matches the whole stylesheet (~5 ms per message, 30
        # per chat), and ``update`` asks for a second layout of the screen once it is mounted.
        # (The fields ``_content`` reads are plain attributes: set before Textual's ones.)
        super().__init__(self._content(), classes=" ".join(["message", *self._state_classes(row)]))

    @staticmethod
    def _state_classes(row: MessageRow) -> list[str]:
        return [
            name
            for name, on in (
                ("-own", row.from_creator),
                ("-fan", not row.from_creator),
                ("-pending", row.state is MessageState.PENDING),
                ("-failed", row.state is MessageState.FAILED),
                ("-unsent", row.state is MessageState.UNSENT),
                ("-pinned", row.pinned),
            )
            if on
        ]

    @property
    def long(self) -> bool:
        return _fold_at(self.row.text) is not None

    def toggle_fold(self) -> bool:
        """Fold or unfold a long message; ``False`` when it is short (nothing to do)."""
        if not self.long:
            return False
        self.unfolded = not self.unfolded
        self._apply()
        return True

    @property
    def message_id(self) -> str:
        return self.row.key

    def update_row(self, row: MessageRow) -> None:
        self.row = row
        self._apply()

    def _apply(self) -> None:
        wanted = set(self._state_classes(self.row))
        for name in ("-own", "-fan", "-pending", "-failed", "-unsent", "-pinned"):
            if (name in wanted) != self.has_class(name):
                self.set_class(name in wanted, name)
        self.update(self._content())

    def _content(self) -> Content:
        row = self.row
        who = "You" if row.from_creator else self.sender_name
        head = [
            plain(who, one_line=True, style="bold"),
            Content(f"  {hhmm(row.created_at)}"),
        ]
        if row.pinned:
            head.append(Content.styled("  📌 pinned", "$text-warning"))
        if row.likes:
            glyphs = "".join(sorted({_LIKE_GLYPHS.get(lk.type, "♥") for lk in row.likes}))
            mine = " (you)" if row.liked_by_creator else ""
            head.append(Content(f"  {glyphs} {len(row.likes)}{mine}"))
        if row.queued:
            head.append(Content.styled(f"  ⧗ {', '.join(row.queued)} queued", "$text-muted"))
        if row.state is MessageState.PENDING:
            waiting = "sending" if self.online else "queued until online"
            head.append(Content.styled(f"  ⧗ {waiting}", "$text-muted"))
        elif row.state is MessageState.FAILED:
            head.append(Content.styled("  ✗ failed: ", "$text-error"))
            head.append(plain(row.error or "not sent", one_line=True, style="$text-error"))
            head.append(Content.styled("  (e: retry)", "$text-muted"))
        elif row.state is MessageState.UNSENT:
            head.append(Content.styled("  ⊘ unsent", "$text-muted"))
        parts = [Content.assemble(*head)]
        if row.reply_to_id:
            quoted = row.reply_to_text if row.reply_to_text is not None else "(earlier message)"
            parts.append(
                plain("▏" + clean(quoted[:600], one_line=True)[:120], style="italic $text-muted")
            )
        if row.tip_millis:
            parts.append(
                Content.styled(f"💵 tip {money_text(row.tip_millis)}", "bold $text-success")
            )
        text = row.text
        cut = _fold_at(text)
        if cut is None:
            parts.append(plain(text))
        else:
            # Only the part shown is cleaned and laid out: the cost is the fold's, not the
            # message's.
            shown = min(len(text), UNFOLDED_CHARS) if self.unfolded else cut
            parts.append(plain(text[:shown]))
            rest = len(text) - shown
            if self.unfolded and rest:
                note = f"… {rest:,} more characters not shown (x folds)"
            elif self.unfolded:
                note = "x folds the message"
            else:
                note = f"… folded: {len(text):,} characters in all (x shows more)"
            parts.append(Content.styled(note, "italic $text-muted"))
        if row.attachments:
            parts.extend(media_lines(row.attachments, row.state))
        return Content("\n").join(parts)


#: Items listed one per line; past this, "+N more".
MEDIA_SHOWN = 4


def media_lines(attachments: list[Attachment], state: MessageState) -> list[Content]:
    """A message's media, one line each ("📷 photo · 'beach set 3'"), then for a PPV its price
    and state: not bought yet, or bought (with when, if a sale said so)."""
    lines = [plain(a.label, one_line=True, style="$text-muted") for a in attachments[:MEDIA_SHOWN]]
    if len(attachments) > MEDIA_SHOWN:
        lines.append(Content.styled(f"+{len(attachments) - MEDIA_SHOWN} more", "$text-muted"))
    price = next((a.price_millis for a in attachments if a.price_millis), None)
    if price is None:
        return lines
    head = f"💰 PPV {money_text(price)}"
    bought = [a for a in attachments if a.bought]
    if bought:
        when = min((a.bought_at_ms for a in bought if a.bought_at_ms), default=None)
        at = ""
        if when is not None:
            moment = datetime.fromtimestamp(when / 1000, tz=UTC)
            at = f" {local_day(moment):%d %b} {hhmm(moment)}"
        lines.append(Content.styled(f"{head} · ✔ bought{at}", "bold $text-success"))
    elif state is MessageState.SENT:
        lines.append(Content.styled(f"{head} · sent, not bought yet", "$text-warning"))
    else:
        lines.append(Content.styled(head, "$text-warning"))
    return lines


def _fold_at(text: str) -> int | None:
    """Where a long message is folded (``None``: it is short enough to show in full)."""
    if len(text) <= FOLD_CHARS and text.count("\n", 0, FOLD_CHARS) < FOLD_LINES:
        return None
    cut = min(len(text), FOLD_CHARS)
    newline = -1
    for _ in range(FOLD_LINES):
        newline = text.find("\n", newline + 1, cut)
        if newline < 0:
            break
    else:
        cut = newline
    return cut if cut < len(text) else None


def message_widgets(
    rows: list[MessageRow],
    previous: MessageRow | None,
    sender_name: str,
    *,
    online: bool,
    new_from: str | None = None,
) -> list[Static]:
    """The widgets of ``rows`` (following ``previous``): a date separator where the day
    changes, the "new" marker above the message ``new_from`` if it is among them."""
    widgets: list[Static] = []
    last_day = local_day(previous.created_at) if previous else None
    for row in rows:
        day = local_day(row.created_at)
        if day != last_day:
            widgets.append(DateSeparator(f"{day:%a %d %b %Y}"))
            last_day = day
        if new_from is not None and row.key == new_from:
            widgets.append(NewMarker())
        widgets.append(MessageView(row, sender_name, online=online))
    return widgets
