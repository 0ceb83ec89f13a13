"""The workspace's side of the credit meter (``console/api/credits.py``): this month's
spending loaded from the cache at start, what the meter counts written back every few
seconds, and what it says (a warning, the cap reached) published for the status line."""

from __future__ import annotations

import asyncio
import logging

from console.api.credits import CreditMeter, CreditNotice, CreditStatus, write_periodically
from console.changes import CreditsChanged, UpdateBus
from console.store import Store

log = logging.getLogger(__name__)

#: Seconds between two writes of the credit meter's figures to the cache.
CREDITS_FLUSH_SECONDS = 2.0


class CreditLedger:
    """Keeps one meter's figures in the cache and tells the bus what the meter says."""

    def __init__(self, meter: CreditMeter, store: Store, bus: UpdateBus) -> None:
        self.meter = meter
        self.store = store
        self.bus = bus
        #: What the meter said this run (the ``sync`` command prints these).
        self.notices: list[CreditNotice] = []
        self._loaded = False
        self._flusher: asyncio.Task[None] | None = None
        meter.listen(self._notice)

    async def start(self, *, write: bool) -> None:
        """Load this month's spending from the cache into the meter (once), and, when
        ``write`` (a gateway to spend on, a writable cache), keep writing what it counts."""
        if not self._loaded:
            self._loaded = True
            cycle = self.meter.status().cycle
            self.meter.load(cycle, await self.store.usage.credits_in_month(cycle))
        if self._flusher is None and write:
            self._flusher = asyncio.create_task(
                write_periodically(CREDITS_FLUSH_SECONDS, self.flush, self._not_written),
                name="credits",
            )

    async def stop(self) -> None:
        """Stop the periodic writes and write what is left."""
        if self._flusher is not None:
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)
            self._flusher = None
        await self.flush()

    @staticmethod
    def _not_written(exc: Exception) -> None:
        log.warning("could not write the credits spent to the cache: %s", exc)

    async def flush(self) -> None:
        """Write what the meter counted since the last write to the cache."""
        await self.meter.write_pending(self.store.usage.add)

    def status(self) -> CreditStatus:
        """Credits used this month against the budget (for the status line)."""
        return self.meter.status()

    def _notice(self, notice: CreditNotice) -> None:
        self.notices.append(notice)
        log.info("%s", notice.text)
        status = notice.status
        self.bus.publish(CreditsChanged(notice.kind, notice.text, status.used, status.budget))
