"""Limits that keep slow or hostile clients from starving a server (the webhook listener).

uvicorn has no read timeout before the first request and no limit on connections: 1,100 idle
connections exhausted the file limit, and 300 unfinished 1 MiB bodies held 300 MB. Here, per
server (see :class:`console.serving.EmbeddedServer`):

- **a request head must arrive within** ``header_timeout`` of the connection (or of the last
  response on a kept-alive one), trickled bytes or not; **its body within** ``body_timeout``;
  a connection past its deadline is closed;
- **at most** ``max_connections`` HTTP connections are open (never more than the file limit
  allows): a new one closes the *oldest* one still waiting for its client (a head or a body),
  so a good delivery — which sends its request at once — gets in however many idle
  connections an attacker holds; one waiting on the application is never closed for room;
- **at most** ``max_bodies`` bodies are read at once (the memory a body holds is
  ``max_body_bytes``): a new one closes the oldest unfinished one;
- **a websocket peer that stops reading** (its send buffer full, not shrinking, for
  ``ws_stall_timeout``) is dropped: a hub console resumes from its last seq when it reconnects.

Closing is an abort without a response: the client is not waiting for one (it has not sent its
request) or is hostile. Every close is counted in :class:`GuardStats` and logged through the
throttled ``console.webhooks.limits`` logger (:mod:`console.log_throttle`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

#: Under ``console.webhooks`` (the listener is what these limits guard): ``listen`` shows that
#: logger's lines on stderr with a time stamp.
log = logging.getLogger("console.webhooks.limits")

#: File descriptors left for everything but connections (the cache, pipes, the TUI, logs).
FD_RESERVE = 128


@dataclass(frozen=True)
class Limits:
    """What a server grants its clients. Defaults suit a webhook listener: deliveries are
    small and sent at once; a gateway keeps a few connections open."""

    max_connections: int = 1000
    max_bodies: int = 32
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    ws_stall_timeout: float = 30.0

    def effective_connections(self) -> int:
        """``max_connections``, lowered to what the soft file limit leaves after a reserve:
        past it, ``accept()`` fails with EMFILE and good deliveries cannot get in."""
        try:
            import resource

            soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        except (ImportError, OSError, ValueError):
            return self.max_connections
        if soft == resource.RLIM_INFINITY or soft <= 0:
            return self.max_connections
        room = max(soft - max(FD_RESERVE, soft // 4), 16)
        return max(1, min(self.max_connections, room))


@dataclass
class GuardStats:
    """Connections closed by the guard, by reason."""

    header_timeouts: int = 0
    body_timeouts: int = 0
    evicted_for_connection: int = 0
    evicted_for_body: int = 0
    refused: int = 0
    stalled_websockets: int = 0


_HEAD, _BODY, _APP = "head", "body", "app"


class ConnectionGuard:
    """The tables of one server's HTTP connections, oldest first by the phase they wait in."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.max_connections = limits.effective_connections()
        self.open: set[GuardedH11Protocol] = set()
        #: Waiting for a request head: protocol → deadline (insertion order is age order).
        self.heads: OrderedDict[GuardedH11Protocol, float] = OrderedDict()
        #: Reading a body: protocol → deadline.
        self.bodies: OrderedDict[GuardedH11Protocol, float] = OrderedDict()
        self.stats = GuardStats()

    def __repr__(self) -> str:
        return (
            f"ConnectionGuard(open={len(self.open)}/{self.max_connections}, "
            f"heads={len(self.heads)}, bodies={len(self.bodies)}/{self.limits.max_bodies})"
        )

    def opened(self, conn: GuardedH11Protocol) -> None:
        if len(self.open) >= self.max_connections:
            victim = next(iter(self.heads), None) or next(iter(self.bodies), None)
            if victim is None:
                # Every connection waits on the application: none can be closed for room.
                self.stats.refused += 1
                log.warning("connection limit (%d) reached: refused one", self.max_connections)
                conn.transport.abort()
                return
            self.stats.evicted_for_connection += 1
            log.warning(
                "connection limit (%d) reached: closed the oldest idle connection",
                self.max_connections,
            )
            self._close(victim)
        self.open.add(conn)
        self._enter(conn, _HEAD)

    def closed(self, conn: GuardedH11Protocol) -> None:
        self._leave(conn)
        self.open.discard(conn)

    def progressed(self, conn: GuardedH11Protocol) -> None:
        """Re-file a connection after bytes arrived or a response ended."""
        if conn not in self.open:
            return
        transport = conn.transport
        if transport.is_closing() or transport.get_protocol() is not conn:
            # Closed, or upgraded to a websocket (an authenticated hub console, or closed
            # right away by the endpoint): no longer an HTTP connection.
            self.closed(conn)
            return
        cycle = conn.cycle
        in_request = cycle is not None and not cycle.response_complete
        their = conn.conn.their_state
        if not in_request:
            phase = _HEAD  # idle, kept alive, or sending a body already answered
        elif their is h11.SEND_BODY:
            phase = _BODY
        else:
            phase = _APP
        self._enter(conn, phase)

    def expire(self, now: float | None = None) -> None:
        """Close every connection past its deadline (called a few times a second)."""
        now = time.monotonic() if now is None else now
        for table, reason in ((self.heads, "header"), (self.bodies, "body")):
            expired = 0
            while table:
                conn, deadline = next(iter(table.items()))
                if deadline > now:
                    break
                expired += 1
                self._close(conn)
            if not expired:
                continue
            if reason == "header":
                self.stats.header_timeouts += expired
                timeout = self.limits.header_timeout
            else:
                self.stats.body_timeouts += expired
                timeout = self.limits.body_timeout
            log.warning(
                "closed %d connection(s): no complete request %s within %gs",
                expired,
                "head" if reason == "header" else "body",
                timeout,
            )

    def _enter(self, conn: GuardedH11Protocol, phase: str) -> None:
        if conn.guard_phase == phase:
            return
        self._leave(conn)
        conn.guard_phase = phase
        now = time.monotonic()
        if phase == _HEAD:
            self.heads[conn] = now + self.limits.header_timeout
        elif phase == _BODY:
            if len(self.bodies) >= self.limits.max_bodies:
                self.stats.evicted_for_body += 1
                log.warning(
                    "body limit (%d) reached: closed the oldest unfinished body",
                    self.limits.max_bodies,
                )
                self._close(next(iter(self.bodies)))
            self.bodies[conn] = now + self.limits.body_timeout

    def _leave(self, conn: GuardedH11Protocol) -> None:
        self.heads.pop(conn, None)
        self.bodies.pop(conn, None)
        conn.guard_phase = None

    def _close(self, conn: GuardedH11Protocol) -> None:
        self.closed(conn)
        # abort(): nothing is owed to a client that has not finished its request, and close()
        # would wait on a peer that does not read. The application, if it is reading this
        # body, sees a disconnect.
        conn.transport.abort()


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, filed with its server's :class:`ConnectionGuard`."""

    guard: ConnectionGuard  # set on the per-server subclass (see :func:`protocols`)
    guard_phase: str | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.guard.opened(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.closed(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self.guard.progressed(self)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self.guard.progressed(self)


class GuardedWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websocket protocol with a bound on how long a send waits for a peer that
    does not read: past ``ws_stall_timeout`` without its send buffer shrinking, the
    connection is aborted (uvicorn's own close would wait for that buffer to drain)."""

    guard: ConnectionGuard

    async def send(self, message: Any) -> None:
        if not self.writable.is_set() and self.handshake_complete:
            await self._wait_for_progress()  # a send, or a close (which writes a frame too)
        await super().send(message)

    async def _wait_for_progress(self) -> None:
        timeout = self.guard.limits.ws_stall_timeout
        poll = min(1.0, timeout)
        size = self.transport.get_write_buffer_size()
        progress_at = time.monotonic()
        while not self.writable.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.writable.wait(), poll)
                return
            now_size = self.transport.get_write_buffer_size()
            if now_size < size:
                size, progress_at = now_size, time.monotonic()
            elif time.monotonic() - progress_at >= timeout:
                self.guard.stats.stalled_websockets += 1
                log.warning("dropped a websocket peer that stopped reading for %gs", timeout)
                self.transport.abort()
                raise ClientDisconnected


#: Accepted connections at most waiting to be set up (descriptors past the cap, briefly).
_SETTING_UP = 32
#: Seconds between two accept() attempts after one failed (EMFILE: no descriptor to spare).
_NO_ROOM_PAUSE = 0.05


class Acceptor:
    """Accepts connections on a listening socket, in place of asyncio's server.

    asyncio accepts up to ``backlog`` connections per wake-up before any protocol sees one, so
    a burst of 2,000 went past the file limit before the connection cap could act; and on
    EMFILE it logs a traceback per attempt (thousands a second, as it keeps trying the whole
    backlog). Here at most ``_SETTING_UP`` accepted connections wait to be filed with the guard
    (which may close the oldest idle one for each), so descriptors never run past the cap by
    more than that, and a failed accept() is one throttled line and a pause. Quacks like the
    ``asyncio.Server`` uvicorn's shutdown expects (``close``, ``wait_closed``).
    """

    def __init__(
        self,
        sock: socket.socket,
        protocol_factory: Callable[[], asyncio.Protocol],
        *,
        ssl_context: ssl.SSLContext | None = None,
    ):
        self._sock = sock
        self._factory = protocol_factory
        self._ssl = ssl_context
        self._setting_up: set[asyncio.Task[None]] = set()
        self._task = asyncio.create_task(self._run(), name=f"accept {sock.getsockname()}")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if len(self._setting_up) >= _SETTING_UP:
                await asyncio.wait(self._setting_up, return_when=asyncio.FIRST_COMPLETED)
            try:
                conn, _address = await loop.sock_accept(self._sock)
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                continue
            except OSError as exc:
                if self._sock.fileno() == -1:
                    return  # closed under us: the server is stopping
                # Out of descriptors (or another passing error): one throttled line, a pause,
                # and accept again; room comes back as connections close.
                log.error("cannot accept a connection: %s", exc.strerror or exc)
                await asyncio.sleep(_NO_ROOM_PAUSE)
                continue
            task = asyncio.create_task(self._set_up(conn))
            self._setting_up.add(task)
            task.add_done_callback(self._setting_up.discard)

    async def _set_up(self, conn: socket.socket) -> None:
        try:
            await asyncio.get_running_loop().connect_accepted_socket(
                self._factory, conn, ssl=self._ssl
            )
        except OSError:  # gone before it was set up: nobody to answer
            conn.close()
        except Exception:  # one connection's failure must not end accepting
            log.exception("could not set up a connection")
            conn.close()

    def close(self) -> None:
        self._task.cancel()

    async def wait_closed(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


@dataclass
class Protocols:
    """The protocol classes bound to one guard (uvicorn builds them with its own arguments)."""

    guard: ConnectionGuard
    http: type[GuardedH11Protocol] = field(init=False)
    ws: type[GuardedWebSocketProtocol] = field(init=False)

    def __post_init__(self) -> None:
        attrs = {"guard": self.guard}
        self.http = type("GuardedH11Protocol", (GuardedH11Protocol,), attrs)
        self.ws = type("GuardedWebSocketProtocol", (GuardedWebSocketProtocol,), attrs)


def protocols(limits: Limits) -> Protocols:
    return Protocols(ConnectionGuard(limits))
