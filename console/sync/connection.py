"""Is the gateway reachable? One tracker per gateway, with a probe that backs off.

Every network caller reports what it saw (``ok()`` / ``lost()``); while the gateway is lost a
single probe task asks it, with growing pauses, until it answers. Whoever waits for the
gateway (the outbox senders, the backfill) sleeps on :meth:`wait_live` instead of hammering
a dead socket. The state is published as :class:`ConnectionChanged`.

A gateway that dies while nobody calls it would go unnoticed until the chatter acts ("● live"
for as long as they read), and the gateway bills every request, so asking it "are you there?"
costs credits. While live, :meth:`Connection.watch` instead opens a bare TCP connection to the
gateway's address every few seconds when no call has answered lately: no HTTP request, nothing
billed, and a killed gateway is noticed within :data:`WATCH_INTERVAL` + :data:`WATCH_TIMEOUT`
seconds (issue 11). A TCP check can be wrong where the API is right (a proxy, a firewall that
lets HTTP through only): when a check fails but the API then answers at once, the watch stops
for that gateway rather than flap (and bill a probe every few seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import urllib.request
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import urlsplit

from console.changes import OFFLINE_MODE, ConnectionChanged
from console.sync.policy import Backoff

log = logging.getLogger(__name__)

State = Literal["live", "reconnecting", "offline"]

#: After this many failed probes "reconnecting" becomes "offline" (still probing).
PROBES_BEFORE_OFFLINE = 3
#: Seconds between two checks of a live gateway's address (skipped while calls answer).
WATCH_INTERVAL = 3.0
#: Seconds a TCP connection to the gateway may take before it counts as lost.
WATCH_TIMEOUT = 4.0


def tcp_address(url: str) -> tuple[str, int]:
    """Where a TCP connection to ``url``'s gateway goes: its host and port, or those of the
    proxy httpx would use for it (from the same environment variables)."""
    parts = urlsplit(url)
    scheme = parts.scheme or "https"
    host = parts.hostname or ""
    proxy = urllib.request.getproxies().get(scheme) or urllib.request.getproxies().get("all")
    if proxy and not urllib.request.proxy_bypass(host):
        via = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        if via.hostname:
            return via.hostname, via.port or (443 if via.scheme == "https" else 80)
    return host, parts.port or (443 if scheme == "https" else 80)


def tcp_check(url: str) -> Callable[[], Awaitable[None]]:
    """A check that opens (and closes at once) a TCP connection to ``url``'s gateway: no
    request is sent, so the gateway bills nothing. Raises ``OSError`` when it cannot."""
    host, port = tcp_address(url)

    async def check() -> None:
        _reader, writer = await asyncio.open_connection(host, port)
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()

    return check


class Connection:
    """Reachability of one gateway.

    ``publish`` receives every change; ``probe`` is a cheap call that raises when the gateway
    cannot be reached. With ``offline=True`` the tracker never probes and never goes live.
    """

    def __init__(
        self,
        name: str,
        publish: Callable[[ConnectionChanged], None],
        probe: Callable[[], Awaitable[object]] | None,
        *,
        backoff: Backoff | None = None,
        offline: bool = False,
        reachable: Callable[[], Awaitable[object]] | None = None,
        watch_interval: float = WATCH_INTERVAL,
    ) -> None:
        self.name = name
        self._publish = publish
        self._probe = probe
        #: The free check of :meth:`watch` (``None``: not watched).
        self._reachable = reachable
        self.watch_interval = watch_interval
        self._watch_task: asyncio.Task[None] | None = None
        #: Loop time of the last answer from the gateway (a watch check is skipped after one).
        self._answered_at = 0.0
        #: Set when the watch's last check failed, until the gateway is live again.
        self._watch_failed = False
        self._backoff = backoff or Backoff(base=0.5, cap=30.0)
        self.forced_offline = offline or probe is None
        self.state: State = "offline" if self.forced_offline else "live"
        self.since = datetime.now(UTC)
        self.detail = OFFLINE_MODE if self.forced_offline else ""
        self._live = asyncio.Event()
        self._lost = asyncio.Event()
        if not self.forced_offline:
            self._live.set()
        self._probe_task: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def live(self) -> bool:
        return self.state == "live"

    def _set(self, state: State, detail: str) -> None:
        if state == self.state and detail == self.detail:
            return
        if state == "live" or self.state == "live":
            # "offline since …" counts from when the gateway was lost, not from the last probe.
            self.since = datetime.now(UTC)
        self.state = state
        self.detail = detail
        self._publish(ConnectionChanged(state, self.since, detail))

    def ok(self) -> None:
        """A call just got an answer from the gateway."""
        with contextlib.suppress(RuntimeError):  # no running loop: nothing to watch either
            self._answered_at = asyncio.get_running_loop().time()
        if self.forced_offline or self.state == "live":
            return
        self._set("live", "")
        self._lost.clear()
        self._live.set()

    def lost(self, detail: str) -> None:
        """A call could not reach the gateway: go to "reconnecting" and start probing."""
        if self.forced_offline or self._closed:
            return
        if self.state == "live":
            self._live.clear()
            self._lost.set()
            self._set("reconnecting", detail)
        if self._probe_task is None or self._probe_task.done():
            self._probe_task = asyncio.create_task(self._probe_until_live(), name="probe")

    async def wait_live(self) -> None:
        """Return once the gateway is reachable (never, in offline mode)."""
        await self._live.wait()

    async def wait_lost(self) -> None:
        """Return once the gateway has been lost (at once while it is)."""
        await self._lost.wait()

    def watch(self) -> None:
        """Start checking, while live, that the gateway's address still takes connections
        (see the module's docstring). Needs a running loop; ``close()`` stops it."""
        if self.forced_offline or self._reachable is None or self._closed:
            return
        if self._watch_task is None or self._watch_task.done():
            self._watch_task = asyncio.create_task(self._watch(), name=f"watch:{self.name}")

    async def _watch(self) -> None:
        assert self._reachable is not None
        loop = asyncio.get_running_loop()
        while not self._closed:
            await asyncio.sleep(self.watch_interval)
            if self.state != "live" or loop.time() - self._answered_at < self.watch_interval:
                continue  # the probe has it, or a call has just answered
            try:
                async with asyncio.timeout(WATCH_TIMEOUT):
                    await self._reachable()
            except asyncio.CancelledError:
                raise
            except (OSError, TimeoutError) as exc:
                if self.state != "live" or loop.time() - self._answered_at < self.watch_interval:
                    continue  # a call answered meanwhile: it knows better
                self._watch_failed = True
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else None
                self.lost(f"gateway not reachable: {(reason or 'no answer').lower()}")

    async def _watch_was_wrong(self) -> None:
        """The watch said lost and the API answers now: check the address again. When it still
        refuses, the TCP check does not tell this gateway's health (a proxy, a firewall): stop
        watching, instead of flapping and billing a probe every few seconds."""
        if not self._watch_failed or self._reachable is None:
            return
        self._watch_failed = False
        try:
            async with asyncio.timeout(WATCH_TIMEOUT):
                await self._reachable()
            return  # the gateway was down for a while and is back: keep watching
        except (OSError, TimeoutError):
            pass
        task, self._watch_task = self._watch_task, None
        if task is not None:
            task.cancel()
        log.warning(
            "%s: the gateway answers although its address refuses a TCP check; "
            "a dead gateway is now noticed only when the console calls it",
            self.name,
        )

    async def _probe_until_live(self) -> None:
        assert self._probe is not None
        attempt = 0
        while not self._closed and self.state != "live":
            await asyncio.sleep(self._backoff.delay(attempt))
            attempt += 1
            try:
                await self._probe()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure: the gateway is still not usable
                self._watch_failed = False  # the watch was right
                state: State = "offline" if attempt >= PROBES_BEFORE_OFFLINE else "reconnecting"
                self._set(state, str(exc))
                continue
            await self._watch_was_wrong()
            self.ok()

    async def close(self) -> None:
        self._closed = True
        tasks = [self._probe_task, self._watch_task]
        self._probe_task = self._watch_task = None
        for task in tasks:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
