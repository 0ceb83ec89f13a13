"""The sandbox's automated messages firing: what a creator's rules (§13) send, and when.

The reference documents the rules' fields, not how the provider applies them, so the sandbox
decides (written down in docs/gateway-contract.md, "Automated messages"):

- ``new_subscriber`` fires on ``subscription.new``; ``subscriber_renew`` on the renewal that
  completes ``subscriptionStreak`` months (counted from the subscription's start), once;
  both only for the rule's tier when ``subscriptionTierId`` is set.
- ``new_tip`` fires on ``tip.received`` when the tip is at least ``tipAmount`` dollars, and,
  when ``keywords`` are set, the tip's note holds one of them (any case).
- ``delay`` seconds after the event the creator's message is sent (``message.sent`` webhook);
  ``cooldown`` seconds must pass before the same rule fires again for the same fan.
- ``new_follower`` and the gift-link triggers have no simulated event, so they never fire;
  ``disabled`` never fires.
"""

from __future__ import annotations

from typing import Any

from console.sandbox.world import CreatorState

DAY_MS = 86_400_000


def _tier_fits(rule: dict[str, Any], data: dict[str, Any]) -> bool:
    tier = rule.get("subscriptionTierId")
    return tier in (None, "") or str(tier) == str(data.get("subscriptionTierId"))


def _streak_months(data: dict[str, Any]) -> int:
    """Months paid for, this renewal included (30-day cycles from the start to the next
    renewal): 2 at the first renewal."""
    start, until = int(data.get("createdAt") or 0), int(data.get("renewDate") or 0)
    return max(0, round((until - start) / (30 * DAY_MS)))


def fires(rule: dict[str, Any], kind: str, data: dict[str, Any]) -> bool:
    """Whether ``rule`` answers the event ``kind`` with its ``data`` (the webhook's)."""
    trigger = rule.get("triggerType")
    if trigger == "new_subscriber":
        return kind == "subscription.new" and _tier_fits(rule, data)
    if trigger == "subscriber_renew":
        streak = int(rule.get("subscriptionStreak") or 0)
        return (
            kind == "subscription.renewed"
            and _tier_fits(rule, data)
            and _streak_months(data) == streak
        )
    if trigger == "new_tip":
        if kind != "tip.received":
            return False
        minimum = float(rule.get("tipAmount") or 0) * 1000  # dollars; tips are thousandths
        if int(data.get("amount") or 0) < minimum:
            return False
        keywords = [k.casefold() for k in rule.get("keywords") or []]
        note = str(data.get("message") or "").casefold()
        return not keywords or any(k in note for k in keywords)
    return False


def fan_of(kind: str, data: dict[str, Any]) -> str | None:
    """The fan an event is about."""
    if kind.startswith("subscription."):
        return str(data.get("subscriberId") or "") or None
    if kind == "tip.received":
        return str(data.get("accountId") or "") or None
    return None


class Automations:
    """Which rules an event sets off, with each rule's cooldown per fan."""

    def __init__(self) -> None:
        self._last_fired: dict[tuple[str, str], int] = {}  # (rule id, fan id) → ms

    def due(
        self, creator: CreatorState, kind: str, data: dict[str, Any], now_ms: int
    ) -> list[tuple[dict[str, Any], str]]:
        """The (rule, fan id) pairs to send for this event, oldest rule first; marks them
        fired (their cooldown starts now)."""
        fan_id = fan_of(kind, data)
        if fan_id is None or fan_id not in creator.chat_by_fan:
            return []
        out = []
        for rule in sorted(creator.automated.values(), key=lambda r: int(r["createdAt"])):
            if not fires(rule, kind, data):
                continue
            key = (str(rule["id"]), fan_id)
            last = self._last_fired.get(key)
            cooldown_ms = int(rule.get("cooldown") or 0) * 1000
            if last is not None and now_ms - last < cooldown_ms:
                continue
            self._last_fired[key] = now_ms
            out.append((rule, fan_id))
        return out
