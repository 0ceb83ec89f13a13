"""What changed: the small updates the store makes, the sync layer publishes and the TUI reads.

Updates say *what changed*, not the new state: a subscriber re-reads the store. That keeps
them tiny, lets bursts be coalesced, and keeps the store the single source of truth.

This module sits below the store (beside ``console/events.py``): the store builds these
objects as it writes, so they cannot live in ``console/sync`` without the store importing the
layer above it. The ``[tool.importlinter]`` contracts in pyproject.toml keep it that way.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # a pydantic model: not imported by the store or the UI for a type
    from console.events import Event


@dataclass(frozen=True, slots=True)
class ChatChanged:
    account_id: str
    chat_id: str


@dataclass(frozen=True, slots=True)
class MessageAdded:
    account_id: str
    chat_id: str
    message_id: str  # the server id, or the client id while pending


@dataclass(frozen=True, slots=True)
class MessageChanged:
    account_id: str
    chat_id: str
    message_id: str


@dataclass(frozen=True, slots=True)
class FanChanged:
    account_id: str
    fan_id: str


@dataclass(frozen=True, slots=True)
class OutboxChanged:
    account_id: str
    pending: int
    failed: int


@dataclass(frozen=True, slots=True)
class SyncProgress:
    """One account's backfill: ``done``/``total`` chats of the current phase ("chats": the
    chat list is being read, its total still growing; "messages": each chat's latest
    messages), and the messages fetched so far in this run."""

    account_id: str
    done: int
    total: int
    finished: bool = False
    phase: Literal["chats", "messages"] = "messages"
    messages: int = 0
    #: Finished because it stopped on this error (a refusal, or retries spent); it runs again
    #: when the gateway comes back.
    error: str | None = None


#: How a connection stands (the gateway's, the events hub's).
ConnectionState = Literal["live", "reconnecting", "offline"]
#: The detail of a connection kept offline on purpose (``--offline``; team mode's workspace,
#: whose gateway is the team server): the status line and the banner say so, not "not reachable".
OFFLINE_MODE = "offline mode"


@dataclass(frozen=True, slots=True)
class ConnectionChanged:
    state: ConnectionState
    since: datetime
    detail: str = ""


@dataclass(frozen=True, slots=True)
class AccountSetAside:
    """The gateway now lists ``account_id`` with another creator behind it: the cache of the
    old one was moved to ``aside_id`` (kept, read-only), and ``unsent`` undelivered actions of
    it were marked failed instead of going to the new creator."""

    account_id: str
    name: str
    old_creator_id: str
    new_creator_id: str
    aside_id: str
    aside_name: str
    chats: int
    unsent: int

    def text(self) -> str:
        """What the chatter is told, in plain words."""
        unsent = (
            f" Its {self.unsent} undelivered action{'s were' if self.unsent != 1 else ' was'} "
            "not sent (marked failed)."
            if self.unsent
            else ""
        )
        return (
            f"{self.name}: the gateway now has a different Fansly account behind this tab "
            f"(creator id {self.old_creator_id} became {self.new_creator_id}). The {self.chats} "
            f"cached chats of the old one are kept apart, read-only, in the tab "
            f"“{self.aside_name}”, and this tab starts again from the gateway.{unsent}"
        )


@dataclass(frozen=True, slots=True)
class CreditsChanged:
    """The credit meter has something to say once (80% or 95% of the budget spent, a cap
    reached, the gateway's 402, a new cycle): ``text`` is the sentence the chatter reads."""

    kind: str
    text: str
    used: float
    budget: int | None


@dataclass(frozen=True, slots=True)
class EventApplied:
    """A webhook event was applied (first time only): the TUI toasts tips from these."""

    event: Event


Update = (
    ChatChanged
    | MessageAdded
    | MessageChanged
    | FanChanged
    | OutboxChanged
    | SyncProgress
    | ConnectionChanged
    | EventApplied
    | AccountSetAside
    | CreditsChanged
)


class UpdateBus:
    """Fan-out of updates to any number of asyncio subscribers, each with its own queue."""

    def __init__(self, max_queue: int = 10_000) -> None:
        self._queues: set[asyncio.Queue[Update]] = set()
        self._max_queue = max_queue

    def publish(self, update: Update) -> None:
        for queue in self._queues:
            with contextlib.suppress(asyncio.QueueFull):
                # A subscriber that stopped reading loses updates, never blocks the publisher;
                # updates only say "re-read", so a later one repairs the view.
                queue.put_nowait(update)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[Update]]:
        queue: asyncio.Queue[Update] = asyncio.Queue(self._max_queue)
        self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)
