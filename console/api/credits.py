"""The credit meter: what this console spends with the gateway, and the caps on it.

The rule (what a call costs) is console/credit_rule.py, shared with the sandbox.
:class:`CreditMeter` counts what one console spends, per account, feature and UTC day, and
holds the cap: background work (sync, profile refreshes, prefetch) stops at the monthly budget
minus a reserve kept for the chatter, and every call stops at the budget itself. The meter does
no I/O: the sync layer loads the month's total from the cache and writes what the meter took.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

from console.api.errors import CreditBudgetReached
from console.credit_rule import (
    FEATURES,
    call_credits,
    cycle_of,
    day_of,
    feature_of,
    media_credits,
    response_credits,
    webhook_credits,
)

__all__ = [
    "FEATURES",
    "CreditMeter",
    "CreditNotice",
    "CreditStatus",
    "background_work",
    "call_credits",
    "cycle_of",
    "day_of",
    "feature_of",
    "is_background",
    "media_credits",
    "response_credits",
    "webhook_credits",
]

# -- who is spending: the chatter, or background work -------------------------------------------

_BACKGROUND: ContextVar[bool] = ContextVar("credits_background", default=False)


@contextlib.contextmanager
def background_work() -> Iterator[None]:
    """Calls made inside (and in tasks started inside) are background work: sync, profile
    refreshes, prefetch. They stop at the budget minus the reserve; the chatter's do not."""
    token = _BACKGROUND.set(True)
    try:
        yield
    finally:
        _BACKGROUND.reset(token)


def is_background() -> bool:
    return _BACKGROUND.get()


# -- the meter -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreditStatus:
    """What the status line shows: credits used this cycle, against the budget (if any)."""

    used: float
    budget: int | None
    reserve: int = 0
    cycle: str = ""
    #: The gateway answered 402 in this cycle: background work waits for the next one.
    exhausted: bool = False

    @property
    def background_cap(self) -> int | None:
        return None if self.budget is None else max(0, self.budget - self.reserve)

    def text(self) -> str:
        used = f"{math.ceil(self.used):,}"
        if self.budget is None:
            return f"credits {used} this month"
        return f"credits {used}/{self.budget:,} this month"


@dataclass(frozen=True, slots=True)
class CreditNotice:
    """Something the chatter is told once: a threshold crossed, a cap reached, a 402."""

    kind: Literal["warn80", "warn95", "background-cap", "budget-spent", "exhausted", "resumed"]
    text: str
    status: CreditStatus


Usage = tuple[str, str, str]  # (account id, feature, day)


