"""Typed Textual messages: the only way background work reaches widgets.

The update bus says *what* changed; these carry that to the app's message queue, and the ones
that only mean "re-read" replace a queued twin (``can_replace``) so a burst of webhook
deliveries costs one repaint, not hundreds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

from console.changes import ConnectionChanged, OutboxChanged, SyncProgress

if TYPE_CHECKING:  # a pydantic model: the first paint needs none
    from console.events import Event


class ChatsStale(Message):
    """The chat list of an account needs re-reading."""

    def __init__(self, account_id: str) -> None:
        super().__init__()
        self.account_id = account_id

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ChatsStale) and message.account_id == self.account_id


class UnreadStale(Message):
    """Unread badges need re-reading."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, UnreadStale)


class ThreadChanged(Message):
    """A message was added to, or changed in, a chat."""

    def __init__(self, account_id: str, chat_id: str, message_id: str, added: bool) -> None:
        super().__init__()
        self.account_id = account_id
        self.chat_id = chat_id
        self.message_id = message_id
        self.added = added


class FanStale(Message):
    def __init__(self, account_id: str, fan_id: str) -> None:
        super().__init__()
        self.account_id = account_id
        self.fan_id = fan_id

    def can_replace(self, message: Message) -> bool:
        return (
            isinstance(message, FanStale)
            and message.account_id == self.account_id
            and message.fan_id == self.fan_id
        )


class StatusChanged(Message):
    """Connection, sync progress or outbox counts changed."""

    def __init__(self, update: ConnectionChanged | SyncProgress | OutboxChanged) -> None:
        super().__init__()
        self.update = update

    def can_replace(self, message: Message) -> bool:
        if not isinstance(message, StatusChanged):
            return False
        mine, theirs = self.update, message.update
        if type(mine) is not type(theirs):
            return False
        return getattr(mine, "account_id", None) == getattr(theirs, "account_id", None)


class HubChanged(Message):
    """The connection to the events hub (``--events``) changed."""

    def __init__(self, state: ConnectionChanged) -> None:
        super().__init__()
        self.state = state

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, HubChanged)


class EventArrived(Message):
    """A webhook event was applied (tips raise a toast)."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class ChatSelected(Message):
    """The chat list's cursor moved to a chat (``open``: Enter was pressed)."""

    def __init__(self, account_id: str, chat_id: str, fan_id: str | None, open: bool) -> None:
        super().__init__()
        self.account_id = account_id
        self.chat_id = chat_id
        self.fan_id = fan_id
        self.open = open
