"""The live event hub: applied events fan out to in-process subscribers and remote consoles.

In-process subscribers (the TUI) get :class:`Event` objects on their own asyncio queue.
Remote consoles read a websocket (``/events``, see :mod:`console.webhooks.app`) fed by
:meth:`EventHub.stream`, which reads the durable event log rather than a queue: a publish only
wakes the stream, which then reads everything after the last seq it sent. The log is written
in seq order by one writer, so a console that resumes with ``after=<seq>`` gets every later
event exactly once, in order, with no gap at the switch from history to live and no loss when
it reads slower than events arrive.

The hub is one implementation over any :class:`EventLog`: the cache's SQLite log (the embedded
listener, ``listen``) or the team database's PostgreSQL log (``serve``, :mod:`console.team`),
which also wakes the hub when another instance commits (LISTEN/NOTIFY). Who may read is the
hub's ``authenticate``: one shared token by default, a chatter's token scoped to accounts in
team mode (each console then gets only its accounts' events, and a revoked token is cut off
while connected).

Memory is bounded per console: the log is read a page at a time, the next page only once the
socket took the previous one (a send waits while the socket's buffer is full), and a page holds
at most ``page_bytes`` of events (its size in events adapts to the events' size). A console
that stops reading holds one page; past a limit it is dropped by the server
(:class:`console.http_guard.GuardedWebSocketProtocol`) and resumes from its last seq later.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from console.events import Event, EventType

#: Record + apply one event (one transaction); the event's seq, or None for a duplicate.
EventSink = Callable[[Event], Awaitable[int | None]]


class LogEntry(Protocol):
    """One logged entry as the hub streams it: an :class:`Event`, or a team log's row."""

    @property
    def seq(self) -> int | None: ...

    @property
    def account_id(self) -> str: ...

    @property
    def type(self) -> object:
        """Entries of type ``EventType.UNKNOWN`` are logged, never streamed."""
        ...

    def model_dump_json(self) -> str:
        """The text a console is sent."""
        ...


@runtime_checkable
class EventLog(Protocol):
    """The durable event log the hub resumes from (the store implements it)."""

    async def events_since(self, seq: int, limit: int = ...) -> Sequence[LogEntry]:
        """Events with a seq greater than ``seq``, oldest first, at most ``limit``."""
        ...

    async def last_event_seq(self) -> int:
        """The highest seq in the log (0 when empty)."""
        ...

    async def first_event_seq(self) -> int:
        """The lowest seq the log still holds (1 unless older events were pruned)."""
        ...


#: Close code of the ``/events`` websocket when the events after the console's seq were
#: pruned (4410 reads as 410 Gone); the reason ends with the oldest seq kept.
CLOSE_PRUNED = 4410


class HistoryPruned(Exception):
    """A console asked for events after ``after``, but the log no longer holds all of them:
    events older than its retention were pruned, and ``first`` is the oldest it keeps."""

    def __init__(self, after: int, first: int) -> None:
        self.after = after
        self.first = first
        super().__init__(
            f"events {after + 1}-{first - 1} were pruned (older than the hub's event "
            f"retention); the oldest kept is {first}"
        )


def new_token() -> str:
    """A fresh hub token (URL-safe, 256 bits)."""
    return secrets.token_urlsafe(32)


def always_valid() -> bool:
    return True


@dataclass(frozen=True)
class Access:
    """Who a console is, as far as the stream cares: the accounts whose events it gets (None:
    all of them) and whether its token still holds (checked while it is connected)."""

    name: str = "console"
    accounts: frozenset[str] | None = None
    valid: Callable[[], bool] = always_valid

    def sees(self, account_id: str) -> bool:
        return self.accounts is None or account_id in self.accounts


#: A presented token (or None) → the console's access, or None to refuse it.
Authenticate = Callable[[str | None], Awaitable[Access | None]]


