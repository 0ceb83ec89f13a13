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

    class Submitted(Message):
        def __init__(
            self,
            composer: Composer,
            text: str,
            target: ReplyTarget,
            media: MediaChoice | None = None,
        ) -> None:
            super().__init__()
            self.composer = composer
            self.text = text
            #: The chat named in the header when Enter was pressed.
            self.target = target
            #: Vault media attached from the picker (a PPV when it has a price).
            self.media = media

    class Typing(Message):
        """The chatter typed; sent at most once per ``TYPING_INTERVAL`` seconds."""

    class Left(Message):
        """Escape was pressed."""

    class Refused(Message):
        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

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
        self.border_title = target.header() if target is not None else None
        self.attach(None)
        self.load_draft(draft)

    def attach(self, media: MediaChoice | None) -> None:
        """Media to send with the text (``None`` or nothing ticked: none); the border says."""
        self.media = media if media is not None and media.media_ids else None
        self.border_subtitle = (
            plain(self.media.summary() + "  (ctrl+g changes)") if self.media else None
        )

    def load_draft(self, text: str) -> None:
        self._quiet = text != self.text
        self.load_text(text)
        self.move_cursor(self.document.end)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
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