class CreditMeter:
    """Counts every billed response and holds the caps. One per console (shared by every
    client of a workspace): the budget is the agency's, across its API keys.

    ``clock`` gives epoch seconds (a test moves it to the next month); ``poll`` is how often a
    paused background task looks whether the cycle turned.
    """

    def __init__(
        self,
        *,
        budget: int | None = None,
        reserve: int = 0,
        clock: Callable[[], float] = time.time,
        poll: float = 60.0,
    ) -> None:
        self.budget = budget
        self.reserve = reserve
        self.clock = clock
        self.poll = poll
        self._lock = threading.Lock()
        self._cycle = cycle_of(clock())
        #: Credits of this cycle written to the cache before this meter started.
        self._loaded = 0.0
        #: Credits counted by this meter in this cycle.
        self._counted = 0.0
        #: (account, feature, day) → [requests, bytes, credits] not yet written to the cache.
        self._pending: dict[Usage, list[float]] = {}
        self._exhausted_cycle: str | None = None
        self._warned: set[str] = set()
        self._listeners: list[Callable[[CreditNotice], None]] = []
        #: Calls refused here because of the cap (for tests and the bench).
        self.refused = 0

    # -- what has been spent ------------------------------------------------------------------

    def load(self, cycle: str, credits: float) -> None:
        """The cache's total for ``cycle`` (credits spent by earlier runs)."""
        with self._lock:
            self._roll()
            if cycle == self._cycle:
                self._loaded = credits
        self._check_thresholds()

    def observe_total(self, cycle: str, stored: float) -> None:
        """A shared store's total for ``cycle``, this meter's written rows included (a team
        server instance reads what every instance wrote, console/team/credits.py): from now on
        ``used`` is that total plus what this meter counted and has not handed over yet
        (:meth:`take_pending`), so the caps hold for the whole team's spending."""
        with self._lock:
            self._roll()
            if cycle != self._cycle:
                return
            unwritten = sum(
                row[2] for (_, _, day), row in self._pending.items() if day.startswith(cycle)
            )
            self._loaded = stored + unwritten - self._counted
        self._check_thresholds()

    def _roll(self) -> bool:
        """Start a new cycle if the clock is past this one; True when it did."""
        cycle = cycle_of(self.clock())
        if cycle == self._cycle:
            return False
        self._cycle = cycle
        self._loaded = self._counted = 0.0
        self._warned.clear()
        return True

    @property
    def used(self) -> float:
        with self._lock:
            self._roll()
            return self._loaded + self._counted

    def status(self) -> CreditStatus:
        with self._lock:
            self._roll()
            return CreditStatus(
                self._loaded + self._counted,
                self.budget,
                self.reserve,
                self._cycle,
                self._exhausted_cycle == self._cycle,
            )

    def charge(
        self, account_id: str, feature: str, credits: float, size_bytes: int = 0, requests: int = 1
    ) -> None:
        """Count one billed response (or ``requests`` webhook events)."""
        if credits <= 0 and requests <= 0:
            return
        with self._lock:
            self._roll()
            now = self.clock()
            key = (account_id, feature, day_of(now))
            row = self._pending.setdefault(key, [0, 0, 0.0])
            row[0] += requests
            row[1] += size_bytes
            row[2] += credits
            self._counted += credits
        self._check_thresholds()

    def take_pending(self) -> list[tuple[str, str, str, int, int, float]]:
        """What was counted since the last call, for the cache: (account, feature, day,
        requests, bytes, credits) rows."""
        with self._lock:
            pending, self._pending = self._pending, {}
        return [(a, f, d, int(r), int(b), c) for (a, f, d), (r, b, c) in pending.items()]

    def restore_pending(self, rows: list[tuple[str, str, str, int, int, float]]) -> None:
        """Put back rows whose write failed (they are written with the next batch)."""
        with self._lock:
            for account, feature, day, requests, size, credits in rows:
                row = self._pending.setdefault((account, feature, day), [0, 0, 0.0])
                row[0] += requests
                row[1] += size
                row[2] += credits

    async def write_pending(
        self, write: Callable[[list[tuple[str, str, str, int, int, float]]], Awaitable[None]]
    ) -> None:
        """Hand what was counted since the last write to ``write`` (the cache's, the team
        database's); rows whose write fails, or is cancelled, go with the next batch."""
        rows = self.take_pending()
        if not rows:
            return
        try:
            await write(rows)
        except BaseException:
            self.restore_pending(rows)
            raise

    # -- the caps -----------------------------------------------------------------------------

    def check(self, *, background: bool | None = None) -> None:
        """Raise :class:`CreditBudgetReached` when this call may not be made now. ``background``
        defaults to the caller's context (:func:`background_work`)."""
        if background is None:
            background = is_background()
        status = self.status()
        if background and status.exhausted:
            self.refused += 1
            raise CreditBudgetReached(
                "background sync is paused: the gateway said this month's credits are spent",
                kind="paused",
            )
        if status.budget is None:
            return
        cap = status.budget if not background else status.background_cap
        assert cap is not None
        if status.used >= cap:
            self.refused += 1
            kind: Literal["background", "budget"] = "background" if background else "budget"
            self._notify_once(
                "background-cap" if background else "budget-spent",
                status,
                _cap_text(status, kind),
            )
            raise CreditBudgetReached(_cap_text(status, kind), kind=kind)

    def exhausted(self) -> None:
        """The gateway answered 402: background work waits for the next cycle (said once)."""
        with self._lock:
            self._roll()
            first = self._exhausted_cycle != self._cycle
            self._exhausted_cycle = self._cycle
        if first:
            status = self.status()
            self._notify(
                CreditNotice(
                    "exhausted",
                    "The gateway says this API plan's credits are spent for this month (402): "
                    "background sync is paused until the next cycle; replies are refused by the "
                    "gateway until then, or until credits are topped up in its dashboard.",
                    status,
                )
            )

    def paused(self) -> bool:
        """Whether background work may not run now (a 402, or the background cap)."""
        status = self.status()
        if status.exhausted:
            return True
        cap = status.background_cap
        return cap is not None and status.used >= cap

    async def wait_until_open(self) -> None:
        """Wait (polling the clock) until background work may run again: the next cycle."""
        # Polled: the turn of a month is a moment on a clock (a simulated one in tests), not an
        # event anything could signal.
        while self.paused():  # noqa: ASYNC110
            await asyncio.sleep(self.poll)
        self._notify_once(
            "resumed",
            self.status(),
            "A new credit cycle began: background sync resumes.",
        )

    # -- notices ------------------------------------------------------------------------------

    def listen(self, listener: Callable[[CreditNotice], None]) -> None:
        self._listeners.append(listener)

    def _notify(self, notice: CreditNotice) -> None:
        for listener in list(self._listeners):
            listener(notice)

    def _notify_once(self, kind: str, status: CreditStatus, text: str) -> None:
        with self._lock:
            if kind in self._warned:
                return
            self._warned.add(kind)
            if kind == "resumed":
                # A later pause in this cycle is said again.
                self._warned -= {"background-cap", "budget-spent"}
        self._notify(CreditNotice(kind, text, status))  # type: ignore[arg-type]

    def _check_thresholds(self) -> None:
        status = self.status()
        if not status.budget:
            return
        share = status.used / status.budget
        for mark, kind in ((0.95, "warn95"), (0.80, "warn80")):
            if share >= mark:
                if kind == "warn95":
                    self._warned.add("warn80")  # past 95% at once: one notice, not two
                self._notify_once(
                    kind,
                    status,
                    f"{round(mark * 100)}% of this month's credit budget is spent "
                    f"({math.ceil(status.used):,} of {status.budget:,}). Background sync stops "
                    f"at {status.background_cap:,}; replies go on until {status.budget:,}.",
                )
                return


async def write_periodically(
    seconds: float, flush: Callable[[], Awaitable[None]], failed: Callable[[Exception], None]
) -> None:
    """``flush`` a meter's figures every ``seconds`` until cancelled; a failed round is told
    to ``failed`` (its figures stay in the meter) and the next round tries again."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await flush()
        except Exception as exc:
            failed(exc)


def _cap_text(status: CreditStatus, kind: Literal["background", "budget"]) -> str:
    used = f"{math.ceil(status.used):,}"
    if kind == "background":
        return (
            f"Background sync stopped: {used} of this month's {status.budget:,} credits are "
            f"spent and the last {status.reserve:,} are kept for replies. Chats still open "
            "and update from webhooks; raise [budget] monthly_credits to sync more."
        )
    return (
        f"This month's credit budget is spent ({used} of {status.budget:,}): nothing more is "
        "sent to the gateway until the next month, or until [budget] monthly_credits is raised."
    )
