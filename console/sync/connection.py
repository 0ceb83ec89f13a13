"""Is the gateway reachable? One tracker per gateway, with a probe that backs off.

Every network caller reports what it saw (``ok()`` / ``lost()``); while the gateway is lost a
single probe task asks it, with growing pauses, until it answers. Whoever waits for the
gateway (the outbox senders, the backfill) sleeps on :meth:`wait_live` instead of hammering
a dead socket. The state is published as :class:`ConnectionChanged`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Literal

from console.sync.policy import Backoff
from console.sync.updates import ConnectionChanged

log = logging.getLogger(__name__)

State = Literal["live", "reconnecting", "offline"]

#: After this many failed probes "reconnecting" becomes "offline" (still probing).
PROBES_BEFORE_OFFLINE = 3


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
    ) -> None:
        self.name = name
        self._publish = publish
        self._probe = probe
        self._backoff = backoff or Backoff(base=0.5, cap=30.0)
        self.forced_offline = offline or probe is None
        self.state: State = "offline" if self.forced_offline else "live"
        self.since = datetime.now(UTC)
        self.detail = "offline mode" if self.forced_offline else ""
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
                state: State = "offline" if attempt >= PROBES_BEFORE_OFFLINE else "reconnecting"
                self._set(state, str(exc))
                continue
            self.ok()

    async def close(self) -> None:
        self._closed = True
        task, self._probe_task = self._probe_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
