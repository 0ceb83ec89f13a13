"""The per-minute request budget of one API key, shared by every account on that key (§5.1).

The gateway counts requests per key in a sliding minute. Every client on the same key and
gateway shares one :class:`RequestBudget` from the registry, so several accounts (tabs) cannot
together overrun the plan. The registry is keyed by a hash of gateway + key: the key itself is
never kept here, so no repr or log line can show it.

No asyncio primitive is stored: a budget may outlive one event loop (tests, the bench) and a
lock bound to a dead loop would fail. Check-and-append happens without an ``await`` in between,
which is atomic within a loop; a threading lock covers clients running in other threads.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections import deque

from console.api.models import RateBudget

WINDOW_SECONDS = 60.0


def key_fingerprint(base_url: str, api_key: str) -> str:
    """A short, one-way name for a key on a gateway (safe to show in logs)."""
    digest = hashlib.sha256(f"{base_url.rstrip('/')}\0{api_key}".encode()).hexdigest()
    return digest[:12]


class RequestBudget:
    """A sliding window of send times; :meth:`acquire` waits for room before each request."""

    def __init__(
        self, fingerprint: str, requests_per_minute: int, *, window: float = WINDOW_SECONDS
    ) -> None:
        if requests_per_minute < 1:
            raise ValueError("requests_per_minute must be at least 1")
        self.fingerprint = fingerprint
        self.limit = requests_per_minute
        self.window = window
        self._sent: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = threading.Lock()
        #: What the gateway said last (for the status line).
        self.last = RateBudget(limit=requests_per_minute)
        #: Seconds spent waiting in :meth:`acquire` (measured by tests and the bench).
        self.waited = 0.0

    def __repr__(self) -> str:
        return (
            f"RequestBudget(key={self.fingerprint}, limit={self.limit}, "
            f"in_window={len(self._sent)})"
        )

    def _delay(self, now: float) -> float:
        """0 and a slot taken, or how long to wait before trying again."""
        with self._lock:
            if now < self._paused_until:
                return self._paused_until - now
            # The gateway counts a request when it arrives, a little after we stamp it:
            # a small margin keeps our window from freeing a slot before the gateway's does.
            horizon = now - self.window * 1.02 - 0.01
            while self._sent and self._sent[0] <= horizon:
                self._sent.popleft()
            if len(self._sent) < self.limit:
                self._sent.append(now)
                return 0.0
            return max(self._sent[0] - horizon, 0.001)

    async def acquire(self) -> None:
        """Wait until one more request fits in the window, and count it."""
        while True:
            delay = self._delay(time.monotonic())
            if delay <= 0:
                return
            self.waited += delay
            await asyncio.sleep(delay)

    def observe(self, limit: int | None, remaining: int | None, plan: str | None) -> None:
        """Fold in the ``X-RateLimit-*`` headers of a response."""
        with self._lock:
            self.last = RateBudget(limit=limit, remaining=remaining, plan=plan)
            if limit is not None and 0 < limit < self.limit:
                # The plan is smaller than configured: the gateway is right.
                self.limit = limit
            if remaining is None:
                return
            # Other programs on the same key use the window too: count their requests as
            # ours, sent now, so our view is never more generous than the gateway's.
            now = time.monotonic()
            while self.limit - len(self._sent) > max(remaining, 0):
                self._sent.append(now)

    def pause(self, seconds: float) -> None:
        """A 429 said when to come back: everyone on this key waits, then the window restarts."""
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + max(seconds, 0.0))
            # Retry-After is the gateway's exact answer; our estimate of the window is stale.
            self._sent.clear()


_REGISTRY: dict[str, RequestBudget] = {}
_REGISTRY_LOCK = threading.Lock()


def budget_for(base_url: str, api_key: str, requests_per_minute: int) -> RequestBudget:
    """The one budget of this key on this gateway, created on first use."""
    fingerprint = key_fingerprint(base_url, api_key)
    with _REGISTRY_LOCK:
        budget = _REGISTRY.get(fingerprint)
        if budget is None:
            budget = _REGISTRY[fingerprint] = RequestBudget(fingerprint, requests_per_minute)
        return budget
