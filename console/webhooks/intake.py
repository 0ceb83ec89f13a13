"""What happens to a delivery once its signature holds: parse, normalise, record + apply.

The listener (:mod:`console.webhooks.app`) reads the body and checks the signature itself, then
hands the verified bytes to an :data:`Intake`, which answers an :class:`Outcome`: the status to
send, the seq of the applied event and the event itself. Two intakes exist:

- :func:`local_intake` does the work on the listener's own event loop and hands the event to a
  sink (the store, the TUI's workspace). The TUI embeds the listener this way.
- :class:`console.webhooks.worker.IngestWorker` sends the verified bytes to a process of its
  own, which parses, normalises and commits them with its own cache connection (``listen``).

Both run the same code (:func:`parse_delivery`, :func:`applied`), so a delivery gets the same
answer either way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from console.events import Event
    from console.webhooks.hub import EventSink

log = logging.getLogger("console.webhooks")

#: The 503 reason when the cache could not take an event (the gateway retries).
STORE_FAILED = "could not store the event; retry"
#: The name logged for a delivery refused before it had one.
UNNAMED = ""


class Outcome:
    """The answer to one verified delivery.

    ``status`` 200 with ``seq`` None is a duplicate (no effect); 200 with a seq is a new
    event, ``shown`` unless its type is unknown (recorded, not shown); 400 and 503 carry a
    short ``reason`` that never echoes the input. ``event`` is the applied event with its seq;
    an outcome that crossed a process boundary holds its JSON and parses it when first asked.
    """

    __slots__ = ("_event", "_json", "key", "name", "reason", "seq", "shown", "status")

    def __init__(
        self,
        status: int,
        *,
        seq: int | None = None,
        reason: str = "",
        name: str = UNNAMED,
        key: str = "",
        shown: bool = False,
        event: Event | None = None,
        event_json: str | None = None,
    ) -> None:
        self.status = status
        self.seq = seq
        self.reason = reason
        self.name = name
        self.key = key
        self.shown = shown
        self._event = event
        self._json = event_json

    @property
    def event(self) -> Event:
        """The applied event (seq set); only for a 200 with a seq."""
        if self._event is None:
            if self._json is None:
                raise ValueError(f"no event in a {self.status} outcome")
            from console.events import Event

            self._event = Event.model_validate_json(self._json)
        return self._event

    def as_tuple(
        self, *, with_event: bool = True
    ) -> tuple[int, int | None, str, str, str, bool, str | None]:
        """Plain values only (marshal-able): what the ingest worker sends back; the event's
        JSON only ``with_event`` (serialising it is a fifth of the worker's own work)."""
        text = self._json if with_event else None
        if text is None and with_event and self._event is not None:
            text = self._event.model_dump_json()
        return (self.status, self.seq, self.reason, self.name, self.key, self.shown, text)

    @classmethod
    def from_tuple(cls, values: tuple[int, int | None, str, str, str, bool, str | None]) -> Outcome:
        status, seq, reason, name, key, shown, text = values
        return cls(status, seq=seq, reason=reason, name=name, key=key, shown=shown, event_json=text)


#: Verified body, the headers the listener decoded, and whether the applied event itself is
#: wanted (for in-process subscribers, ``on_applied``) → what to answer.
Intake = Callable[[bytes, Mapping[str, str], bool], Awaitable[Outcome]]


#: The 400 reason for a body the parser failed on in a way it did not foresee.
UNREADABLE = "the delivery could not be read"


def parse_delivery(body: bytes, headers: Mapping[str, str]) -> Event | Outcome:
    """The normalised event of a verified body, or the 400 that refuses it.

    Never raises: the parser validates every value it reads (a :class:`PayloadError` names
    the field), and anything it still failed on is a bug answered 400 and logged, because a
    5xx would have the gateway retry the same poison forever, and an exception here would end
    the ingest worker with every delivery in flight.
    """
    from console.webhooks.normalise import PayloadError, event_from_delivery

    try:
        return event_from_delivery(body, headers)
    except PayloadError as exc:
        return Outcome(400, reason=str(exc))
    except Exception as exc:
        log.error("delivery refused: the parser failed (%s)", type(exc).__name__, exc_info=True)
        return Outcome(400, reason=UNREADABLE)


def applied(event: Event, seq: int | None) -> Outcome:
    """The 200 for an event the sink recorded (``seq``) or knew already (None)."""
    from console.events import EventType

    if seq is not None:
        event.seq = seq
    return Outcome(
        200,
        seq=seq,
        name=event.name,
        key=event.idempotency_key,
        shown=event.type is not EventType.UNKNOWN,
        event=event if seq is not None else None,
    )


def not_stored(event: Event, error: BaseException | None = None) -> Outcome:
    """The 503 for an event the sink failed to store (logged here, with its traceback:
    ``error``, or the exception being handled)."""
    log.error("delivery %s: could not be stored", event.name, exc_info=error or True)
    return Outcome(503, reason=STORE_FAILED, name=event.name, key=event.idempotency_key)


def local_intake(sink: EventSink) -> Intake:
    """Parse and normalise on this loop, then ``await sink(event)`` (one transaction)."""

    async def intake(body: bytes, headers: Mapping[str, str], want_event: bool) -> Outcome:
        parsed = parse_delivery(body, headers)
        if isinstance(parsed, Outcome):
            return parsed
        try:
            seq = await sink(parsed)
        except asyncio.CancelledError:
            raise
        except Exception:
            return not_stored(parsed)
        return applied(parsed, seq)

    return intake
