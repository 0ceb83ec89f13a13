"""The gateway's plumbing around the routes: envelope, errors, rate limit, credits, faults."""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.responses import JSONResponse

RATE_LIMIT_MESSAGE = "Rate limit exceeded. Please wait before making more requests."
STATUS_TEXT = {
    200: "Success",
    201: "Created",
    400: "Invalid request parameters",
    401: "Unauthorized",
    402: "Insufficient credits",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    429: RATE_LIMIT_MESSAGE,
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class ApiError(Exception):
    """Answered as the §3.1 envelope with ``data: null``."""

    def __init__(self, status: int, message: str | None = None) -> None:
        super().__init__(message or STATUS_TEXT.get(status, "Error"))
        self.status = status
        self.message = message or STATUS_TEXT.get(status, "Error")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def envelope(status: int, data: Any, message: str | None = None) -> JSONResponse:
    body = {
        "statusCode": status,
        "message": message or STATUS_TEXT.get(status, "Success"),
        "data": data,
        "timestamp": now_iso(),
    }
    return JSONResponse(body, status_code=status)


def nested(response: Any, *, next_cursor: str | None = None, status: int = 200) -> dict[str, Any]:
    """The §3.2 layer: Fansly's own ``{success, response}`` under ``data``."""
    data: dict[str, Any] = {
        "status_code": status,
        "data": {"success": True, "response": response},
    }
    if next_cursor is not None:
        data["nextCursor"] = next_cursor
    return data


def provider_failure() -> dict[str, Any]:
    """A 2xx from the gateway carrying an upstream (Fansly) failure."""
    return {
        "status_code": 502,
        "data": {
            "success": False,
            "response": None,
            "error": {"code": 502, "message": "Upstream Fansly request failed"},
        },
    }


def plan_name(requests_per_minute: int) -> str:
    if requests_per_minute <= 600:
        return "Starter"
    if requests_per_minute <= 1000:
        return "Pro"
    return "Enterprise"


class SlidingWindow:
    """Per-key one-minute sliding window (§5.1)."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str) -> tuple[bool, int, int]:
        """Count one request: (allowed, remaining, retry-after seconds)."""
        now = time.monotonic()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            retry = max(1, math.ceil(hits[0] + self.window - now))
            return False, 0, retry
        hits.append(now)
        return True, self.limit - len(hits), 0

    def remaining(self, key: str) -> int:
        now = time.monotonic()
        hits = self._hits.get(key, deque())
        return max(0, self.limit - sum(1 for t in hits if t > now - self.window))


@dataclass
class Fault:
    """A one-shot fault for the next request to ``route``."""

    route: str
    status: int | None = None
    delay_after_apply: float = 0.0
    delay_before: float = 0.0
    provider_failure: bool = False


FAULT_RATES = (
    "latency_ms",
    "error_rate",
    "provider_failure_rate",
    "webhook_duplicate_rate",
    "webhook_out_of_order_rate",
)


@dataclass
class Faults:
    """Emulator-only fault injection (``/_sandbox/faults``)."""

    rates: dict[str, float] = field(default_factory=lambda: dict.fromkeys(FAULT_RATES, 0.0))
    queue: list[Fault] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random)

    def configure(self, body: dict[str, Any]) -> None:
        if body.get("reset"):
            self.reset()
        for name in FAULT_RATES:
            if name in body:
                value = body[name]
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    raise ApiError(400, f"{name} must be a number ≥ 0")
                if name != "latency_ms" and value > 1:
                    raise ApiError(400, f"{name} must be between 0 and 1")
                self.rates[name] = float(value)
        for item in body.get("next") or []:
            if not isinstance(item, dict) or not isinstance(item.get("route"), str):
                raise ApiError(400, "next entries need a route")
            status = item.get("status")
            if status is not None and (not isinstance(status, int) or not 400 <= status <= 599):
                raise ApiError(400, "status must be an HTTP error status")
            self.queue.append(
                Fault(
                    route=item["route"],
                    status=status,
                    delay_after_apply=float(item.get("delay_after_apply") or 0.0),
                    delay_before=float(item.get("delay_before") or 0.0),
                    provider_failure=bool(item.get("provider_failure")),
                )
            )

    def reset(self) -> None:
        self.rates = dict.fromkeys(FAULT_RATES, 0.0)
        self.queue.clear()

    def take(self, route: str) -> Fault | None:
        for index, fault in enumerate(self.queue):
            if fault.route == route:
                return self.queue.pop(index)
        return None

    def roll(self, name: str) -> bool:
        rate = self.rates.get(name, 0.0)
        return rate > 0 and self.rng.random() < rate

    async def latency(self) -> None:
        delay = self.rates.get("latency_ms", 0.0)
        if delay > 0:
            await asyncio.sleep(delay / 1000)

    def describe(self) -> dict[str, Any]:
        return {
            **self.rates,
            "next": [
                {
                    "route": f.route,
                    "status": f.status,
                    "delay_after_apply": f.delay_after_apply,
                    "delay_before": f.delay_before,
                    "provider_failure": f.provider_failure,
                }
                for f in self.queue
            ],
        }


@dataclass
class Usage:
    """What ``/_sandbox/stats`` reports."""

    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    #: Credits of this cycle's responses (webhook events are added by ``Gateway.credits_used``).
    credits_used: float = 0
    #: (account id, feature) → credits, this cycle.
    credits_by: dict[tuple[str, str], float] = field(default_factory=dict)
    #: Webhook events delivered before this cycle began (not billed in it).
    events_before: int = 0
    rate_limited: int = 0
