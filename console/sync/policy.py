"""How the sync layer reacts to failures: which errors are worth retrying, and when.

Kept free of I/O so the outbox, the backfill and the connectivity probe share one policy and
it can be tested without a gateway.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from console.api.errors import (
    ApiError,
    GatewayUnreachable,
    ProviderError,
    RateLimitedError,
    RequestTimeout,
    ServerError,
)


class Outcome(StrEnum):
    """What a failed delivery means for the queued action."""

    #: Nothing was done (or doing it again is harmless): try again later.
    RETRY = "retry"
    #: The gateway may have applied it: look before doing it again.
    UNKNOWN = "unknown"
    #: The gateway refused it; retrying cannot help. Shown to the chatter as failed.
    FAILED = "failed"


def classify(exc: BaseException, *, idempotent: bool) -> Outcome:
    """Sort a delivery failure into retry / unknown / failed.

    A timeout of a non-idempotent call (a send) is UNKNOWN: resending blindly could deliver
    the message twice. Likes, pins and mutes set a state, so repeating them is harmless.
    """
    if isinstance(exc, RequestTimeout):
        if exc.outcome_unknown and not idempotent:
            return Outcome.UNKNOWN
        return Outcome.RETRY
    if isinstance(exc, GatewayUnreachable | RateLimitedError | ServerError):
        return Outcome.RETRY
    if isinstance(exc, ProviderError):
        # An upstream 5xx inside a 2xx is Fansly having a bad moment; a 4xx is a refusal.
        status = exc.status or 0
        return Outcome.RETRY if status >= 500 or status == 429 else Outcome.FAILED
    if isinstance(exc, ApiError):
        return Outcome.FAILED
    # Anything else (a bug, an unexpected exception from the HTTP stack) must not loop
    # forever on a chatter's message: it is surfaced as failed and can be retried by hand.
    return Outcome.FAILED


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with jitter: ``base * factor**attempt``, capped, minus up to
    ``jitter`` of it at random so that many queued items do not retry in lock-step."""

    base: float = 0.5
    factor: float = 2.0
    cap: float = 60.0
    jitter: float = 0.5

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before attempt number ``attempt + 1`` (``attempt`` counts from 0)."""
        raw = min(self.cap, self.base * self.factor ** max(0, attempt))
        spread = (rng or random).random() * self.jitter
        return raw * (1.0 - spread)

    def delay_for(
        self, exc: BaseException, attempt: int, rng: random.Random | None = None
    ) -> float:
        """Like :meth:`delay`, but never sooner than a 429's ``retry-after``."""
        wait = self.delay(attempt, rng)
        if isinstance(exc, RateLimitedError):
            wait = max(wait, exc.retry_after)
        return wait
