"""The gateway's credit rule, in one place: what each call, media transfer and webhook event
costs, and the feature of the dashboard's Credits table it is counted under.

The rule is §5.2's newest row (the 2026-07-30 audit of the live docs, [A2]); older crawls
said "1 credit per request, 3 per media transfer, 1 per webhook event". Every figure below is
ASSUMED until the provider confirms it: the gateway sends no credit field or header (§3.3), so
the console counts by this rule (the meter, console/api/credits.py) and the sandbox bills by
the very same functions, so the two can be compared (tests/api/test_credits.py). This module
imports nothing of the console: the client and the sandbox, which must not know each other,
both read it.

- A response costs 1 credit up to 80 KB, and proportionally more past it: one more credit per
  started 80 KB (ASSUMED: "KB" is 1,024 bytes and "proportionally" rounds up per started block).
- A media upload or download costs 2 credits per MB (ASSUMED: per started MB of 1,048,576 bytes).
- Webhook events cost 1 credit per 80 delivered events (fractions are kept, not rounded).
- A refused request (401 bad key, 402 credits spent, 429 rate limit) costs nothing (ASSUMED:
  the gateway refuses it before doing any work).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

RESPONSE_BLOCK_BYTES = 80 * 1024  # ASSUMED (§5.2 [A2]): 1 credit per started 80 KB
MEDIA_CREDITS_PER_MB = 2  # ASSUMED (§5.2 [A2])
MEDIA_MB_BYTES = 1024 * 1024
WEBHOOK_EVENTS_PER_CREDIT = 80  # ASSUMED (§5.2 [A2]; §16.0's guide says 100)
#: Statuses the gateway refuses before doing the work: not billed (ASSUMED).
UNBILLED_STATUSES = frozenset({401, 402, 429})

#: The features of the dashboard's Credits table, in the order ``usage`` prints them.
FEATURES = (
    "chats",
    "messages",
    "profiles",
    "automations",
    "lists",
    "media",
    "webhooks",
    "sends",
    "other",
)

#: Route name → feature. Routes not listed fall back on their name (see :func:`feature_of`).
_FEATURE_OF_ROUTE = {
    "list_chats": "chats",
    "unread_chats": "chats",
    "get_chat": "chats",
    "list_messages": "messages",
    "list_accounts": "profiles",
    "me": "profiles",
    "accounts_by_ids": "profiles",
    "list_subscribers": "profiles",
    "fan_earnings": "profiles",
    "fan_earnings_stats": "profiles",
    "fan_tips": "profiles",
    "list_automated": "automations",
    "create_automated": "automations",
    "delete_automated": "automations",
    "list_lists": "lists",
    "add_to_list": "lists",
    "remove_from_list": "lists",
    "send_message": "sends",
    "unsend_message": "sends",
    "like_message": "sends",
    "unlike_message": "sends",
    "pin_message": "sends",
    "unpin_message": "sends",
    "mute_chat": "sends",
    "unmute_chat": "sends",
    "typing": "sends",
    "read_receipts": "sends",
}
#: Routes that move a media file: billed per MB, not per response block.
MEDIA_TRANSFERS = frozenset({"media_upload", "media_download"})


def feature_of(route: str) -> str:
    """The Credits-table feature a route's calls are counted under."""
    feature = _FEATURE_OF_ROUTE.get(route)
    if feature is not None:
        return feature
    if "media" in route or "vault" in route:
        return "media"
    if "list" in route:
        return "lists"
    return "other"


def response_credits(size_bytes: int) -> int:
    """Credits of one answered request whose body is ``size_bytes`` long."""
    return max(1, math.ceil(max(size_bytes, 0) / RESPONSE_BLOCK_BYTES))


def media_credits(size_bytes: int) -> int:
    """Credits of one media upload or download of ``size_bytes``."""
    return max(1, math.ceil(max(size_bytes, 0) / MEDIA_MB_BYTES)) * MEDIA_CREDITS_PER_MB


def call_credits(route: str, status: int, size_bytes: int) -> float:
    """What one request to ``route`` answered with ``status`` and a body of ``size_bytes``
    costs: the one rule the client's meter and the sandbox's bill both use."""
    if status in UNBILLED_STATUSES:
        return 0
    if route in MEDIA_TRANSFERS:
        return media_credits(size_bytes)
    return response_credits(size_bytes)


def webhook_credits(events: int) -> float:
    """Credits of ``events`` delivered webhook events."""
    return events / WEBHOOK_EVENTS_PER_CREDIT


#: The Credits-table feature webhook deliveries are counted under.
WEBHOOKS = "webhooks"


def webhook_usage(
    account_ids: list[str], now: float
) -> list[tuple[str, str, str, int, int, float]]:
    """What deliveries for ``account_ids`` (one entry per delivery) cost, as usage rows per
    account: (account, "webhooks", day, deliveries, 0 bytes, credits)."""
    counts: dict[str, int] = {}
    for account in account_ids:
        counts[account] = counts.get(account, 0) + 1
    day = day_of(now)
    return [(a, WEBHOOKS, day, n, 0, webhook_credits(n)) for a, n in counts.items()]


def cycle_of(now: float) -> str:
    """The billing cycle a moment falls in: the UTC calendar month, ``"2026-12"`` (ASSUMED:
    the provider resets "each billing cycle" without saying when; a calendar month is the
    plainest reading and the one the dashboard's monthly figures suggest)."""
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m")


def day_of(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")
