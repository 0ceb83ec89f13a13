"""Typed gateway errors. ``str()`` of each is a sentence a chatter can act on.

The provider's own ``message`` is kept (it names the bad field on a 400), but the API key never
appears in any of them: the client scrubs it before an error is built.
"""

from __future__ import annotations


class ApiError(Exception):
    """Something went wrong talking to the gateway."""

    #: What the chatter reads before the provider's own words.
    summary = "the gateway answered with an error"

    def __init__(
        self, message: str = "", *, status: int | None = None, route: str | None = None
    ) -> None:
        self.message = message
        self.status = status
        self.route = route
        #: How many times the request was sent before this error (retries included).
        self.attempts = 1
        super().__init__(message)

    def __str__(self) -> str:
        status = f" ({self.status})" if self.status is not None else ""
        detail = f": {self.message}" if self.message else ""
        return f"{self.summary}{status}{detail}."

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, route={self.route!r})"


class AuthError(ApiError):
    summary = "the gateway refused the API key"

    def __str__(self) -> str:
        hint = (
            "the key has no permission for this"
            if self.status == 403
            else "check the key in your config or in FANSLY_API_KEY"
        )
        return f"{self.summary} ({self.status}): {hint}."


class NotFoundError(ApiError):
    summary = "the gateway does not know this account, chat or message"


class InvalidRequestError(ApiError):
    """A 400 from the gateway, or a request the client refused before sending it."""

    summary = "the request was refused"


class RateLimitedError(ApiError):
    summary = "too many requests for this API key"

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = 429,
        route: str | None = None,
        retry_after: float = 0.0,
    ) -> None:
        super().__init__(message, status=status, route=route)
        self.retry_after = retry_after

    def __str__(self) -> str:
        return f"{self.summary}; the gateway asks to wait {self.retry_after:g} s."


class InsufficientCreditsError(ApiError):
    summary = "the API plan has run out of credits this month; top up in the gateway dashboard"

    def __str__(self) -> str:
        return f"{self.summary} ({self.status})."


class CreditBudgetReached(ApiError):
    """Refused by the console itself before sending (nothing left this machine): the credit
    budget (``[budget]`` in the config) or a 402 earlier this month says no.

    ``kind``: "background" (background work at the budget minus the reserve), "budget" (every
    call at the budget itself) or "paused" (the gateway answered 402 this month)."""

    summary = "the credit budget is spent"

    def __init__(self, message: str = "", *, kind: str = "budget", route: str | None = None):
        super().__init__(message, status=None, route=route)
        self.kind = kind

    def __str__(self) -> str:
        return self.message or f"{self.summary}."


class ServerError(ApiError):
    summary = "the gateway failed"


class RequestTimeout(ApiError):
    """No answer in time. For a send, the gateway may have applied it anyway."""

    summary = "the gateway did not answer in time"

    def __init__(
        self, message: str = "", *, route: str | None = None, outcome_unknown: bool = False
    ) -> None:
        super().__init__(message, status=None, route=route)
        self.outcome_unknown = outcome_unknown

    def __str__(self) -> str:
        if self.outcome_unknown:
            return f"{self.summary}; it may or may not have been done — check before retrying."
        return f"{self.summary}."


class ConnectionLost(RequestTimeout):
    """The connection dropped after the request left: same uncertainty as a timeout."""

    summary = "the connection to the gateway dropped"


class GatewayUnreachable(ApiError):
    """Connection refused, DNS failure, or no free connection: nothing was sent."""

    summary = "cannot reach the gateway"

    def __str__(self) -> str:
        detail = f" ({self.message})" if self.message else ""
        return f"{self.summary}{detail}; nothing was sent."


class ProviderError(ApiError):
    """A 2xx that does not carry what it should: ``success=false`` or no payload."""

    summary = "Fansly returned an error through the gateway"

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = None,
        route: str | None = None,
        code: str | int | None = None,
    ) -> None:
        super().__init__(message, status=status, route=route)
        self.code = code


def error_for_status(
    status: int, message: str, *, route: str | None, retry_after: float = 0.0
) -> ApiError:
    """The typed error for a non-2xx HTTP status."""
    if status in (401, 403):
        return AuthError(message, status=status, route=route)
    if status == 402:
        return InsufficientCreditsError(message, status=status, route=route)
    if status == 404:
        return NotFoundError(message, status=status, route=route)
    if status == 429:
        return RateLimitedError(message, status=status, route=route, retry_after=retry_after)
    if status >= 500:
        return ServerError(message, status=status, route=route)
    if 400 <= status < 500:
        return InvalidRequestError(message, status=status, route=route)
    return ProviderError(message or "unexpected status", status=status, route=route)
