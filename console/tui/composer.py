"""The composer: a multi-line ``TextArea`` where Enter sends and ctrl+j starts a new line.

A reply goes to the chat the composer is bound to (:class:`ReplyTarget`), never to whatever
row the chat list's cursor is on: the list reorders as messages arrive, the binding does not.
The composer's header names the target (fan, @username, account), and the send carries the
same target the header shows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import events
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import TextArea

from console.tui.text import clean, plain

if TYPE_CHECKING:
    from console.guard import Guard, GuardHit
    from console.tui.vault_picker import MediaChoice

TYPING_INTERVAL = 3.0


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """The chat a reply goes to, and how the header names it."""

    account_id: str
    chat_id: str
    fan_name: str
    fan_username: str = ""
    account_name: str = ""

    def header(self) -> Content:
        # One piece of plain text: a border title drops the spaces at the edges of its parts.
        name = clean(self.fan_name, one_line=True) or "@" + clean(self.fan_username, one_line=True)
        text = f"To {name}"
        if self.fan_username:
            text += f" @{clean(self.fan_username, one_line=True)}"
        if self.account_name:
            text += f" · {clean(self.account_name, one_line=True)}"
        return plain(text)


class Composer(TextArea):
    """Write a reply. Enter sends; ctrl+j (or shift+enter where the terminal tells) is a newline."""

    BINDINGS = [
        Binding("enter", "send", "Send", id="composer.send", tooltip="Send the message"),
        Binding(
            "ctrl+j,shift+enter",
            "newline",
            "New line",
            id="composer.newline",
            tooltip="Start a new line in the message (ctrl+j)",
        ),
        Binding(
            "escape",
            "leave",
            "Cancel reply-to / leave",
            id="composer.leave",
            tooltip="Cancel the reply-to, or go back to the chat list",
        ),
    ]

    COMPONENT_CLASSES = {"composer--guard"}

    DEFAULT_CSS = """
    Composer > .composer--guard { background: $error 60%; text-style: bold underline; }
    """

    @dataclass(eq=False)
    class Submitted(Message):
        composer: Composer
        text: str
        #: The chat named in the header when Enter was pressed.
        target: ReplyTarget
        #: Vault media attached from the picker (a PPV when it has a price).
        media: MediaChoice | None = None

    class Typing(Message):
        """The chatter typed; sent at most once per ``TYPING_INTERVAL`` seconds."""

    class Left(Message):
        """Escape was pressed."""

    @dataclass(eq=False)
    class Refused(Message):
        reason: str

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, id: str | None = None
    ) -> None:
        super().__init__(id=id, soft_wrap=True, show_line_numbers=False, tab_behavior="focus")
        self.clock = clock
        self._last_typing: float | None = None
        self._quiet = False  # loading a draft is not typing
        #: The chat this composer writes to (None: no chat open, nothing can be sent).
        self.target: ReplyTarget | None = None
        #: Vault media attached from the picker, sent with the text (cleared by a new chat).
        self.media: MediaChoice | None = None
        #: The target account's guard (console/guard.py), and what it finds in the text now.
        self.guard: Guard | None = None
        self.guard_hits: list[GuardHit] = []

    def _keys_for(self, binding_id: str, default: str) -> set[str]:
        keymap = getattr(self.app, "_keymap", {}) or {}
        keys = keymap.get(binding_id, default)
        return {key.strip() for key in keys.split(",") if key.strip()}

    async def _on_key(self, event: events.Key) -> None:
        # Handled here, in the widget's own queue, not as (priority) bindings: a binding runs
        # when the app sees the key, which can be before the widget has inserted the
        # characters typed just before it (a fast typist, a paste over SSH) and would send
        # half a message.
        if event.key in self._keys_for("composer.send", "enter"):
            event.stop()
            event.prevent_default()
            self.action_send()
            return
        if event.key in self._keys_for("composer.newline", "ctrl+j,shift+enter"):
            event.stop()
            event.prevent_default()
            self.action_newline()
            return
        await super()._on_key(event)

    def bind(self, target: ReplyTarget | None, draft: str) -> None:
        """Write to ``target`` from now on, starting from its ``draft``; in one step, so the
        text on screen always belongs to the chat the header names."""
        self.target = target
        self.attach(None)
        self.load_draft(draft)

    def attach(self, media: MediaChoice | None) -> None:
        """Media to send with the text (``None`` or nothing ticked: none); the border says."""
        self.media = media if media is not None and media.media_ids else None
        self._show_subtitle()

    def _show_subtitle(self) -> None:
        """The border's title: the target, then a guard warning or the attached media (the
        composer has a top border only)."""
        if self.target is None:
            self.border_title = None
            return
        # One piece of text, styled in place: a border title drops the spaces at the edges of
        # its parts.
        header = self.target.header()
        extra, style = "", ""
        if self.guard_hits:
            first = self.guard_hits[0]
            extra = clean(f"⚠ guard: {first.what} · Enter will not send", one_line=True)[:80]
            style = "bold $text-error"
        elif self.media is not None:
            extra = clean(self.media.summary() + " (ctrl+g changes)", one_line=True)
            style = "bold $text-accent"
        if not extra:
            self.border_title = header
            return
        start = len(header.plain) + 3
        title = Content(header.plain + " · " + extra)
        self.border_title = title.stylize(style, start, start + len(extra))

    def set_guard(self, guard: Guard | None) -> None:
        """The rules of the account written to (``None`` or empty: nothing is refused)."""
        self.guard = guard if guard is not None and not guard.empty else None
        self._check_guard()

    def _check_guard(self) -> None:
        hits = self.guard.check(self.text) if self.guard is not None else []
        if hits == self.guard_hits:
            return
        self.guard_hits = hits
        self._build_highlight_map()
        self.refresh()
        self._show_subtitle()

    def _build_highlight_map(self) -> None:
        super()._build_highlight_map()
        hits = getattr(self, "guard_hits", None)
        if not hits:
            return
        # The hits are shown as highlights, which TextArea places in UTF-8 byte columns.
        self._theme.syntax_styles["guard.hit"] = self.get_component_rich_style("composer--guard")
        lines = self.text.split("\n")
        starts = [0]
        for line in lines:
            starts.append(starts[-1] + len(line) + 1)
        for hit in hits:
            for row, line in enumerate(lines):
                begin, end = max(hit.start, starts[row]), min(hit.end, starts[row] + len(line))
                if begin >= end:
                    continue
                col_a = len(line[: begin - starts[row]].encode())
                col_b = len(line[: end - starts[row]].encode())
                self._highlights[row].append((col_a, col_b, "guard.hit"))

    def load_draft(self, text: str) -> None:
        self._quiet = text != self.text
        self.load_text(text)
        self.move_cursor(self.document.end)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._check_guard()
        if self._quiet:
            self._quiet = False
            return
        if not self.text.strip():
            return
        now = self.clock()
        if self._last_typing is None or now - self._last_typing >= TYPING_INTERVAL:
            self._last_typing = now
            self.post_message(self.Typing())

    def action_send(self) -> None:
        from console.api.models import MAX_MESSAGE_LENGTH  # pydantic: not before the first paint

        text = self.text.strip("\n")
        if self.target is None:
            self.post_message(self.Refused("Open a chat first."))
            return
        if not text.strip():
            reason = "Nothing to send: the message is empty."
            if self.media is not None:
                reason = "Write a few words to go with the media (the gateway needs a text)."
            self.post_message(self.Refused(reason))
            return
        hits = self.guard.check(text) if self.guard is not None else []
        if hits:
            from console.guard import refusal

            self.app.bell()
            self.post_message(self.Refused(refusal(hits, text)))
            return
        if len(text) > MAX_MESSAGE_LENGTH:
            self.post_message(
                self.Refused(
                    f"Not sent: the message has {len(text):,} characters; "
                    f"the limit is {MAX_MESSAGE_LENGTH:,}."
                )
            )
            return
        self.post_message(self.Submitted(self, text, self.target, self.media))

    def clear_sent(self) -> None:
        self._quiet = bool(self.text)
        self.clear()
        self._last_typing = None
        self.attach(None)

    def action_newline(self) -> None:
        self.insert("\n")

    def action_leave(self) -> None:
        self.post_message(self.Left())
