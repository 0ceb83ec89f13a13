"""Turn a verified webhook body from any provider (§16.0–16.2) into one :class:`Event` (§16.3).

Three vocabularies reach the listener:

- §16.0 (the contract): ``{event: "message.received", idempotencyKey, accountId, timestamp,
  data}``;
- APIFansly (§16.1): ``{event: "messages.received", accountId, timestamp, data}``;
- OnlyFansAPI (§16.2): ``{event: "fansly.messages.received", account_id, payload}`` with the
  key in the ``X-OFAPI-Idempotency-Key`` header.

Payloads are Fansly-native objects: ids may arrive as numbers (kept as strings), money is in
thousandths, times are seconds, milliseconds or ISO strings (normalised by magnitude). A known
event whose payload lacks what the console needs is refused (:class:`PayloadError` → 400); an
unknown event is kept as ``EventType.UNKNOWN`` (recorded, never shown).

Every value read here is bounded, so a signed but poisonous delivery gets a 400 naming the
field instead of failing later (a 503 the gateway would retry forever): Fansly ids are digit
strings (§1: snowflakes), the connected-account id, the event name and the idempotency key are
short runs of safe ASCII (they reach logs and CLI output), times fall between
``EARLIEST_TIME`` and ``LATEST_TIME``, money lies in 0–``MAX_MILLIS`` thousandths, counts
and enums in 0–``MAX_COUNT``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import pydantic_core
from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from console.api.models import (
    MAX_COUNT,
    MAX_MILLIS,
    Attachment,
    Like,
    Message,
    Subscription,
    SubscriptionStatus,
    to_utc,
)
from console.events import Event, EventType, Provider, Reaction

IDEMPOTENCY_HEADERS = ("x-fansly-idempotency-key", "x-ofapi-idempotency-key")
_MAX_KEY_LENGTH = 200
#: A Fansly id: a snowflake string, ASCII digits only (``str.isdigit`` would take "²" and "١").
_SNOWFLAKE = re.compile(r"[0-9]{1,32}")
#: The connected-account id (``fansly_acc_…``, ``fansly_acct_…``) and an event name.
_SAFE_NAME = r"^[A-Za-z0-9_.:-]+$"
#: An idempotency key: printable ASCII, no spaces (``evt_9c1f…``, ``sha256:…``, a UUID).
_KEY = re.compile(rf"[!-~]{{1,{_MAX_KEY_LENGTH}}}")


class PayloadError(ValueError):
    """The body cannot be used; the message is short, safe to return and never echoes input."""


def _id(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("an id, not a boolean")
    return str(value) if isinstance(value, int) else value


def _snowflake(value: Any) -> str:
    value = _id(value)
    if not isinstance(value, str) or not _SNOWFLAKE.fullmatch(value):
        raise ValueError("not a Fansly id")
    return value


def _opt_snowflake(value: Any) -> str | None:
    return None if value is None or value == "" else _snowflake(value)


Id = Annotated[str, BeforeValidator(_snowflake)]
OptId = Annotated[str | None, BeforeValidator(_opt_snowflake)]
AccountId = Annotated[
    str, BeforeValidator(_id), Field(min_length=1, max_length=100, pattern=_SAFE_NAME)
]
Millis = Annotated[int, Field(ge=0, le=MAX_MILLIS)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]


def _time(value: Any) -> datetime | None:
    return to_utc(value)


Time = Annotated[datetime | None, BeforeValidator(_time)]


#: Attachments, likes or read receipts on one message: far more than any real one carries.
_MAX_ITEMS = 1000


class _Shape(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Envelope(_Shape):
    """The outer body, whichever provider sent it."""

    event: str = Field(min_length=1, max_length=200, pattern=_SAFE_NAME)
    idempotency_key: str | None = Field(
        None,
        max_length=_MAX_KEY_LENGTH,
        pattern=f"^{_KEY.pattern}$",
        validation_alias=AliasChoices("idempotencyKey", "idempotency_key"),
    )
    account_id: AccountId = Field(validation_alias=AliasChoices("accountId", "account_id"))
    timestamp: Time = None
    data: dict[str, Any] | None = Field(None, validation_alias=AliasChoices("data", "payload"))


class _Interaction(_Shape):
    user_id: OptId = Field(None, alias="userId")
    read_at: Time = Field(None, alias="readAt")


class _AttachmentShape(_Shape):
    content_type: Count = Field(1, alias="contentType")
    content_id: Id = Field(alias="contentId")
    pos: Count = 0


class _LikeShape(_Shape):
    user_id: Id = Field(alias="userId")
    type: Count = 1


class MessageData(_Shape):
    id: Id = Field(min_length=1)
    group_id: Id = Field(min_length=1, validation_alias=AliasChoices("groupId", "chatId"))
    sender_id: Id = Field(min_length=1, alias="senderId")
    content: str | None = ""
    created_at: Time = Field(None, alias="createdAt")
    in_reply_to: OptId = Field(None, alias="inReplyTo")
    attachments: list[_AttachmentShape] = Field(default_factory=list, max_length=_MAX_ITEMS)
    likes: list[_LikeShape] = Field(default_factory=list, max_length=_MAX_ITEMS)
    interactions: list[_Interaction] = Field(default_factory=list, max_length=_MAX_ITEMS)
    pinned: bool = False
    total_tip_amount: Millis | None = Field(0, alias="totalTipAmount")
    recipient_id: OptId = Field(None, alias="recipientId")

    @field_validator("attachments", "likes", "interactions", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


class TipData(_Shape):
    id: Id = Field(min_length=1)
    fan_id: Id = Field(min_length=1, validation_alias=AliasChoices("accountId", "senderId"))
    amount: Millis
    message: str | None = None
    chat_id: OptId = Field(None, validation_alias=AliasChoices("chatGroupId", "groupId"))
    created_at: Time = Field(None, alias="createdAt")


class _OrderMetadata(_Shape):
    account_media_price: Millis | None = Field(None, alias="accountMediaPrice")


class SaleData(_Shape):
    order_id: Id = Field(min_length=1, validation_alias=AliasChoices("orderId", "id"))
    account_media_id: OptId = Field(None, alias="accountMediaId")
    fan_id: Id = Field(min_length=1, validation_alias=AliasChoices("accountId", "userId"))
    chat_id: OptId = Field(None, validation_alias=AliasChoices("chatGroupId", "groupId"))
    order_metadata: _OrderMetadata | None = Field(None, alias="orderMetadata")
    amount: Millis | None = Field(None, validation_alias=AliasChoices("amount", "price"))
    created_at: Time = Field(None, alias="createdAt")


class SubscriptionData(_Shape):
    id: Id = Field(min_length=1)
    fan_id: Id = Field(
        min_length=1, validation_alias=AliasChoices("subscriberId", "accountId", "userId")
    )
    tier_id: OptId = Field(None, alias="subscriptionTierId")
    tier_name: str | None = Field(None, alias="subscriptionTierName", max_length=200)
    tier_color: str | None = Field(None, alias="subscriptionTierColor", max_length=32)
    status: Count | Annotated[str, Field(max_length=32)] | None = None
    price: Millis | None = None
    renew_price: Millis | None = Field(None, alias="renewPrice")
    auto_renew: bool | Count | None = Field(None, alias="autoRenew")
    renew_date: Time = Field(None, alias="renewDate")
    ends_at: Time = Field(None, alias="endsAt")
    created_at: Time = Field(None, alias="createdAt")
    updated_at: Time = Field(None, alias="updatedAt")
    chat_id: OptId = Field(None, validation_alias=AliasChoices("chatGroupId", "groupId"))


class ReactionData(_Shape):
    id: OptId = None
    message_id: Id = Field(min_length=1, alias="messageId")
    group_id: OptId = Field(None, validation_alias=AliasChoices("groupId", "chatId"))
    fan_id: OptId = Field(None, validation_alias=AliasChoices("accountId", "userId"))
    type: Count = 1
    action: str | None = Field(None, max_length=32)
    created_at: Time = Field(None, alias="createdAt")


#: Every provider's event name → (the console's type, the provider that uses that name).
EVENT_NAMES: dict[str, tuple[EventType, Provider]] = {
    # §16.0
    "message.received": (EventType.MESSAGE_RECEIVED, Provider.FANSLY_API),
    "message.sent": (EventType.MESSAGE_SENT, Provider.FANSLY_API),
    "tip.received": (EventType.TIP_RECEIVED, Provider.FANSLY_API),
    "sale.completed": (EventType.SALE_COMPLETED, Provider.FANSLY_API),
    "subscription.new": (EventType.SUBSCRIPTION_NEW, Provider.FANSLY_API),
    "subscription.renewed": (EventType.SUBSCRIPTION_RENEWED, Provider.FANSLY_API),
    "subscription.expired": (EventType.SUBSCRIPTION_EXPIRED, Provider.FANSLY_API),
    "chat.reaction": (EventType.CHAT_REACTION, Provider.FANSLY_API),
    # §16.1 APIFansly
    "messages.received": (EventType.MESSAGE_RECEIVED, Provider.APIFANSLY),
    "messages.sent": (EventType.MESSAGE_SENT, Provider.APIFANSLY),
    "ppv.purchased": (EventType.SALE_COMPLETED, Provider.APIFANSLY),
    "subscriptions.new": (EventType.SUBSCRIPTION_NEW, Provider.APIFANSLY),
    "tips.received": (EventType.TIP_RECEIVED, Provider.APIFANSLY),
    # §16.2 OnlyFansAPI
    "fansly.messages.received": (EventType.MESSAGE_RECEIVED, Provider.ONLYFANSAPI),
    "fansly.messages.sent": (EventType.MESSAGE_SENT, Provider.ONLYFANSAPI),
    "fansly.messages.reaction_added": (EventType.CHAT_REACTION, Provider.ONLYFANSAPI),
    "fansly.messages.reaction_removed": (EventType.CHAT_REACTION, Provider.ONLYFANSAPI),
    "fansly.tips.received": (EventType.TIP_RECEIVED, Provider.ONLYFANSAPI),
    "fansly.subscriptions.new": (EventType.SUBSCRIPTION_NEW, Provider.ONLYFANSAPI),
    "fansly.subscriptions.expired": (EventType.SUBSCRIPTION_EXPIRED, Provider.ONLYFANSAPI),
    "fansly.media.purchased": (EventType.SALE_COMPLETED, Provider.ONLYFANSAPI),
    "fansly.stories.purchased": (EventType.SALE_COMPLETED, Provider.ONLYFANSAPI),
    "fansly.transactions.new": (EventType.SALE_COMPLETED, Provider.ONLYFANSAPI),
}

_MESSAGE_TYPES = {EventType.MESSAGE_RECEIVED, EventType.MESSAGE_SENT}
_SUBSCRIPTION_TYPES = {
    EventType.SUBSCRIPTION_NEW,
    EventType.SUBSCRIPTION_RENEWED,
    EventType.SUBSCRIPTION_EXPIRED,
}


_RANGE_ERRORS = frozenset(
    {"greater_than", "greater_than_equal", "less_than", "less_than_equal", "int_parsing_size"}
)


def _reason(error: ValidationError, where: str) -> str:
    """A short reason naming the fields at fault; the offending values are never echoed."""
    parts = []
    for item in error.errors()[:3]:
        loc = ".".join(str(part) for part in item.get("loc", ()) if not _is_tag(part)) or where
        kind = str(item.get("type", "invalid"))
        if kind == "missing":
            label = "missing"
        elif kind in _RANGE_ERRORS or "out of range" in str(item.get("msg", "")):
            label = "out of range"  # our own message (to_utc's), never the value
        else:
            label = "invalid"
        parts.append(f"{where}.{loc}: {label}" if where and loc != where else f"{loc}: {label}")
    return "; ".join(parts) or f"{where}: invalid"


#: Names pydantic puts in an error's location for the member of a union that failed.
_UNION_TAGS = frozenset({"int", "str", "bool", "float", "none", "dict", "list"})


def _is_tag(part: object) -> bool:
    return isinstance(part, str) and (part in _UNION_TAGS or "-" in part or "[" in part)


def parse_body(body: bytes) -> tuple[Envelope, dict[str, Any]]:
    """Decode and validate the envelope (and return the parsed document, kept as ``raw``).

    Raises :class:`PayloadError` with a short reason.
    """
    if not body.strip():
        raise PayloadError("empty body")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("body is not UTF-8") from None
    try:
        # pydantic-core's parser (already a dependency): half json.loads' time, and it refuses
        # lone surrogates, which json.loads would pass on to the cache as unencodable text.
        document = pydantic_core.from_json(text)
    except ValueError:
        raise PayloadError("body is not valid JSON") from None
    if not isinstance(document, dict):
        raise PayloadError("body is not a JSON object")
    try:
        envelope = Envelope.model_validate(document)
    except ValidationError as exc:
        raise PayloadError(_reason(exc, "")) from None
    return envelope, document


def _key_from_headers(headers: Mapping[str, str]) -> str | None:
    for name in IDEMPOTENCY_HEADERS:
        value = headers.get(name)
        if value and value.strip():
            key = value.strip()[:_MAX_KEY_LENGTH]
            if not _KEY.fullmatch(key):
                raise PayloadError(f"{name} header: invalid")
            return key
    return None


def derived_key(event: str, account_id: str, subject: str) -> str:
    """The key of a delivery that carries none: sha256(event|account|subject id)."""
    digest = hashlib.sha256(f"{event}|{account_id}|{subject}".encode()).hexdigest()
    return f"sha256:{digest}"


_T = TypeVar("_T", bound=BaseModel)


def _validate(model: type[_T], data: dict[str, Any] | None, name: str) -> _T:
    if data is None:
        raise PayloadError(f"{name}: data is missing")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise PayloadError(_reason(exc, "data")) from None


def _message(data: MessageData, occurred: datetime) -> Message:
    read_at = next((i.read_at for i in data.interactions if i.read_at is not None), None)
    return Message(
        id=data.id,
        chat_id=data.group_id,
        sender_id=data.sender_id,
        content=data.content or "",
        created_at=data.created_at or occurred,
        in_reply_to=data.in_reply_to,
        attachments=[
            Attachment(content_type=a.content_type, content_id=a.content_id, pos=a.pos)
            for a in data.attachments
        ],
        likes=[Like(user_id=like.user_id, type=like.type) for like in data.likes],
        pinned=data.pinned,
        read_at=read_at,
        tip_millis=data.total_tip_amount or 0,
    )


def _status(value: int | str | None, kind: EventType) -> SubscriptionStatus:
    if kind is EventType.SUBSCRIPTION_EXPIRED:
        return SubscriptionStatus.EXPIRED
    if value in (3, "3", "active"):
        return SubscriptionStatus.ACTIVE
    if value in (4, "4", "expired"):
        return SubscriptionStatus.EXPIRED
    if kind in (EventType.SUBSCRIPTION_NEW, EventType.SUBSCRIPTION_RENEWED):
        return SubscriptionStatus.ACTIVE
    return SubscriptionStatus.UNKNOWN


def _subscription(data: SubscriptionData, kind: EventType) -> Subscription:
    return Subscription(
        id=data.id,
        fan_id=data.fan_id,
        tier_id=data.tier_id,
        tier_name=data.tier_name,
        tier_color=data.tier_color,
        status=_status(data.status, kind),
        price_millis=data.price,
        renew_price_millis=data.renew_price,
        auto_renew=bool(data.auto_renew),
        renew_date=data.renew_date,
        ends_at=data.ends_at,
        created_at=data.created_at,
        updated_at=data.updated_at,
    )


def _ms(value: datetime | None) -> str:
    return str(int(value.timestamp() * 1000)) if value is not None else ""


def normalise(
    envelope: Envelope,
    raw: dict[str, Any],
    headers: Mapping[str, str] | None = None,
    *,
    body: bytes = b"",
    now: datetime | None = None,
) -> Event:
    """Map one envelope onto the console's :class:`Event`; raises :class:`PayloadError`."""
    headers = headers or {}
    name = envelope.event.strip()
    known = EVENT_NAMES.get(name)
    kind, provider = known if known else (EventType.UNKNOWN, _guess_provider(name, raw))
    occurred = envelope.timestamp or now or datetime.now(UTC)
    data = envelope.data
    fields: dict[str, Any] = {}
    subject: str

    if kind in _MESSAGE_TYPES:
        msg_data = _validate(MessageData, _unwrap(data, "message"), name)
        message = _message(msg_data, occurred)
        fan: str | None
        if kind is EventType.MESSAGE_RECEIVED:
            fan = msg_data.sender_id
        else:
            fan = msg_data.recipient_id or next(
                (
                    i.user_id
                    for i in msg_data.interactions
                    if i.user_id and i.user_id != msg_data.sender_id
                ),
                None,
            )
        occurred = msg_data.created_at or occurred
        fields = {"message": message, "chat_id": message.chat_id, "fan_id": fan}
        subject = msg_data.id
    elif kind is EventType.TIP_RECEIVED:
        tip = _validate(TipData, _unwrap(data, "tip"), name)
        occurred = tip.created_at or occurred
        fields = {"chat_id": tip.chat_id, "fan_id": tip.fan_id, "amount_millis": tip.amount}
        subject = tip.id
    elif kind is EventType.SALE_COMPLETED:
        sale = _validate(SaleData, data, name)
        price = sale.order_metadata.account_media_price if sale.order_metadata else None
        occurred = sale.created_at or occurred
        fields = {
            "chat_id": sale.chat_id,
            "fan_id": sale.fan_id,
            "amount_millis": price if price is not None else sale.amount,
            "media_id": sale.account_media_id,
        }
        subject = sale.order_id
    elif kind in _SUBSCRIPTION_TYPES:
        sub_data = _validate(SubscriptionData, _unwrap(data, "subscription"), name)
        subscription = _subscription(sub_data, kind)
        occurred = sub_data.updated_at or sub_data.created_at or occurred
        fields = {
            "subscription": subscription,
            "fan_id": sub_data.fan_id,
            "chat_id": sub_data.chat_id,
            "amount_millis": sub_data.price,
        }
        subject = f"{sub_data.id}|{subscription.status.value}|{_ms(sub_data.updated_at)}"
    elif kind is EventType.CHAT_REACTION:
        react = _validate(ReactionData, data, name)
        if name.endswith("reaction_removed"):
            added = False
        elif name.endswith("reaction_added"):
            added = True
        else:
            added = (react.action or "added").lower() != "removed"
        occurred = react.created_at or occurred
        fields = {
            "chat_id": react.group_id,
            "fan_id": react.fan_id,
            "reaction": Reaction(
                message_id=react.message_id, user_id=react.fan_id, type=react.type, added=added
            ),
        }
        subject = react.id or (
            f"{react.message_id}|{react.fan_id}|{react.type}|{added}|{_ms(react.created_at)}"
        )
    else:
        subject = str((data or {}).get("id") or "") or hashlib.sha256(body).hexdigest()

    key = envelope.idempotency_key or _key_from_headers(headers)
    if not key:
        key = derived_key(name, envelope.account_id, subject)
    return Event(
        type=kind,
        provider=provider,
        name=name,
        idempotency_key=key,
        account_id=envelope.account_id,
        occurred_at=occurred,
        raw=raw,
        **fields,
    )


def _unwrap(data: dict[str, Any] | None, inner: str) -> dict[str, Any] | None:
    """Some relays wrap the object (``payload.message``); accept both forms."""
    if data is not None and isinstance(data.get(inner), dict) and "id" not in data:
        value: dict[str, Any] = data[inner]
        return value
    return data


def _guess_provider(name: str, raw: Mapping[str, Any]) -> Provider:
    if name.startswith("fansly.") or "payload" in raw or "account_id" in raw:
        return Provider.ONLYFANSAPI
    if "idempotencyKey" in raw:
        return Provider.FANSLY_API
    return Provider.APIFANSLY


def event_from_delivery(
    body: bytes, headers: Mapping[str, str] | None = None, *, now: datetime | None = None
) -> Event:
    """Parse and normalise one verified delivery body (raises :class:`PayloadError`)."""
    envelope, raw = parse_body(body)
    return normalise(envelope, raw, headers, body=body, now=now)
