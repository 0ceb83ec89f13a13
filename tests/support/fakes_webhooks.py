"""An in-memory event log: a sink and a resumable log without a database.

Used where no cache is wanted (the bench's baseline, quick experiments). The real sink is the
store (:mod:`console.webhooks.sinks`), which records the same way but durably.
"""

from __future__ import annotations

from collections.abc import Sequence

from console.events import Event


class MemoryEventLog:
    """Records each idempotency key once and keeps the events in seq order."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._keys: dict[str, int] = {}

    async def apply_event(self, event: Event) -> int | None:
        """The :data:`~console.webhooks.hub.EventSink` of this log."""
        if event.idempotency_key in self._keys:
            return None
        seq = len(self.events) + 1
        stored = event.model_copy(update={"seq": seq})
        self.events.append(stored)
        self._keys[event.idempotency_key] = seq
        return seq

    async def events_since(self, seq: int, limit: int = 500) -> Sequence[Event]:
        return self.events[max(seq, 0) : max(seq, 0) + limit]

    async def last_event_seq(self) -> int:
        return len(self.events)

    async def first_event_seq(self) -> int:
        return 1  # never pruned