class EventHub:
    """Fan-out of applied events. ``token`` guards the ``/events`` websocket, unless
    ``authenticate`` is given (team mode: each chatter's token, scoped to accounts)."""

    def __init__(
        self,
        log: EventLog | None = None,
        *,
        token: str | None = None,
        authenticate: Authenticate | None = None,
        max_queue: int = 10_000,
        page_size: int = 500,
        page_bytes: int = 1024 * 1024,
    ) -> None:
        self.log = log
        self._token = token or new_token()
        self._authenticate = authenticate
        self._queues: set[asyncio.Queue[Event]] = set()
        self._wakes: set[asyncio.Event] = set()
        self._max_queue = max_queue
        self._page_size = page_size
        self._page_bytes = page_bytes
        self.published = 0

    def __repr__(self) -> str:
        # The token is a secret: never in a repr.
        return f"EventHub(subscribers={len(self._queues)}, streams={len(self._wakes)})"

    @property
    def token(self) -> str:
        return self._token

    @property
    def subscribers(self) -> int:
        return len(self._queues) + len(self._wakes)

    def check_token(self, given: str | None) -> bool:
        """Constant-time comparison of a token presented by a remote console."""
        if not given:
            return False
        return secrets.compare_digest(given.encode("utf-8"), self._token.encode("utf-8"))

    async def authenticate(self, given: str | None) -> Access | None:
        """The access of a console presenting ``given``, or None to refuse it."""
        if self._authenticate is not None:
            return await self._authenticate(given)
        return Access() if self.check_token(given) else None

    @property
    def wants_events(self) -> bool:
        """Whether an in-process subscriber is waiting for event objects (remote consoles
        read the log: for them :meth:`notify` is enough)."""
        return bool(self._queues)

    def publish(self, event: Event) -> None:
        """Hand a freshly applied event to every subscriber (never blocks)."""
        for queue in self._queues:
            with contextlib.suppress(asyncio.QueueFull):
                # A subscriber that stopped reading loses events, never blocks the listener;
                # the store holds everything, so a view re-read repairs it.
                queue.put_nowait(event)
        self.notify()

    def notify(self) -> None:
        """An event was logged: wake the remote consoles' streams, which read the log."""
        self.published += 1
        for wake in self._wakes:
            wake.set()

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[Event]]:
        """An in-process subscription: a queue of events, open for the ``async with`` body."""
        queue: asyncio.Queue[Event] = asyncio.Queue(self._max_queue)
        self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)

    async def current_seq(self) -> int | None:
        """The log's last seq: where a console that asked for "from now on" starts."""
        return None if self.log is None else await self.log.last_event_seq()

    async def pruned_after(self, after: int | None) -> int | None:
        """The oldest seq still logged if some events after ``after`` were pruned (the
        console cannot get them: it is told, and may resume from there), else None."""
        if self.log is None or after is None:
            return None
        first = await self.log.first_event_seq()
        if after >= first - 1 or after > await self.log.last_event_seq():
            return None  # nothing missing, or the seq of another log (see stream())
        return first

    async def stream(
        self, after: int | None = None, access: Access | None = None
    ) -> AsyncIterator[str]:
        """Every shown event after ``after`` (None: from now on), in seq order, forever, as
        its JSON text (what a console is sent); with ``access``, only its accounts' events.

        Without a log (tests, a hub without a store) this is a live-only queue.
        """
        if self.log is None:
            async with self.subscribe() as queue:
                while True:
                    event = await queue.get()
                    if event.type is not EventType.UNKNOWN and (
                        access is None or access.sees(event.account_id)
                    ):
                        yield event.model_dump_json()
            return
        wake = asyncio.Event()
        # Registered before the first read: a publish from here on wakes us, so nothing
        # committed after the read below can be missed.
        self._wakes.add(wake)
        try:
            top = await self.log.last_event_seq()
            last = after if after is not None else top
            if last > top:
                # The console saw seqs this log never wrote: the hub's cache was replaced (or
                # deleted) since. Everything it holds may be news: send it all, and the
                # console drops what it already has by idempotency key.
                last = 0
            elif (first := await self.pruned_after(after)) is not None:
                # Resuming from there would skip what was pruned without a word: refuse.
                raise HistoryPruned(last, first)
            limit = 1  # grows while pages stay small (see _next_limit)
            while True:
                wake.clear()
                batch = await self.log.events_since(last, limit)
                size = 0
                for entry in batch:
                    if entry.seq is None or entry.seq <= last:
                        continue
                    last = entry.seq
                    if access is not None and not access.sees(entry.account_id):
                        continue
                    text = entry.model_dump_json()
                    size += len(text)
                    if entry.type is not EventType.UNKNOWN:
                        yield text
                full = len(batch) >= limit
                limit = self._next_limit(limit, size)
                if not full:
                    await wake.wait()
        finally:
            self._wakes.discard(wake)

    def _next_limit(self, limit: int, size: int) -> int:
        """The next page's size in events: doubled while a page is under half of
        ``page_bytes``, cut to fit when it was over (one event at least)."""
        if size * 2 < self._page_bytes:
            return min(limit * 2, self._page_size)
        if size > self._page_bytes:
            return max(1, limit * self._page_bytes // size)
        return limit
