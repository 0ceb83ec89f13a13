"""Where a run's time goes: held back by the gateway's rate limit, waiting for the gateway's
answers, or our own work (parsing, the cache's writes).

Wall time, not a sum over concurrent requests: at each moment the run is in one state. While
any request is held back by the key's budget (or a 429's Retry-After), the run waits for the
rate limit: that is what sets its pace then. Else, while a request is in flight (or backing
off after a gateway error), it waits for the gateway. Else the time is ours.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Split:
    """Seconds spent in each state since the meter started."""

    rate_limit: float = 0.0
    gateway: float = 0.0
    ours: float = 0.0

    @property
    def total(self) -> float:
        return self.rate_limit + self.gateway + self.ours

    def __add__(self, other: Split) -> Split:
        return Split(
            self.rate_limit + other.rate_limit, self.gateway + other.gateway, self.ours + other.ours
        )

    def __sub__(self, other: Split) -> Split:
        return Split(
            self.rate_limit - other.rate_limit, self.gateway - other.gateway, self.ours - other.ours
        )


class TimeSplit:
    """A meter the client updates around each request (cheap: two clock reads per change)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._since = clock()
        self._held = 0
        self._in_flight = 0
        self._rate_limit = 0.0
        self._gateway = 0.0
        self._ours = 0.0

    def _tick(self) -> None:
        now = self._clock()
        span, self._since = now - self._since, now
        if self._held:
            self._rate_limit += span
        elif self._in_flight:
            self._gateway += span
        else:
            self._ours += span

    @contextmanager
    def held(self) -> Iterator[None]:
        """A request waits for room in the rate limit."""
        self._tick()
        self._held += 1
        try:
            yield
        finally:
            self._tick()
            self._held -= 1

    @contextmanager
    def in_flight(self) -> Iterator[None]:
        """A request is at the gateway (or waits to be tried again after its error)."""
        self._tick()
        self._in_flight += 1
        try:
            yield
        finally:
            self._tick()
            self._in_flight -= 1

    def split(self) -> Split:
        self._tick()
        return Split(self._rate_limit, self._gateway, self._ours)
