"""The console's domain models, parsed from Fansly-shaped payloads.

Conventions (§7 of the reference): ids are ``str`` (snowflakes exceed 2**53), money is integer
thousandths of a US dollar (``*_millis``), times are timezone-aware UTC ``datetime``.
Request-side prices (PPV price, automated-message tip amount) are US dollars, as the gateway
expects them; those fields say ``dollars`` in their names.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Timestamps beyond this are milliseconds (10**10 seconds is the year 2286).
_MS_THRESHOLD = 10**10
#: The times the console takes from the network: after the epoch, before 2100. Anything else
#: (1e300, "99999999999999999999", year 9999 at -23:59) is refused with a ValueError, never an
#: OverflowError or OSError from deep inside datetime: a webhook carrying one gets a 400 naming
#: the field, and no message is pinned to the top of every list for centuries.
EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(2100, 1, 1, tzinfo=UTC)
_LATEST_SECONDS = LATEST_TIME.timestamp()
#: Money and counts from the network are integers within this bound: $10,000,000 in
#: thousandths, far above any real tip or price, far below SQLite's 2**63 (and its SUM()).
MAX_MILLIS = 10**10
MAX_COUNT = 2**31 - 1
#: An ISO time longer than this is not a time (fromisoformat would still read it all).
_MAX_TIME_TEXT = 64


def to_utc(value: Any) -> datetime | None:
    """Normalise a Fansly time (unix seconds, unix ms, ISO-8601 or datetime) to aware UTC.

    Seconds and milliseconds are told apart by magnitude (§7); ``0``/``None``/``""`` mean
    "not set". A value that is not a time, or falls outside ``EARLIEST_TIME``–``LATEST_TIME``,
    raises ``ValueError`` (and only that).
    """
    if value is None or value == "" or value == 0:
        return None
    if isinstance(value, datetime):
        try:
            moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        except (OverflowError, OSError):
            raise ValueError("time out of range") from None
        if not EARLIEST_TIME < moment < LATEST_TIME:
            raise ValueError("time out of range")
        return moment
    if isinstance(value, str):
        stripped = value.strip()
        if len(stripped) > _MAX_TIME_TEXT:
            raise ValueError("not a time")
        try:
            number = float(stripped)
        except ValueError:
            parsed = datetime.fromisoformat(stripped.replace("Z", "+00:00"))
            return to_utc(parsed)
        if number == 0:
            return None
        value = number
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("not a time")
    try:
        seconds = value / 1000 if abs(value) >= _MS_THRESHOLD else float(value)
    except OverflowError:  # an int too large for a float
        raise ValueError("time out of range") from None
    # Also false for NaN; checked before fromtimestamp, which raises OverflowError/OSError.
    if not 0 < seconds < _LATEST_SECONDS:
        raise ValueError("time out of range")
    return datetime.fromtimestamp(seconds, tz=UTC)


def to_unix_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def money_text(millis: int | None) -> str:
    """``12345`` thousandths → ``"$12.35"`` (for display only)."""
    if millis is None:
        return "—"
    return f"${millis / 1000:,.2f}"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=False, extra="ignore", populate_by_name=True)


def _id(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("an id, not a boolean")
    return str(value) if isinstance(value, int) else value


class Account(_Model):
    """A creator account connected to the gateway (one console tab)."""

    account_id: str  # the gateway's connected-account id, ``fansly_acc_…``
    name: str  # the dashboard label
    username: str | None = None
    fansly_account_id: str | None = None  # the creator's native Fansly id
    country: str | None = None
    status: str | None = None

    _ids = field_validator("account_id", "fansly_account_id", mode="before")(_id)


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


class Subscription(_Model):
    id: str
    fan_id: str
    tier_id: str | None = None
    tier_name: str | None = None
    tier_color: str | None = None
    status: SubscriptionStatus = SubscriptionStatus.UNKNOWN
    price_millis: int | None = None
    renew_price_millis: int | None = None
    auto_renew: bool = False
    renew_date: datetime | None = None
    ends_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    _ids = field_validator("id", "fan_id", "tier_id", mode="before")(_id)
    _times = field_validator("renew_date", "ends_at", "created_at", "updated_at", mode="before")(
        to_utc
    )


class Fan(_Model):
    """A fan as the chatter sees them: profile, subscription and spend."""

    id: str  # native Fansly id
    username: str
    display_name: str | None = None
    avatar_url: str | None = None
    created_at: datetime | None = None
    subscription: Subscription | None = None
    lifetime_spend_millis: int | None = None
    tips_millis: int | None = None
    last_purchase_at: datetime | None = None
    last_purchase_millis: int | None = None
    lists: list[str] = Field(default_factory=list)

    _ids = field_validator("id", mode="before")(_id)
    _times = field_validator("created_at", "last_purchase_at", mode="before")(to_utc)

    @property
    def name(self) -> str:
        return self.display_name or self.username


#: A vault item's title is the creator's text, bounded like every value from the network.
MAX_MEDIA_TITLE = 200
#: The reference's PPV price rule (§10.2): US dollars, 1-500.
PPV_MIN_DOLLARS, PPV_MAX_DOLLARS = 1, 500
_MEDIA_GLYPHS = {"photo": "📷", "video": "🎬", "audio": "🎧"}


def ppv_price_problem(dollars: float) -> str | None:
    """Why ``dollars`` is not a PPV price (the reference's rule, §10.2), or ``None``."""
    if dollars != dollars or not PPV_MIN_DOLLARS <= dollars <= PPV_MAX_DOLLARS:
        return f"a PPV price is between ${PPV_MIN_DOLLARS} and ${PPV_MAX_DOLLARS}"
    if round(dollars * 100) != dollars * 100 and abs(round(dollars * 100) - dollars * 100) > 1e-6:
        return "a PPV price has at most two decimals (cents)"
    return None


def media_kind(mimetype: Any, type_code: Any = None) -> str:
    """``photo``/``video``/``audio``/``media`` from a mimetype (or Fansly's type 1/2/3)."""
    if isinstance(mimetype, str):
        for kind, prefix in (("photo", "image/"), ("video", "video/"), ("audio", "audio/")):
            if mimetype.startswith(prefix):
                return kind
    return {1: "photo", 2: "video", 3: "audio"}.get(type_code, "media")


def duration_text(seconds: int) -> str:
    """``42`` → ``"0:42"``, ``3725`` → ``"1:02:05"``."""
    hours, rest = divmod(max(0, seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def media_label(kind: str | None, title: str | None, duration_s: int | None) -> str:
    """How a chatter reads one item: ``📷 photo · 'beach set 3'``, ``🎬 video 0:42 · 'dance'``.
    Plain text (the title is the creator's): the caller renders it as such."""
    kind = kind or "media"
    text = f"{_MEDIA_GLYPHS.get(kind, '📎')} {kind}"
    if duration_s and kind in ("video", "audio"):
        text += f" {duration_text(duration_s)}"
    if title:
        text += f" · '{title}'"
    return text


class Attachment(_Model):
    content_type: int = 1
    content_id: str
    pos: int = 0
    #: What the item is, when the page's ``accountMedia`` (or the vault) said so.
    kind: str | None = None
    title: str | None = Field(None, max_length=MAX_MEDIA_TITLE)
    duration_s: int | None = None
    #: The PPV price offered to the fan (thousandths); ``None`` for free media.
    price_millis: int | None = None
    #: The fan bought it (``accountMedia[].purchased`` or a ``sale.completed``); when, in unix
    #: ms, if a sale event said so.
    bought: bool = False
    bought_at_ms: int | None = None

    _ids = field_validator("content_id", mode="before")(_id)

    @property
    def label(self) -> str:
        return media_label(self.kind, self.title, self.duration_s)


class VaultAlbum(_Model):
    """An album of the creator's vault (§15, shape ASSUMED)."""

    id: str
    title: str = Field("", max_length=MAX_MEDIA_TITLE)
    type: str = "custom"
    item_count: int = 0

    _ids = field_validator("id", mode="before")(_id)


class VaultMedia(_Model):
    """One item of the creator's vault (Fansly ``accountMedia``; shape ASSUMED, §15): its id is
    what a send's ``mediaIds`` names and a sale's ``accountMediaId`` reports."""

    id: str
    album_id: str | None = None
    kind: str = "media"
    title: str = Field("", max_length=MAX_MEDIA_TITLE)
    duration_s: int = 0
    size_bytes: int = 0
    created_at: datetime | None = None

    _ids = field_validator("id", "album_id", mode="before")(_id)
    _times = field_validator("created_at", mode="before")(to_utc)

    @property
    def label(self) -> str:
        return media_label(self.kind, self.title, self.duration_s)


class Like(_Model):
    user_id: str
    type: int = 1  # 1 heart, 2 laughing, 3 wow, 4 cry, 5 fire, 6 thumbs-up, 7 thumbs-down

    _ids = field_validator("user_id", mode="before")(_id)


class Message(_Model):
    id: str
    chat_id: str
    sender_id: str
    content: str = ""
    created_at: datetime
    in_reply_to: str | None = None  # ASSUMED field (§10.2), unconfirmed by the provider
    attachments: list[Attachment] = Field(default_factory=list)
    likes: list[Like] = Field(default_factory=list)
    pinned: bool = False  # ASSUMED (§10.5)
    read_at: datetime | None = None
    tip_millis: int = 0

    _ids = field_validator("id", "chat_id", "sender_id", "in_reply_to", mode="before")(_id)
    _times = field_validator("created_at", "read_at", mode="before")(to_utc)


class Chat(_Model):
    """One conversation (a Fansly messaging group) between a creator and a fan."""

    id: str  # the ``groupId``
    account_id: str  # connected-account id of the creator side
    fan: Fan
    unread_count: int = 0
    subscription_tier_id: str | None = None
    last_message: Message | None = None
    last_unread_message_id: str | None = None
    flags: int = 0

    _ids = field_validator("id", "subscription_tier_id", "last_unread_message_id", mode="before")(
        _id
    )


class Earnings(_Model):
    """A fan's lifetime spend (earnings endpoints, values in thousandths)."""

    fan_id: str
    total_gross_millis: int = 0
    total_net_millis: int = 0
    tips_millis: int = 0
    subscriptions_millis: int = 0
    media_millis: int = 0
    #: (time, gross thousandths) per transaction, oldest first, for a spend chart.
    history: list[tuple[datetime, int]] = Field(default_factory=list)


class TriggerType(StrEnum):
    NEW_FOLLOWER = "new_follower"
    NEW_SUBSCRIBER = "new_subscriber"
    NEW_GIFT_LINK_SUBSCRIBER = "new_gift_link_subscriber"
    SUBSCRIBER_RENEW = "subscriber_renew"
    NEW_GIFT_LINK_SUBSCRIBER_RENEW = "new_gift_link_subscriber_renew"
    NEW_TIP = "new_tip"
    DISABLED = "disabled"


RENEW_TRIGGERS = frozenset(
    {TriggerType.SUBSCRIBER_RENEW, TriggerType.NEW_GIFT_LINK_SUBSCRIBER_RENEW}
)
SUBSCRIBER_TRIGGERS = RENEW_TRIGGERS | {
    TriggerType.NEW_SUBSCRIBER,
    TriggerType.NEW_GIFT_LINK_SUBSCRIBER,
}
MAX_MESSAGE_LENGTH = 5000  # ASSUMED: Fansly's composer limit is not documented
MAX_AUTOMATION_DELAY = 7 * 24 * 3600


class AutomatedMessage(_Model):
    """A Fansly automation rule (§13). The rules per trigger are checked before any request.

    Decisions where the reference is silent: ``subscription_streak`` is required (≥ 1) for the
    renewal triggers and refused elsewhere; ``tip_amount_dollars`` (1–500, like other request
    prices) and ``keywords`` belong to ``new_tip`` only; ``subscription_tier_id`` to subscriber
    triggers only; delay and cooldown are whole seconds between 0 and 7 days.
    """

    id: str | None = None
    trigger_type: TriggerType
    content: str
    delay_seconds: int = Field(0, ge=0, le=MAX_AUTOMATION_DELAY)
    cooldown_seconds: int = Field(0, ge=0, le=MAX_AUTOMATION_DELAY)
    subscription_streak: int | None = None
    tip_amount_dollars: float | None = None
    keywords: list[str] = Field(default_factory=list)
    subscription_tier_id: str | None = None
    created_at: datetime | None = None

    _ids = field_validator("id", "subscription_tier_id", mode="before")(_id)
    _times = field_validator("created_at", mode="before")(to_utc)

    @field_validator("keywords", mode="before")
    @classmethod
    def _split_keywords(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [word.strip() for word in value.split(",") if word.strip()]
        return value or []

    @model_validator(mode="after")
    def _trigger_rules(self) -> AutomatedMessage:
        if not self.content.strip():
            raise ValueError("the message text is empty")
        if len(self.content) > MAX_MESSAGE_LENGTH:
            raise ValueError(f"the message is longer than {MAX_MESSAGE_LENGTH} characters")
        trigger = self.trigger_type
        if trigger in RENEW_TRIGGERS:
            if self.subscription_streak is None or self.subscription_streak < 1:
                raise ValueError("a renewal message needs a subscription streak of at least 1")
        elif self.subscription_streak is not None:
            raise ValueError("a subscription streak only applies to renewal triggers")
        if trigger is TriggerType.NEW_TIP:
            amount = self.tip_amount_dollars
            if amount is not None and not 1 <= amount <= 500:
                raise ValueError("the minimum tip must be between $1 and $500")
        else:
            if self.tip_amount_dollars is not None:
                raise ValueError("a tip amount only applies to the new-tip trigger")
            if self.keywords:
                raise ValueError("keywords only apply to the new-tip trigger")
        if self.subscription_tier_id and trigger not in SUBSCRIBER_TRIGGERS:
            raise ValueError("a subscription tier only applies to subscriber triggers")
        return self

    def to_request(self) -> dict[str, Any]:
        """The create body, Fansly-style (§13)."""
        body: dict[str, Any] = {
            "triggerType": self.trigger_type.value,
            "content": self.content,
            "delay": self.delay_seconds,
            "cooldown": self.cooldown_seconds,
        }
        if self.subscription_streak is not None:
            body["subscriptionStreak"] = self.subscription_streak
        if self.tip_amount_dollars is not None:
            body["tipAmount"] = self.tip_amount_dollars
        if self.keywords:
            body["keywords"] = list(self.keywords)
        if self.subscription_tier_id:
            body["subscriptionTierId"] = self.subscription_tier_id
        return body


class RateBudget(_Model):
    """What the gateway said about the minute's budget on the last response."""

    limit: int | None = None
    remaining: int | None = None
    plan: str | None = None


ReactionChange = Literal["added", "removed"]


class FanList(_Model):
    """A creator's user list (VIP, custom lists) a fan can be put on (§12)."""

    id: str
    label: str
    type: int = 0
    item_count: int = 0

    _ids = field_validator("id", mode="before")(_id)
