"""Who to answer next (issue 16): the queue's order and the badges on a chat.

The queue lists the chats whose fan waits for an answer, across every account the chatter
works, longest-waiting first (or by spend, or newest first). Each row carries badges a chatter
reads at a glance: a spend tier ($ / $$ / $$$ by lifetime spend), a new subscriber, a
subscription expiring or expired, a tip or a purchase in the last day, VIP. The thresholds are
the config's ``[queue]`` section (:class:`BadgeRules`); the per-account chat list shows the same
badges.

Headless (no Textual): the store builds the rows, the TUI draws them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple, Protocol

from console.store.rows import ChatRow


class BadgeFacts(Protocol):
    """What a chat row carries for its badges (the store's and the console's rows both do)."""

    @property
    def vip(self) -> bool: ...
    @property
    def spend_millis(self) -> int | None: ...
    @property
    def last_purchase_at(self) -> datetime | None: ...
    @property
    def sub_status(self) -> str | None: ...
    @property
    def sub_started(self) -> datetime | None: ...
    @property
    def sub_ends(self) -> datetime | None: ...
    @property
    def auto_renew(self) -> bool: ...


#: The error a follow-up held for the chatter carries (it came due while nothing ran).
MISSED = "missed:"


class QueueSort(StrEnum):
    #: Longest-waiting first (the default: the fan who waited longest is answered first).
    WAITING = "waiting"
    #: Highest lifetime spend first, then longest-waiting.
    SPEND = "spend"
    #: The newest fan message first.
    NEWEST = "newest"


QUEUE_SORTS: tuple[QueueSort, ...] = (QueueSort.WAITING, QueueSort.SPEND, QueueSort.NEWEST)


@dataclass(frozen=True, slots=True)
class BadgeRules:
    """The thresholds of the badges (``[queue]`` in the config)."""

    #: Lifetime spend in dollars from which a fan is $, $$, $$$ (ascending).
    spend_tiers: tuple[float, float, float] = (50.0, 250.0, 1000.0)
    #: A subscription younger than this is "new".
    new_subscriber_days: float = 7.0
    #: A subscription that ends (without auto-renewal) within this many days is "expiring".
    expiring_days: float = 3.0
    #: A tip or a purchase this recent is shown.
    recent_purchase_hours: float = 24.0

    def tier(self, spend_millis: int) -> int:
        """0 to 3: how many of the spend thresholds the fan's lifetime spend reaches."""
        dollars = spend_millis / 1000
        return sum(1 for threshold in self.spend_tiers if dollars >= threshold)


class Badges(NamedTuple):
    """What the row of a chat shows beside the fan's name."""

    #: 0 (none) to 3 ($$$).
    tier: int = 0
    new_subscriber: bool = False
    expiring: bool = False
    expired: bool = False
    #: Tipped or bought within ``recent_purchase_hours``.
    recent_purchase: bool = False
    vip: bool = False

    def words(self) -> list[str]:
        """The badges as short words, most telling first ("$$$", "new sub", "tip/buy 24h"…)."""
        words = ["$" * self.tier] if self.tier else []
        if self.vip:
            words.append("VIP")
        if self.recent_purchase:
            words.append("paid 24h")
        if self.new_subscriber:
            words.append("new sub")
        if self.expiring:
            words.append("expiring")
        elif self.expired:
            words.append("expired")
        return words


def badges(row: BadgeFacts, rules: BadgeRules, now: datetime) -> Badges:
    """The badges of a chat's fan, from the cached facts on the row."""
    expired = row.sub_status == "expired"
    active = row.sub_status == "active"
    ends = row.sub_ends
    expiring = (
        active
        and not row.auto_renew
        and ends is not None
        and now <= ends <= now + timedelta(days=rules.expiring_days)
    )
    started = row.sub_started
    new = (
        active
        and started is not None
        and now - timedelta(days=rules.new_subscriber_days) <= started <= now
    )
    bought = row.last_purchase_at
    recent = bought is not None and now - bought <= timedelta(hours=rules.recent_purchase_hours)
    return Badges(
        tier=rules.tier(row.spend_millis or 0),
        new_subscriber=new,
        expiring=expiring,
        expired=expired,
        recent_purchase=recent,
        vip=row.vip,
    )


class QueueRow(NamedTuple):
    """One chat of the queue: the chat's row and, when the chatter's reminder on it is due,
    its time (such chats come first, marked)."""

    chat: ChatRow
    reminder_due: datetime | None = None
