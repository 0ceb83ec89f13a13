"""The request budget's arithmetic and the errors' wording, without a network."""

from __future__ import annotations

import time

import pytest

from console.api.budget import RequestBudget, budget_for, key_fingerprint
from console.api.errors import (
    ApiError,
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
    error_for_status,
)


async def test_budget_waits_only_when_the_window_is_full() -> None:
    budget = RequestBudget("test", 3, window=0.2)
    for _ in range(3):
        await budget.acquire()
    assert budget.waited == 0
    started = time.monotonic()
    await budget.acquire()
    assert time.monotonic() - started >= 0.19
    assert budget.waited > 0


async def test_budget_trusts_the_gateway_when_it_is_stricter() -> None:
    budget = RequestBudget("test", 600, window=0.2)
    budget.observe(limit=5, remaining=1, plan="Starter")
    assert budget.limit == 5
    assert budget.last.remaining == 1 and budget.last.plan == "Starter"
    await budget.acquire()  # the one request the gateway still allows
    assert budget.waited == 0
    await budget.acquire()  # the next waits for the window to move
    assert budget.waited > 0


async def test_pause_holds_everyone_until_retry_after() -> None:
    budget = RequestBudget("test", 600)
    budget.pause(0.15)
    started = time.monotonic()
    await budget.acquire()
    assert time.monotonic() - started >= 0.14


def test_registry_is_keyed_by_a_fingerprint_not_the_key() -> None:
    key = "sk_live_registry_secret"
    first = budget_for("http://gw.test/api/fansly", key, 600)
    assert budget_for("http://gw.test/api/fansly/", key, 600) is first
    assert budget_for("http://other.test/api/fansly", key, 600) is not first
    assert first.fingerprint == key_fingerprint("http://gw.test/api/fansly", key)
    assert key not in repr(first) and key not in repr(vars(first))
    with pytest.raises(ValueError):
        RequestBudget("x", 0)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, InvalidRequestError),
        (401, AuthError),
        (402, InsufficientCreditsError),
        (403, AuthError),
        (404, NotFoundError),
        (409, InvalidRequestError),
        (429, RateLimitedError),
        (500, ServerError),
        (503, ServerError),
    ],
)
def test_status_maps_to_a_typed_error(status: int, kind: type[ApiError]) -> None:
    error = error_for_status(status, "Provider words", route="list_chats", retry_after=2)
    assert type(error) is kind
    assert error.status == status
    text = str(error)
    assert text[0].islower() and text.endswith(".")
    assert "Traceback" not in text and "list_chats" not in text


def test_error_sentences_a_chatter_understands() -> None:
    assert str(AuthError("Unauthorized", status=401)) == (
        "the gateway refused the API key (401): check the key in your config or in FANSLY_API_KEY."
    )
    assert str(InvalidRequestError("content is required", status=400)) == (
        "the request was refused (400): content is required."
    )
    assert "wait 3 s" in str(RateLimitedError(retry_after=3))
    assert "may or may not" in str(RequestTimeout(outcome_unknown=True))
    assert str(RequestTimeout()) == "the gateway did not answer in time."
    assert "dropped" in str(ConnectionLost(outcome_unknown=True))
    assert "nothing was sent" in str(GatewayUnreachable("connection refused"))
    assert "Fansly returned an error" in str(ProviderError("blocked", status=403))
    assert repr(ServerError("x", status=502, route="me")) == "ServerError(status=502, route='me')"
