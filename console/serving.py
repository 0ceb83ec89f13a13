"""Run an ASGI app (the sandbox, the listener) inside an existing asyncio loop or a thread.

uvicorn's ``Server.serve()`` captures signals and calls ``sys.exit`` when the port is busy
(STYLE.md, habit 10). Here the socket is bound first (so a busy port is a clear ``OSError``
and port 0 gives a free port we can report), signals are left to the host program, and
uvicorn's own logging config is not installed.

Slow or hostile clients meet the :class:`console.http_guard.Limits` (read timeouts, caps on
connections and on bodies being read, a bound on a websocket peer that stops reading), and
the warnings they can provoke by the thousand are throttled (:mod:`console.log_throttle`).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import uvicorn

from console import log_throttle
from console.http_guard import Acceptor, ConnectionGuard, Limits, protocols

#: uvicorn's ticks (every 0.1 s) between two checks of the read deadlines.
_EXPIRE_TICKS = 2
#: Ticks between two summaries of throttled log lines.
_FLUSH_TICKS = 10


class _QuietServer(uvicorn.Server):
    guard: ConnectionGuard | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        if self.guard is None or sockets is None:
            await super().startup(sockets)
            return
        # uvicorn's startup for pre-bound sockets, with our accept loop instead of asyncio's
        # server (see Acceptor). The lifespan and the protocol arguments are uvicorn's.
        await self.lifespan.startup()
        if self.lifespan.should_exit:
            raise RuntimeError("the application's lifespan startup failed")
        config = self.config

        def create_protocol() -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state=self.lifespan.state
            )

        self.servers = [
            Acceptor(sock, create_protocol, ssl_context=config.ssl)  # type: ignore[misc]
            for sock in sockets
        ]
        self.started = True

    async def on_tick(self, counter: int) -> bool:
        if self.guard is not None and counter % _EXPIRE_TICKS == 0:
            self.guard.expire()
        if counter % _FLUSH_TICKS == 0:
            log_throttle.install().flush()
        return await super().on_tick(counter)


def bind(host: str, port: int) -> socket.socket:
    """Bind a listening TCP socket; ``port=0`` picks a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only when
    # `sock.proto` says TCP; with proto 0 every small response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.setblocking(False)
    return sock


class EmbeddedServer:
    """An ASGI app served on a pre-bound socket. Use ``async with`` or ``start_thread()``.

    ``limits=None`` serves with uvicorn's own protocols and no limits (the benches' baseline).
    """

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        limits: Limits | None = Limits(),
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
    ) -> None:
        self.app = app
        self.tls = ssl_certfile is not None
        self.socket = bind(host, port)
        self.host, self.port = self.socket.getsockname()[:2]
        guarded = protocols(limits) if limits is not None else None
        config = uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
            http=guarded.http if guarded is not None else "auto",
            ws=guarded.ws if guarded is not None else "websockets-sansio",
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
        )
        self.server = _QuietServer(config)
        #: The connection tables and counts (None without limits).
        self.guard = self.server.guard = guarded.guard if guarded is not None else None
        log_throttle.install()
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    async def start(self) -> None:
        self._task = asyncio.create_task(self.server.serve(sockets=[self.socket]))
        while not self.server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
                raise RuntimeError("server stopped before it started")
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        if self._thread is None or threading.current_thread() is not self._thread:
            self.server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.socket.close()

    async def __aenter__(self) -> EmbeddedServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[EmbeddedServer]:
        async with self:
            yield self

    def start_thread(self) -> EmbeddedServer:
        """Serve from a daemon thread with its own loop (tests, benches, sync callers)."""
        started = threading.Event()
        failure: list[BaseException] = []

        async def main() -> None:
            try:
                await self.start()
            except BaseException as exc:
                failure.append(exc)
                started.set()
                return
            started.set()
            await self.stop()  # returns once stop_thread() sets should_exit

        self._thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
        self._thread.start()
        started.wait(30)
        if failure:
            raise failure[0]
        return self

    def stop_thread(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
