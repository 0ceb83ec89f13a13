"""The one async client of the Fansly API gateway.

Speaks HTTP/1.1 keep-alive through ``httpx.AsyncClient``; every call goes through
:meth:`FanslyClient._call`, which waits for the key's request budget, unwraps the envelope
(§3), turns failures into typed errors (§4), honours 429 (§5) and retries what is safe to
retry. A send or a create is never resent blindly: after a timeout its outcome is unknown and
the caller is told so (:class:`RequestTimeout` with ``outcome_unknown=True``).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import httpx
from pydantic import ValidationError

from console import __version__
from console.api import parse
from console.api.budget import RequestBudget, budget_for
from console.api.credits import CreditMeter, call_credits, feature_of
from console.api.errors import (
    ApiError,
    ConnectionLost,
    GatewayUnreachable,
    InvalidRequestError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
    RequestTimeout,
    error_for_status,
)
from console.api.models import (
    MAX_MESSAGE_LENGTH,
    Account,
    AutomatedMessage,
    Chat,
    Earnings,
    Fan,
    FanList,
    Message,
    RateBudget,
    Subscription,
    VaultAlbum,
    VaultMedia,
    ppv_price_problem,
)
from console.api.routes import ROUTES, Route
from console.api.timing import TimeSplit

if TYPE_CHECKING:
    from console.config import Settings

T = TypeVar("T")

ChatFilter = Literal["all", "vips", "followers", "subscribers"]
ChatSort = Literal["newest", "oldest", "unread"]
SubscriberStatus = Literal["all", "active", "expired"]

MESSAGES_PAGE_MAX = 10  # the gateway clamps message pages to 1–10 (§10.1)
_RETRY_AFTER_DEFAULT = 1.0
_BACKOFF_CAP = 8.0


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a cursor-paged list; ``next_cursor`` is ``None`` on the last page."""

    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the client kept of a response: the payload and the list cursor, if any."""

    payload: Any
    next_cursor: str | None = None
    status: int = 200
    extra: Mapping[str, Any] = field(default_factory=dict)


def _header_int(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def _retry_after(headers: httpx.Headers) -> float:
    for name in ("X-RateLimit-Retry-After", "Retry-After"):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(float(value), 0.0)
        except ValueError:
            continue
    return _RETRY_AFTER_DEFAULT


def _cursor(value: Any) -> str | None:
    if value is None or value == "" or value == 0:
        return None
    return str(value)


class FanslyClient:
    """Async client of one API key on one gateway. Use as ``async with FanslyClient(...)``."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        requests_per_minute: int = 600,
        timeout: float = 20.0,
        transport: httpx.AsyncBaseTransport | None = None,
        max_retries: int = 3,
        retry_backoff: float = 0.25,
        max_rate_limit_waits: int = 6,
    ) -> None:
        if not api_key:
            raise ValueError("an API key is required")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry_backoff = retry_backoff
        self.max_rate_limit_waits = max_rate_limit_waits
        self.budget: RequestBudget = budget_for(self.base_url, api_key, requests_per_minute)
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._creator_ids: dict[str, str] = {}
        #: Requests sent (attempts, including retries) — for tests and the bench.
        self.requests_sent = 0
        #: Where the time goes: the rate limit, the gateway, or us (``sync`` reports it).
        self.timing = TimeSplit()
        #: Credits spent, by the rule of console/api/credits.py (a workspace shares one meter
        #: between its clients and keeps its figures in the cache).
        self.meter = CreditMeter()

    def __repr__(self) -> str:
        return f"FanslyClient(base_url={self.base_url!r}, key={self.budget.fingerprint})"

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> FanslyClient:
        self._open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _open(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                base_url=self.base_url,
                headers={
                    "x-api-key": self._api_key,
                    "accept": "application/json",
                    "user-agent": f"fansly-console/{__version__}",
                },
                timeout=httpx.Timeout(self.timeout),
                transport=self._transport,
                limits=httpx.Limits(max_connections=20, max_keepalive_connections=20),
                follow_redirects=False,
            )
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    @property
    def rate(self) -> RateBudget:
        """The latest ``X-RateLimit-*`` figures the gateway sent (for the status line)."""
        return self.budget.last

    # -- the one request path ----------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key in text else text

    def _backoff(self, attempt: int) -> float:
        base = min(self.retry_backoff * 2 ** (attempt - 1), _BACKOFF_CAP)
        return base * random.uniform(0.5, 1.5)

    async def _call(
        self,
        name: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        bill_to: str | None = None,
        **path: str,
    ) -> Envelope:
        route = ROUTES[name]
        url = route.url(**path)
        # Credits are counted against the account the call is for (``bill_to`` for the
        # routes whose path names none); "" is the API key itself (listing its accounts).
        account = path.get("account_id") or bill_to or ""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        http = self._open()
        attempts = 0
        rate_waits = 0
        while True:
            self.meter.check()  # nothing is sent past the credit budget
            with self.timing.held():
                await self.budget.acquire()
            attempts += 1
            self.requests_sent += 1
            error: ApiError
            try:
                with self.timing.in_flight():
                    response = await http.request(
                        route.method,
                        url,
                        params=query or None,
                        json=body if body is not None else None,
                    )
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # Nothing left this machine: safe to try again, whatever the call.
                error = GatewayUnreachable(self._describe(exc), route=name)
                retryable = True
            except httpx.TimeoutException:
                error = RequestTimeout(route=name, outcome_unknown=not route.idempotent)
                retryable = route.idempotent
            except httpx.TransportError as exc:
                error = ConnectionLost(
                    self._describe(exc), route=name, outcome_unknown=not route.idempotent
                )
                retryable = route.idempotent
            else:
                self._observe(response)
                status = response.status_code
                credits = call_credits(name, status, len(response.content))
                if credits:
                    self.meter.charge(account, feature_of(name), credits, len(response.content))
                if status == 402:
                    self.meter.exhausted()
                if status == 429:
                    retry_after = _retry_after(response.headers)
                    # 429 means "not applied": waiting and resending is safe for every call.
                    self.budget.pause(retry_after)
                    rate_waits += 1
                    if rate_waits > self.max_rate_limit_waits:
                        raise self._error(response, route, attempts, retry_after)
                    continue
                if 200 <= status < 300:
                    return self._unwrap(route, response)
                error = self._error(response, route, attempts)
                retryable = status >= 500 and route.idempotent
            error.attempts = attempts
            if not retryable or attempts > self.max_retries:
                raise error
            with self.timing.in_flight():
                await asyncio.sleep(self._backoff(attempts))

    def _describe(self, exc: Exception) -> str:
        text = str(exc) or type(exc).__name__
        return self._scrub(text)

    def _observe(self, response: httpx.Response) -> None:
        headers = response.headers
        limit = _header_int(headers, "X-RateLimit-Limit")
        remaining = _header_int(headers, "X-RateLimit-Remaining")
        if limit is None and remaining is None:
            return
        self.budget.observe(limit, remaining, headers.get("X-RateLimit-Plan"))

    def _error(
        self, response: httpx.Response, route: Route, attempts: int, retry_after: float = 0.0
    ) -> ApiError:
        message = response.reason_phrase
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, Mapping) and isinstance(body.get("message"), str):
            message = body["message"]
        error = error_for_status(
            response.status_code, self._scrub(message), route=route.name, retry_after=retry_after
        )
        error.attempts = attempts
        return error

    def _unwrap(self, route: Route, response: httpx.Response) -> Envelope:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            raise ProviderError("the answer is not JSON", status=status, route=route.name) from None
        data = body.get("data") if isinstance(body, Mapping) else None
        if not route.nested:
            if data is None:
                raise ProviderError("the answer carries no data", status=status, route=route.name)
            return Envelope(data, None, status)
        if not isinstance(data, Mapping) or not isinstance(data.get("data"), Mapping):
            raise ProviderError(
                "the answer carries no Fansly payload", status=status, route=route.name
            )
        inner: Mapping[str, Any] = data["data"]
        upstream = data.get("status_code")
        failed = inner.get("success") is False or (isinstance(upstream, int) and upstream >= 400)
        if failed:
            problem = inner.get("error")
            message, code = "", None
            if isinstance(problem, Mapping):
                message = str(problem.get("message") or "")
                code = problem.get("code")
            elif isinstance(problem, str):
                message = problem
            raise ProviderError(
                self._scrub(message or "the request failed upstream"),
                status=upstream if isinstance(upstream, int) else status,
                route=route.name,
                code=code,
            )
        if "response" not in inner:
            raise ProviderError("the answer carries no response", status=status, route=route.name)
        return Envelope(inner["response"], _cursor(data.get("nextCursor")), status, data)

    # -- paging ------------------------------------------------------------------------------

    @staticmethod
    async def _walk(fetch: Callable[[str | None], Awaitable[Page[T]]]) -> AsyncIterator[T]:
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            page = await fetch(cursor)
            for item in page.items:
                yield item
            if not page.items or page.next_cursor is None:
                return
            if page.next_cursor in seen:
                raise ProviderError("the gateway sent the same page cursor twice")
            seen.add(page.next_cursor)
            cursor = page.next_cursor

    # -- accounts ----------------------------------------------------------------------------

    async def list_accounts(self) -> list[Account]:
        """The creator accounts connected to this key (one tab each)."""
        return parse.accounts((await self._call("list_accounts")).payload)

    async def me(self, account_id: str) -> Fan:
        """The creator's own Fansly profile (its ``id`` tells the creator's messages apart)."""
        creator = parse.me((await self._call("me", account_id=account_id)).payload)
        self._creator_ids[account_id] = creator.id
        return creator

    async def creator_id(self, account_id: str) -> str:
        """The creator's native id, fetched once per account."""
        if account_id not in self._creator_ids:
            await self.me(account_id)
        return self._creator_ids[account_id]

    async def accounts_by_ids(
        self, ids: Sequence[str], *, account_id: str | None = None
    ) -> list[Fan]:
        """Fan profiles by native id (``account_id``: the account whose credits they cost)."""
        if not ids:
            return []
        envelope = await self._call(
            "accounts_by_ids", params={"ids": ",".join(ids)}, bill_to=account_id
        )
        rows = envelope.payload
        if isinstance(rows, Mapping):  # some shapes wrap the list
            rows = rows.get("accounts", rows.get("data"))
        if not isinstance(rows, list):
            raise ProviderError("expected a list of accounts", route="accounts_by_ids")
        return [parse.profile(row) for row in rows]

    # -- chats -------------------------------------------------------------------------------

    async def chats_page(
        self,
        account_id: str,
        *,
        cursor: str | None = None,
        filter: ChatFilter = "all",
        sort: ChatSort = "newest",
        search: str | None = None,
        limit: int | None = None,
        tier_id: str | None = None,
    ) -> Page[Chat]:
        envelope = await self._call(
            "list_chats",
            account_id=account_id,
            params={
                "cursor": cursor,
                "filter": filter,
                "sort": sort,
                "search": search or None,
                "limit": limit,
                "subscriptionTierId": tier_id,
            },
        )
        return Page(parse.chats(envelope.payload, account_id), envelope.next_cursor)

    def iter_chats(
        self,
        account_id: str,
        *,
        filter: ChatFilter = "all",
        sort: ChatSort = "newest",
        search: str | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[Chat]:
        """Every chat of the account, page after page."""

        async def fetch(cursor: str | None) -> Page[Chat]:
            return await self.chats_page(
                account_id, cursor=cursor, filter=filter, sort=sort, search=search, limit=limit
            )

        return self._walk(fetch)

    async def unread_chats_page(self, account_id: str, *, cursor: str | None = None) -> Page[Chat]:
        envelope = await self._call(
            "unread_chats", account_id=account_id, params={"cursor": cursor}
        )
        return Page(parse.chats(envelope.payload, account_id), envelope.next_cursor)

    def unread_chats(self, account_id: str) -> AsyncIterator[Chat]:
        """Chats with unread messages, page after page."""

        async def fetch(cursor: str | None) -> Page[Chat]:
            return await self.unread_chats_page(account_id, cursor=cursor)

        return self._walk(fetch)

    async def get_chat(self, account_id: str, chat_id: str) -> Chat:
        """One chat (an emulator-only route: the provider has none)."""
        envelope = await self._call("get_chat", account_id=account_id, chat_id=chat_id)
        creator = await self.creator_id(account_id)
        fan: Fan | None = None
        partner = parse.group_partner(envelope.payload, creator)
        if partner is not None and not envelope.payload.get("partnerUsername"):
            found = await self.accounts_by_ids([partner], account_id=account_id)
            fan = found[0] if found else None
        return parse.group(envelope.payload, account_id, creator, fan)

    async def set_read_receipts(self, account_id: str, chat_id: str, enabled: bool) -> None:
        """Whether the fan can see that the creator read their messages (§9.4)."""
        await self._call(
            "read_receipts",
            account_id=account_id,
            chat_id=chat_id,
            body={"action": "enable" if enabled else "disable"},
        )

    async def mute(self, account_id: str, fan_id: str) -> None:
        await self._call("mute_chat", account_id=account_id, body={"targetUserId": fan_id})

    async def unmute(self, account_id: str, fan_id: str) -> None:
        await self._call("unmute_chat", account_id=account_id, body={"targetUserId": fan_id})

    async def typing(self, account_id: str, chat_id: str) -> None:
        """Show the typing indicator to the fan for about five seconds."""
        await self._call("typing", account_id=account_id, body={"chatId": chat_id})

    # -- messages ----------------------------------------------------------------------------

    async def messages_page(
        self, account_id: str, chat_id: str, *, cursor: str | None = None, limit: int = 10
    ) -> Page[Message]:
        """Newest first; ``next_cursor`` fetches older messages."""
        envelope = await self._call(
            "list_messages",
            account_id=account_id,
            chat_id=chat_id,
            params={"cursor": cursor, "limit": max(1, min(limit, MESSAGES_PAGE_MAX))},
        )
        items, older = parse.messages(envelope.payload, chat_id)
        return Page(items, older)

    def iter_messages(
        self, account_id: str, chat_id: str, *, limit: int = 10
    ) -> AsyncIterator[Message]:
        """A chat's whole history, newest first."""

        async def fetch(cursor: str | None) -> Page[Message]:
            return await self.messages_page(account_id, chat_id, cursor=cursor, limit=limit)

        return self._walk(fetch)

    async def send_message(
        self,
        account_id: str,
        chat_id: str,
        content: str,
        *,
        media_ids: Sequence[str] | None = None,
        reply_to: str | None = None,
        price_dollars: float | None = None,
        preview_id: str | None = None,
    ) -> Message:
        """Send a message, with vault media (free, or a PPV at ``price_dollars``, §10.2).
        Never resent on its own: a timeout leaves its outcome unknown."""
        if not content.strip() and not media_ids:
            raise InvalidRequestError("the message is empty", route="send_message")
        if price_dollars is not None:
            problem = ppv_price_problem(price_dollars)
            if problem or not media_ids:
                raise InvalidRequestError(problem or "a PPV needs media", route="send_message")
        if len(content) > MAX_MESSAGE_LENGTH:
            raise InvalidRequestError(
                f"the message is longer than {MAX_MESSAGE_LENGTH} characters", route="send_message"
            )
        body: dict[str, Any] = {"content": content}
        if media_ids:
            refs: list[Any] = list(media_ids)
            if preview_id:
                # The free preview rides with the first item (§10.2's object form).
                refs[0] = {"mediaId": refs[0], "previewId": preview_id}
            body["mediaIds"] = refs
        if price_dollars is not None:
            body["access_type"] = ["ppv"]
            body["price"] = price_dollars
        if reply_to:
            body["inReplyTo"] = reply_to  # ASSUMED field name (§10.2)
        envelope = await self._call(
            "send_message", account_id=account_id, chat_id=chat_id, body=body
        )
        sent = parse.message(envelope.payload, chat_id)
        if price_dollars is not None and media_ids:
            # The answer is the message alone (no accountMedia): the price is what we asked.
            price = round(price_dollars * 1000)
            for attachment in sent.attachments:
                if attachment.content_id in media_ids:
                    attachment.price_millis = price
        return sent

    async def unsend_message(self, account_id: str, message_id: str) -> None:
        """Delete one of the creator's own messages (§10.3). A message already gone counts as
        unsent: a repeat after a lost answer must not fail."""
        with contextlib.suppress(NotFoundError):
            await self._call("unsend_message", account_id=account_id, message_id=message_id)

    async def like_message(self, account_id: str, message_id: str, type: int = 1) -> None:
        await self._call(
            "like_message", account_id=account_id, body={"messageId": message_id, "type": type}
        )

    async def unlike_message(self, account_id: str, message_id: str, type: int = 1) -> None:
        await self._call(
            "unlike_message", account_id=account_id, body={"messageId": message_id, "type": type}
        )

    async def pin_message(self, account_id: str, chat_id: str, message_id: str) -> bool:
        """Pin (an ASSUMED route, §10.5); returns whether the message is now pinned."""
        return await self._pin("pin_message", account_id, chat_id, message_id, True)

    async def unpin_message(self, account_id: str, chat_id: str, message_id: str) -> bool:
        return await self._pin("unpin_message", account_id, chat_id, message_id, False)

    async def _pin(
        self, name: str, account_id: str, chat_id: str, message_id: str, expected: bool
    ) -> bool:
        envelope = await self._call(
            name, account_id=account_id, body={"messageId": message_id, "chatId": chat_id}
        )
        payload = envelope.payload
        if isinstance(payload, Mapping) and "pinned" in payload:
            return bool(payload["pinned"])
        return expected

    # -- the vault (§15, shapes ASSUMED) -------------------------------------------------------

    async def vault_albums(self, account_id: str) -> list[VaultAlbum]:
        envelope = await self._call("vault_albums", account_id=account_id)
        return parse.vault_albums(envelope.payload)

    async def vault_media_page(
        self, account_id: str, album_id: str, *, cursor: str | None = None, limit: int = 100
    ) -> Page[VaultMedia]:
        envelope = await self._call(
            "vault_media",
            account_id=account_id,
            album_id=album_id,
            params={"cursor": cursor, "limit": max(1, min(limit, 100))},
        )
        return Page(parse.vault_page(envelope.payload), envelope.next_cursor)

    def iter_vault_media(
        self, account_id: str, album_id: str, *, limit: int = 100
    ) -> AsyncIterator[VaultMedia]:
        """An album's items, newest first."""

        async def fetch(cursor: str | None) -> Page[VaultMedia]:
            return await self.vault_media_page(account_id, album_id, cursor=cursor, limit=limit)

        return self._walk(fetch)

    # -- fans --------------------------------------------------------------------------------

    async def subscribers_page(
        self,
        account_id: str,
        *,
        status: SubscriberStatus = "all",
        search: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[Subscription]:
        envelope = await self._call(
            "list_subscribers",
            account_id=account_id,
            params={"status": status, "search": search or None, "cursor": cursor, "limit": limit},
        )
        return Page(parse.subscriptions(envelope.payload), envelope.next_cursor)

    def iter_subscribers(
        self,
        account_id: str,
        *,
        status: SubscriberStatus = "all",
        search: str | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[Subscription]:
        async def fetch(cursor: str | None) -> Page[Subscription]:
            return await self.subscribers_page(
                account_id, status=status, search=search, cursor=cursor, limit=limit
            )

        return self._walk(fetch)

    async def fan_earnings(self, account_id: str, fan_id: str) -> Earnings:
        """A fan's lifetime spend: totals, by source, tips and history (three routes)."""
        totals, stats, tips = await asyncio.gather(
            self._call("fan_earnings", account_id=account_id, fan_id=fan_id),
            self._call("fan_earnings_stats", account_id=account_id, fan_id=fan_id),
            self._call("fan_tips", account_id=account_id, fan_id=fan_id),
        )
        return parse.earnings(fan_id, totals.payload, stats.payload, tips.payload)

    async def lists(self, account_id: str, *, fan_id: str | None = None) -> list[FanList]:
        """The creator's lists, or only those ``fan_id`` is on (an emulator-only route)."""
        envelope = await self._call("list_lists", account_id=account_id, params={"userId": fan_id})
        return parse.fan_lists(envelope.payload)

    async def add_to_list(self, account_id: str, fan_id: str, list_id: str) -> None:
        await self._call(
            "add_to_list", account_id=account_id, body={"userId": fan_id, "listId": list_id}
        )

    async def remove_from_list(self, account_id: str, fan_id: str, list_id: str) -> None:
        await self._call(
            "remove_from_list", account_id=account_id, body={"userId": fan_id, "listId": list_id}
        )

    # -- automated messages ------------------------------------------------------------------

    async def automated_messages(self, account_id: str) -> list[AutomatedMessage]:
        envelope = await self._call("list_automated", account_id=account_id)
        payload = envelope.payload
        if not isinstance(payload, list):
            raise ProviderError("expected a list of automated messages", route="list_automated")
        return [parse.automated_message(row) for row in payload]

    async def create_automated_message(
        self, account_id: str, rule: AutomatedMessage
    ) -> AutomatedMessage:
        """Create a rule; it is checked again here since models allow edits after creation."""
        try:
            checked = AutomatedMessage.model_validate(rule.model_dump())
        except ValidationError as exc:
            reason = str(exc.errors()[0].get("msg", "invalid rule"))
            reason = reason.removeprefix("Value error, ")
            raise InvalidRequestError(reason, route="create_automated") from None
        envelope = await self._call(
            "create_automated", account_id=account_id, body=checked.to_request()
        )
        return parse.automated_message(envelope.payload)

    async def delete_automated_message(self, account_id: str, rule_id: str) -> None:
        try:
            await self._call("delete_automated", account_id=account_id, rule_id=rule_id)
        except NotFoundError as exc:
            # A retried delete whose first try was applied finds nothing: that is success.
            if exc.attempts <= 1:
                raise


def client_from_settings(settings: Settings, profile_name: str | None = None) -> FanslyClient:
    """A client for one profile; :class:`ConfigError` when it has no API key."""
    from console import paths
    from console.config import ConfigError

    name = profile_name or settings.default_profile
    profile = settings.profile(name)
    if profile.api_key is None or not profile.api_key.get_secret_value():
        raise ConfigError(
            f"no API key is configured for profile {name!r}.\n"
            f"Set FANSLY_API_KEY, or api_key under [profiles.{name}] in {paths.config_file()}."
        )
    return FanslyClient(
        profile.base_url,
        profile.api_key.get_secret_value(),
        requests_per_minute=profile.requests_per_minute,
        timeout=profile.timeout_seconds,
    )


__all__ = [
    "ApiError",
    "Envelope",
    "FanslyClient",
    "Page",
    "RateLimitedError",
    "client_from_settings",
]
