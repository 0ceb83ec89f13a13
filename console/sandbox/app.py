"""The gateway emulator as a Starlette app: every route of docs/gateway-contract.md.

Responses are built from the world's Fansly-shaped dicts, never from the client's models, so
the sandbox checks the client instead of mirroring it. Emulator-only extras live under
``/_sandbox/*`` (faults, stats, simulate) and ``/healthz``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from console.credit_rule import call_credits, feature_of, webhook_credits
from console.sandbox import validate
from console.sandbox.gateway import (
    ApiError,
    Faults,
    SlidingWindow,
    Usage,
    envelope,
    nested,
    plan_name,
    provider_failure,
)
from console.sandbox.world import (
    ACTIVE,
    EXPIRED,
    ChatState,
    CreatorState,
    World,
    automated_rule,
)

BASE_PATH = "/api/fansly"


class WebhookSink(Protocol):
    """What the app needs from the simulator (kept abstract to avoid an import cycle)."""

    duplicate_rate: float
    out_of_order_rate: float
    webhook_url: str | None
    rate_per_minute: float

    def emit(self, event: str, creator: CreatorState, data: dict[str, Any]) -> dict[str, Any]: ...

    def simulate(self, count: int, kinds: list[str] | None = None) -> list[dict[str, Any]]: ...

    def ppv_sent(self, creator: CreatorState, chat: ChatState, media_ids: list[str]) -> None:
        """The creator sent this fan a PPV: a simulated fan may open and buy it later."""

    def counters(self) -> dict[str, int]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class Call:
    """One authorised request, as a handler sees it."""

    request: Request
    creator: CreatorState | None
    body: dict[str, Any]

    @property
    def account(self) -> CreatorState:
        assert self.creator is not None
        return self.creator

    def param(self, name: str) -> str:
        return str(self.request.path_params[name])

    def query(self, name: str) -> str | None:
        value = self.request.query_params.get(name)
        return value if value not in (None, "") else None


Handler = Callable[["Gateway", Call], Awaitable[Response | Any]]


@dataclass
class RouteSpec:
    method: str
    path: str
    name: str
    handler: Handler
    scoped: bool = True
    status: int = 200


ROUTES: list[RouteSpec] = []


def route(
    method: str, path: str, name: str, *, scoped: bool = True, status: int = 200
) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES.append(RouteSpec(method, path, name, handler, scoped, status))
        return handler

    return register


class Gateway:
    """Shared state behind the routes: the world, the key, the budgets, the faults."""

    def __init__(
        self,
        world: World,
        *,
        api_key: str,
        requests_per_minute: int,
        credits: int | None,
        webhook: WebhookSink | None,
    ) -> None:
        self.world = world
        self.api_key = api_key
        self.requests_per_minute = requests_per_minute
        self.credits = credits
        self.webhook = webhook
        self.window = SlidingWindow(requests_per_minute)
        self.faults = Faults()
        self.usage = Usage()

    def rate_headers(self, key: str | None, remaining: int | None = None) -> dict[str, str]:
        if remaining is None:
            remaining = self.window.remaining(key) if key else self.requests_per_minute
        return {
            "X-RateLimit-Limit": str(self.requests_per_minute),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Plan": plan_name(self.requests_per_minute),
        }

    def authorised(self, request: Request) -> str | None:
        key = request.headers.get("x-api-key")
        if key and hmac.compare_digest(key.encode(), self.api_key.encode()):
            return key
        return None

    def credits_used(self) -> float:
        """This cycle's credits: every billed response, and the webhook events delivered
        (by the rule of console/api/credits.py, the one the client's meter uses)."""
        delivered = self.webhook.counters().get("delivered", 0) if self.webhook else 0
        return self.usage.credits_used + webhook_credits(delivered - self.usage.events_before)

    def new_cycle(self) -> None:
        """A new billing cycle: the allowance is whole again (no rollover, §5.2)."""
        self.usage.credits_used = 0
        self.usage.credits_by.clear()
        self.usage.events_before = (
            self.webhook.counters().get("delivered", 0) if self.webhook else 0
        )

    def emit(self, event: str, creator: CreatorState, data: dict[str, Any]) -> None:
        if self.webhook is not None:
            self.webhook.emit(event, creator, data)

    async def dispatch(self, spec: RouteSpec, request: Request) -> Response:
        key = self.authorised(request)
        if key is None:
            return _with(envelope(401, None, "Invalid or missing API key"), self.rate_headers(None))
        if spec.path.startswith("/_sandbox"):
            # Emulator controls are neither metered nor subject to faults.
            return await self._answer(spec, request, faults=False)
        allowed, remaining, retry = self.window.hit(key)
        if not allowed:
            self.usage.rate_limited += 1
            headers = self.rate_headers(key, 0)
            headers["X-RateLimit-Retry-After"] = str(retry)
            headers["Retry-After"] = str(retry)
            return _with(envelope(429, None), headers)
        headers = self.rate_headers(key, remaining)
        if self.credits is not None and self.credits_used() >= self.credits:
            return _with(envelope(402, None), headers)
        self.usage.requests[spec.name] += 1
        response = await self._answer(spec, request)
        self.usage.statuses[response.status_code] += 1
        # Billed after the answer, by its size: the same rule the client's meter counts by.
        credits = call_credits(spec.name, response.status_code, len(response.body))
        self.usage.credits_used += credits
        account = request.path_params.get("acc", "") if spec.scoped else ""
        by = (str(account), feature_of(spec.name))
        self.usage.credits_by[by] = self.usage.credits_by.get(by, 0) + credits
        return _with(response, headers)

    async def _answer(self, spec: RouteSpec, request: Request, *, faults: bool = True) -> Response:
        fault = self.faults.take(spec.name) if faults else None
        if faults:
            await self.faults.latency()
        if fault is not None and fault.delay_before:
            await asyncio.sleep(fault.delay_before)
        if fault is not None and fault.status is not None:
            return envelope(fault.status, None)
        if faults and self.faults.roll("error_rate"):
            return envelope(500, None)
        try:
            creator = None
            if spec.scoped:
                creator = self.world.account(request.path_params["acc"])
                if creator is None:
                    raise ApiError(404, "Account not found")
            body = await _json_body(request) if spec.method in ("POST", "DELETE") else {}
            if (fault is not None and fault.provider_failure) or (
                faults and self.faults.roll("provider_failure_rate")
            ):
                return envelope(200, provider_failure())
            result = await spec.handler(self, Call(request, creator, body))
        except ApiError as exc:
            return envelope(exc.status, None, exc.message)
        if fault is not None and fault.delay_after_apply:
            # The change is made; the client times out waiting for the answer.
            await asyncio.sleep(fault.delay_after_apply)
        if isinstance(result, Response):
            return result
        return envelope(spec.status, result)


def _with(response: Response, headers: dict[str, str]) -> Response:
    response.headers.update(headers)
    return response


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiError(400, "Invalid JSON body") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body


def create_app(
    world: World,
    *,
    api_key: str,
    requests_per_minute: int = 600,
    credits: int | None = None,
    webhook: WebhookSink | None = None,
) -> Starlette:
    """The emulator app; routes under ``/api/fansly``, extras under ``/_sandbox``."""
    # Importing the route modules registers them (once).
    from console.sandbox import control, routes, vault_routes  # noqa: F401

    gateway = Gateway(
        world,
        api_key=api_key,
        requests_per_minute=requests_per_minute,
        credits=credits,
        webhook=webhook,
    )
    starlette_routes: list[BaseRoute] = [
        Route("/healthz", _healthz, methods=["GET"], name="healthz")
    ]
    for spec in _ordered(ROUTES):
        prefix = "" if spec.path.startswith("/_sandbox") else BASE_PATH
        starlette_routes.append(
            Route(
                prefix + spec.path, _endpoint(gateway, spec), methods=[spec.method], name=spec.name
            )
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if webhook is not None:
            await webhook.start()
        try:
            yield
        finally:
            if webhook is not None:
                await webhook.stop()

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return envelope(status, None, "Route not found" if status == 404 else None)

    app = Starlette(
        routes=starlette_routes,
        lifespan=lifespan,
        exception_handlers={404: not_found, 405: not_found},
    )
    app.state.gateway = gateway
    return app


def _ordered(specs: list[RouteSpec]) -> list[RouteSpec]:
    """Literal path segments before parameters, so ``/chats/unread`` wins over ``/chats/{chat}``."""

    def weight(spec: RouteSpec) -> tuple[int, ...]:
        return tuple(1 if part.startswith("{") else 0 for part in spec.path.split("/"))

    return sorted(specs, key=weight)


def _endpoint(gateway: Gateway, spec: RouteSpec) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await gateway.dispatch(spec, request)

    return endpoint


async def _healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


# Helpers the route modules share ---------------------------------------------------------------


def chat_or_404(creator: CreatorState, chat_id: str) -> ChatState:
    chat = creator.chats.get(chat_id)
    if chat is None:
        raise ApiError(404, "Chat not found")
    return chat


def fan_or_404(creator: CreatorState, fan_id: str) -> dict[str, Any]:
    fan = creator.fans.get(fan_id)
    if fan is None:
        raise ApiError(404, "User not found")
    return fan


def required_str(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, f"{name} is required")
    return value


def active_tier(creator: CreatorState, fan_id: str) -> str | None:
    sub = creator.subscriptions.get(fan_id)
    if sub is not None and sub["status"] == ACTIVE:
        return str(sub["subscriptionTierId"])
    return None


__all__ = [
    "ACTIVE",
    "BASE_PATH",
    "EXPIRED",
    "ApiError",
    "Call",
    "Gateway",
    "WebhookSink",
    "automated_rule",
    "create_app",
    "nested",
    "route",
    "validate",
]
