"""Typed Textual messages: the only way background work reaches widgets.

The update bus says *what* changed; these carry that to the chats screen's message queue, and
the ones that only mean "re-read" replace a queued twin (``can_replace``) so a burst of webhook
deliveries costs one repaint, not hundreds.

Dataclasses, as toolong's messages are (Textual's ``Message`` initialises in
``__post_init__`` for them): the fields are the constructor. ``eq=False``: a message is one
event, two alike are not the same one (and stay hashable).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from console.changes import ConnectionChanged, OutboxChanged, SyncProgress

if TYPE_CHECKING:  # a pydantic model: the first paint needs none
    from console.events import Event


@dataclass(eq=False)
class ChatsStale(Message):
    """The chat list of an account needs re-reading."""

    account_id: str

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ChatsStale) and message.account_id == self.account_id


@dataclass(eq=False)
class UnreadStale(Message):
    """Unread badges need re-reading."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, UnreadStale)


@dataclass(eq=False)
class ThreadChanged(Message):
    """A message was added to, or changed in, a chat."""

    account_id: str
    chat_id: str
    message_id: str
    added: bool


@dataclass(eq=False)
class FanStale(Message):
    """A fan's card needs re-reading."""

    account_id: str
    fan_id: str

    def can_replace(self, message: Message) -> bool:
        return (
            isinstance(message, FanStale)
            and message.account_id == self.account_id
            and message.fan_id == self.fan_id
        )


@dataclass(eq=False)
class StatusChanged(Message):
    """Connection, sync progress or outbox counts changed."""

    update: ConnectionChanged | SyncProgress | OutboxChanged

    def can_replace(self, message: Message) -> bool:
        if not isinstance(message, StatusChanged):
            return False
        mine, theirs = self.update, message.update
        if type(mine) is not type(theirs):
            return False
        return getattr(mine, "account_id", None) == getattr(theirs, "account_id", None)


@dataclass(eq=False)
class HubChanged(Message):
    """The connection to the events hub (``--events``) changed."""

    state: ConnectionChanged

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, HubChanged)


@dataclass(eq=False)
class EventArrived(Message):
    """A webhook event was applied (tips raise a toast)."""

    event: Event


@dataclass(eq=False)
class ChatSelected(Message):
    """The chat list's cursor moved to a chat (``open``: Enter was pressed)."""

    account_id: str
    chat_id: str
    fan_id: str
    open: bool
