"""The sync layer's policies as plain code: failures sorted into retry, unknown and failed;
the backoff; finding a delivered copy of a send whose answer was lost."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from console.api.errors import (
    AuthError,
    ConnectionLost,
    GatewayUnreachable,
    InsufficientCreditsError,
    InvalidRequestError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
    RequestTimeout,
    ServerError,
)
from console.api.models import Message
from console.sync.policy import Backoff, Outcome, classify
from console.sync.reconcile import find_delivered


def test_classify_sorts_failures_into_retry_unknown_failed() -> None:
    assert classify(ServerError(status=500), idempotent=False) is Outcome.RETRY
    assert classify(RateLimitedError(retry_after=2), idempotent=False) is Outcome.RETRY
    assert classify(GatewayUnreachable("refused"), idempotent=False) is Outcome.RETRY
    assert classify(RequestTimeout(outcome_unknown=True), idempotent=False) is Outcome.UNKNOWN
    assert classify(ConnectionLost(outcome_unknown=True), idempotent=False) is Outcome.UNKNOWN
    assert classify(RequestTimeout(outcome_unknown=True), idempotent=True) is Outcome.RETRY
    for permanent in (
        InvalidRequestError("content is required", status=400),
        AuthError(status=401),
        AuthError(status=403),
        NotFoundError(status=404),
        InsufficientCreditsError("Insufficient credits", status=402),
        ProviderError("blocked", status=403),
    ):
        assert classify(permanent, idempotent=True) is Outcome.FAILED
    assert classify(ProviderError("upstream down", status=502), idempotent=True) is Outcome.RETRY


def test_backoff_grows_is_capped_jittered_and_honours_retry_after() -> None:
    policy = Backoff(base=1.0, factor=2.0, cap=10.0, jitter=0.5)
    rng = random.Random(1)
    delays = [policy.delay(attempt, rng) for attempt in range(8)]
    for attempt, delay in enumerate(delays):
        ceiling = min(10.0, 2.0**attempt)
        assert ceiling * 0.5 <= delay <= ceiling
    assert len({round(d, 6) for d in delays[5:]}) > 1  # jitter: capped delays still differ
    assert policy.delay_for(RateLimitedError(retry_after=30), 0, rng) == 30


def _msg(mid: str, content: str, sender: str, at: datetime, reply: str | None = None) -> Message:
    return Message(
        id=mid, chat_id="c", sender_id=sender, content=content, created_at=at, in_reply_to=reply
    )


def test_find_delivered_matches_only_an_unclaimed_creator_copy_after_enqueue() -> None:
    enqueued = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    old = _msg("100", "ok", "creator", enqueued - timedelta(hours=1))
    from_fan = _msg("101", "ok", "fan", enqueued + timedelta(seconds=1))
    first = _msg("102", "ok", "creator", enqueued + timedelta(seconds=2))
    second = _msg("103", "ok", "creator", enqueued + timedelta(seconds=5))
    other = _msg("104", "ok!", "creator", enqueued + timedelta(seconds=6))
    candidates = [other, second, first, from_fan, old]

    def find(taken: set[str], **extra: Any) -> Message | None:
        return find_delivered(
            candidates,
            content="ok",
            creator_id="creator",
            fan_id="fan",
            enqueued_at=enqueued,
            taken=taken,
            **extra,
        )

    assert find(set()) == first
    assert find({"102"}) == second  # two identical sends stay two messages
    assert find({"102", "103"}) is None  # never the hour-old "ok", never the fan's
    assert find(set(), reply_to="55") == first  # the gateway may not echo the reply field
    replied = _msg("105", "ok", "creator", enqueued + timedelta(seconds=7), reply="66")
    assert (
        find_delivered(
            [replied],
            content="ok",
            creator_id="creator",
            fan_id=None,
            enqueued_at=enqueued,
            taken=set(),
            reply_to="55",
        )
        is None
    )
