"""Adapters from what the listener is given (the store, the workspace) to an ``EventSink``.

The store's ``apply_event`` answers an ``AppliedEvent`` (with ``seq``) or ``None``; the sync
workspace may answer that, or the seq itself. The listener only needs the seq.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from console.events import Event
from console.webhooks.hub import EventSink


def _seq_of(result: Any) -> int | None:
    if result is None:
        return None
    if isinstance(result, bool):
        raise TypeError("apply_event answered a boolean, not a seq")
    if isinstance(result, int):
        return result
    seq = getattr(result, "seq", None)
    if not isinstance(seq, int):
        raise TypeError(f"apply_event answered {type(result).__name__} without a seq")
    return seq


def as_sink(apply_event: Callable[[Event], Awaitable[Any]]) -> EventSink:
    """Wrap ``store.apply_event`` or ``workspace.apply_event`` as the listener's sink."""

    async def sink(event: Event) -> int | None:
        return _seq_of(await apply_event(event))

    return sink
