"""Emulator-only controls under ``/_sandbox/*``: faults, stats, simulate, webhook target.

Same ``x-api-key`` as the gateway, but neither metered nor subject to injected faults.
"""

from __future__ import annotations

from typing import Any

from console.sandbox.app import ApiError, Call, Gateway, route


@route("GET", "/_sandbox/faults", "sandbox_faults_get", scoped=False)
async def faults_get(gw: Gateway, call: Call) -> Any:
    return gw.faults.describe()


@route("POST", "/_sandbox/faults", "sandbox_faults", scoped=False)
async def faults_set(gw: Gateway, call: Call) -> Any:
    gw.faults.configure(call.body)
    if gw.webhook is not None:
        gw.webhook.duplicate_rate = gw.faults.rates["webhook_duplicate_rate"]
        gw.webhook.out_of_order_rate = gw.faults.rates["webhook_out_of_order_rate"]
    return gw.faults.describe()


@route("DELETE", "/_sandbox/faults", "sandbox_faults_reset", scoped=False)
async def faults_reset(gw: Gateway, call: Call) -> Any:
    gw.faults.reset()
    if gw.webhook is not None:
        gw.webhook.duplicate_rate = gw.webhook.out_of_order_rate = 0.0
    return gw.faults.describe()


@route("GET", "/_sandbox/stats", "sandbox_stats", scoped=False)
async def stats(gw: Gateway, call: Call) -> Any:
    usage = gw.usage
    return {
        "requests": dict(usage.requests),
        "total_requests": sum(usage.requests.values()),
        "statuses": {str(k): v for k, v in usage.statuses.items()},
        "rate_limited": usage.rate_limited,
        "credits": _credits(gw),
        "webhooks": gw.webhook.counters() if gw.webhook is not None else None,
        "world": {"messages": gw.world.message_count, "chats": gw.world.chat_count},
    }


def _credits(gw: Gateway) -> dict[str, Any]:
    used = gw.credits_used()
    by: dict[str, dict[str, float]] = {}
    for (account, feature), credits in sorted(gw.usage.credits_by.items()):
        by.setdefault(account, {})[feature] = credits
    delivered = gw.webhook.counters().get("delivered", 0) if gw.webhook else 0
    return {
        "limit": gw.credits,
        # Whole credits while nothing fractional (webhook events) was billed.
        "used": int(used) if float(used).is_integer() else used,
        "remaining": None if gw.credits is None else max(0, gw.credits - used),
        "by_account": by,
        "webhook_events": delivered - gw.usage.events_before,
    }


@route("POST", "/_sandbox/credits", "sandbox_credits", scoped=False)
async def credits_set(gw: Gateway, call: Call) -> Any:
    """Emulator-only: start a new billing cycle (``{"new_cycle": true}``) or change the
    monthly allowance (``{"limit": n}``, ``null`` for none)."""
    if "limit" in call.body:
        limit = call.body["limit"]
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise ApiError(400, "limit must be a whole number of credits or null")
        gw.credits = limit
    if call.body.get("new_cycle"):
        gw.new_cycle()
    return _credits(gw)


@route("POST", "/_sandbox/webhook", "sandbox_webhook", scoped=False)
async def webhook_target(gw: Gateway, call: Call) -> Any:
    """Point deliveries somewhere else, or change the fans' activity rate, while running."""
    simulator = gw.webhook
    if simulator is None:
        raise ApiError(400, "this sandbox has no simulator")
    if "url" in call.body:
        url = call.body["url"]
        if url is not None and (not isinstance(url, str) or not url.startswith("http")):
            raise ApiError(400, "url must be an http(s) URL or null")
        simulator.webhook_url = url
    if "rate_per_minute" in call.body:
        rate = call.body["rate_per_minute"]
        if isinstance(rate, bool) or not isinstance(rate, int | float) or rate < 0:
            raise ApiError(400, "rate_per_minute must be a number ≥ 0")
        simulator.rate_per_minute = float(rate)
    return {"url": simulator.webhook_url, "rate_per_minute": simulator.rate_per_minute}


@route("POST", "/_sandbox/simulate", "sandbox_simulate", scoped=False, status=201)
async def simulate(gw: Gateway, call: Call) -> Any:
    if gw.webhook is None:
        raise ApiError(400, "this sandbox has no simulator")
    count = call.body.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 100_000:
        raise ApiError(400, "count must be between 1 and 100000")
    kinds = call.body.get("kinds")
    if kinds is not None and (
        not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds)
    ):
        raise ApiError(400, "kinds must be a list of event names")
    try:
        events = gw.webhook.simulate(count, kinds)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    keys = [{"event": e["event"], "idempotencyKey": e["idempotencyKey"]} for e in events]
    return {"emitted": len(events), "events": keys}
