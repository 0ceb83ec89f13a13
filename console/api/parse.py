"""Fansly-shaped dicts → domain models. The only module that knows Fansly's field names.

Every function takes the payload the client unwrapped from the envelope. A payload that does
not have the shape we rely on raises :class:`ProviderError` (never a bare ``KeyError``), so a
drift in the provider surfaces as one clear error instead of a crash deep in the UI.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from pydantic import ValidationError

from console.api.errors import ProviderError
from console.api.models import (
    MAX_MEDIA_TITLE,
    Account,
    Attachment,
    AutomatedMessage,
    Chat,
    Earnings,
    Fan,
    FanList,
    Like,
    Message,
    Subscription,
    SubscriptionStatus,
    VaultAlbum,
    VaultMedia,
    media_kind,
    to_utc,
)

T = TypeVar("T")

# Earnings transaction types (contract row 16): media purchase is observed, the others assumed.
TX_MEDIA = 2110
TX_SUBSCRIPTION = 1100
TX_TIP = 3100

_SUBSCRIPTION_STATUS = {3: SubscriptionStatus.ACTIVE, 4: SubscriptionStatus.EXPIRED}


def _guard(what: str, build: Callable[[], T]) -> T:
    """Run a parser; a shape we do not understand becomes a ProviderError naming ``what``."""
    try:
        return build()
    except ProviderError:
        raise
    except (ValidationError, KeyError, TypeError, ValueError, AttributeError) as exc:
        detail = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else repr(exc)
        raise ProviderError(f"unexpected {what} shape ({detail})") from None


def _dict(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ProviderError(f"expected an object for {what}, got {type(value).__name__}")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ProviderError(f"expected a list for {what}, got {type(value).__name__}")
    return value


#: A count or an amount from the gateway beyond this is not one (SQLite stops at 2**63).
_MAX_NUMBER = 10**15


def _int(value: Any) -> int:
    """A count or an amount; ``ValueError`` (a :class:`ProviderError` through ``_guard``) for
    anything not finite or out of range, never the OverflowError ``round(inf)`` raises."""
    if value is None or value == "":
        return 0
    number = float(value)
    if not -_MAX_NUMBER <= number <= _MAX_NUMBER:  # also false for NaN
        raise ValueError("number out of range")
    return round(number)


def _id_or_none(value: Any) -> str | None:
    if value is None or value == "" or value == "0" or value == 0:
        return None
    return str(value)


def account(raw: Any) -> Account:
    """A connected account from ``GET /accounts``."""
    d = _dict(raw, "account")
    return _guard(
        "account",
        lambda: Account(
            account_id=d["accountId"],
            name=d.get("name") or d["accountId"],
            username=d.get("username"),
            fansly_account_id=d.get("fanslyAccountId"),
            country=d.get("country"),
            status=d.get("status"),
        ),
    )


def accounts(data: Any) -> list[Account]:
    """``data`` of ``GET /accounts`` (not nested): ``{accounts: [...]}``."""
    rows = _list(_dict(data, "accounts response").get("accounts"), "accounts")
    return [account(row) for row in rows]


def _avatar_url(d: Mapping[str, Any]) -> str | None:
    avatar = d.get("avatar")
    if not isinstance(avatar, Mapping):
        return None
    for location in avatar.get("locations") or []:
        if isinstance(location, Mapping) and location.get("location"):
            return str(location["location"])
    return None


def profile(raw: Any) -> Fan:
    """A Fansly account object (a fan, or the creator from ``/me``)."""
    d = _dict(raw, "account object")
    return _guard(
        "account object",
        lambda: Fan(
            id=d["id"],
            username=d.get("username") or str(d["id"]),
            display_name=d.get("displayName") or None,
            avatar_url=_avatar_url(d),
            created_at=d.get("createdAt"),
        ),
    )


def me(response: Any) -> Fan:
    """``/me``: the account object under ``response.account`` (some shapes put it at the top)."""
    d = _dict(response, "me response")
    inner = d.get("account")
    return profile(inner if isinstance(inner, Mapping) else d)


def _read_at(d: Mapping[str, Any]) -> datetime | None:
    """When the other side read it: the latest non-zero ``readAt`` of someone but the sender."""
    sender = str(d.get("senderId"))
    times = [
        to_utc(i.get("readAt"))
        for i in d.get("interactions") or []
        if isinstance(i, Mapping) and str(i.get("userId")) != sender
    ]
    seen = [t for t in times if t is not None]
    return max(seen) if seen else None


def _title(value: Any) -> str:
    # Bounded here; the TUI renders it as plain text and strips control characters.
    return value[:MAX_MEDIA_TITLE] if isinstance(value, str) else ""


def vault_media(raw: Any) -> VaultMedia:
    """A vault item (§15, ASSUMED shape: ``id, albumId, title, mimetype, type, duration(s),
    size, createdAt(ms)``)."""
    d = _dict(raw, "vault media")
    return _guard(
        "vault media",
        lambda: VaultMedia(
            id=d["id"],
            album_id=_id_or_none(d.get("albumId")),
            kind=media_kind(d.get("mimetype"), d.get("type")),
            title=_title(d.get("title")),
            duration_s=min(_int(d.get("duration")), 10**7),
            size_bytes=_int(d.get("size")),
            created_at=d.get("createdAt"),
        ),
    )


def vault_page(response: Any) -> list[VaultMedia]:
    d = _dict(response, "vault media response")
    return [vault_media(row) for row in _list(d.get("media"), "media")]


def _vault_album(raw: Any) -> VaultAlbum:
    d = _dict(raw, "album")
    return _guard(
        "vault album",
        lambda: VaultAlbum(
            id=d["id"],
            title=_title(d.get("title")),
            type=str(d.get("type") or "custom")[:32],
            item_count=_int(d.get("itemCount")),
        ),
    )


def vault_albums(response: Any) -> list[VaultAlbum]:
    return [_vault_album(row) for row in _list(response, "albums")]


def _attachment(a: Mapping[str, Any], media: Mapping[str, Any] | None) -> Attachment:
    """An attachment, with what the page's ``accountMedia`` says of its item (kind, title,
    duration, the price offered, whether the fan bought it)."""
    if not media:
        return Attachment(
            content_type=a.get("contentType", 1), content_id=a["contentId"], pos=a.get("pos", 0)
        )
    price = _int(media.get("price"))
    return Attachment(
        content_type=a.get("contentType", 1),
        content_id=a["contentId"],
        pos=a.get("pos", 0),
        kind=media_kind(media.get("mimetype"), media.get("type")),
        title=_title(media.get("title")) or None,
        duration_s=min(_int(media.get("duration")), 10**7) or None,
        price_millis=price or None,
        bought=media.get("purchased") is True,
    )


def message(
    raw: Any, chat_id: str | None = None, media: Mapping[str, Mapping[str, Any]] | None = None
) -> Message:
    """A Fansly message object (§10.1); ``chat_id`` fills a missing ``groupId``; ``media`` is
    the page's ``accountMedia`` by id."""
    d = _dict(raw, "message")

    def build() -> Message:
        return Message(
            id=d["id"],
            chat_id=d.get("groupId") or chat_id,
            sender_id=d["senderId"],
            content=d.get("content") or "",
            created_at=d["createdAt"],
            in_reply_to=_id_or_none(d.get("inReplyTo")),
            attachments=[
                _attachment(a, (media or {}).get(str(a.get("contentId"))))
                for a in d.get("attachments") or []
            ],
            likes=[
                Like(user_id=like.get("userId") or like["accountId"], type=like.get("type", 1))
                for like in d.get("likes") or []
            ],
            pinned=bool(d.get("pinned", False)),
            read_at=_read_at(d),
            tip_millis=_int(d.get("totalTipAmount")),
        )

    return _guard("message", build)


def messages(response: Any, chat_id: str) -> tuple[list[Message], str | None]:
    """``GET …/messages``: newest first, and the cursor for older ones (``None`` at the end)."""
    d = _dict(response, "messages response")
    rows = _list(d.get("messages"), "messages")
    media = {
        str(m["id"]): m
        for m in d.get("accountMedia") or []
        if isinstance(m, Mapping) and m.get("id") is not None
    }
    return [message(row, chat_id, media) for row in rows], _id_or_none(d.get("cursor"))


def chats(response: Any, account_id: str) -> list[Chat]:
    """An inbox page: rows joined with ``aggregationData`` (fan profiles, last messages)."""
    d = _dict(response, "chats response")
    rows = _list(d.get("data"), "chats")
    aggregation = d.get("aggregationData") or {}
    profiles = {
        str(a["id"]): a
        for a in aggregation.get("accounts") or []
        if isinstance(a, Mapping) and "id" in a
    }
    groups = {
        str(g["id"]): g
        for g in aggregation.get("groups") or []
        if isinstance(g, Mapping) and "id" in g
    }
    return [_chat_row(_dict(row, "chat row"), account_id, profiles, groups) for row in rows]


def _chat_row(
    row: Mapping[str, Any],
    account_id: str,
    profiles: Mapping[str, Any],
    groups: Mapping[str, Any],
) -> Chat:
    def build() -> Chat:
        chat_id = str(row["groupId"])
        fan_id = str(row["partnerAccountId"])
        known = profiles.get(fan_id)
        fan = (
            profile(known)
            if known is not None
            else Fan(id=fan_id, username=row.get("partnerUsername") or fan_id)
        )
        group = groups.get(chat_id) or {}
        last = group.get("lastMessage")
        return Chat(
            id=chat_id,
            account_id=account_id,
            fan=fan,
            unread_count=_int(row.get("unreadCount")),
            subscription_tier_id=_id_or_none(row.get("subscriptionTierId")),
            last_message=message(last, chat_id) if isinstance(last, Mapping) else None,
            last_unread_message_id=_id_or_none(row.get("lastUnreadMessageId")),
            flags=_int(row.get("flags")),
        )

    return _guard("chat row", build)


def group(response: Any, account_id: str, creator_id: str | None, fan: Fan | None = None) -> Chat:
    """A group object (§9.3, emulator-only route) as a chat; ``fan`` may be hydrated apart."""
    d = _dict(response, "chat")

    def build() -> Chat:
        chat_id = str(d["id"])
        users = [str(u.get("userId")) for u in d.get("users") or [] if isinstance(u, Mapping)]
        partner = d.get("partnerAccountId") or next(
            (u for u in users if u != creator_id), d.get("createdBy")
        )
        last = d.get("lastMessage")
        return Chat(
            id=chat_id,
            account_id=account_id,
            fan=fan or Fan(id=partner, username=d.get("partnerUsername") or str(partner)),
            unread_count=_int(d.get("unreadCount")),
            subscription_tier_id=_id_or_none(d.get("subscriptionTierId")),
            last_message=message(last, chat_id) if isinstance(last, Mapping) else None,
            last_unread_message_id=_id_or_none(d.get("lastUnreadMessageId")),
            flags=_int(d.get("groupFlags", d.get("flags"))),
        )

    return _guard("chat", build)


def group_partner(response: Any, creator_id: str | None) -> str | None:
    """The fan's id in a group object, to hydrate the profile."""
    d = _dict(response, "chat")
    if d.get("partnerAccountId"):
        return str(d["partnerAccountId"])
    for user in d.get("users") or []:
        if isinstance(user, Mapping) and str(user.get("userId")) != creator_id:
            return str(user.get("userId"))
    return None


def subscription(raw: Any) -> Subscription:
    """A subscription object (§11.1). Money stays in thousandths (§7)."""
    d = _dict(raw, "subscription")

    def build() -> Subscription:
        status = d.get("status")
        if isinstance(status, str) and not status.isdigit():
            parsed = SubscriptionStatus(status) if status in {"active", "expired"} else None
        else:
            parsed = _SUBSCRIPTION_STATUS.get(_int(status))
        return Subscription(
            id=d["id"],
            fan_id=d["subscriberId"],
            tier_id=_id_or_none(d.get("subscriptionTierId")),
            tier_name=d.get("subscriptionTierName"),
            tier_color=d.get("subscriptionTierColor"),
            status=parsed or SubscriptionStatus.UNKNOWN,
            price_millis=None if d.get("price") is None else _int(d["price"]),
            renew_price_millis=None if d.get("renewPrice") is None else _int(d["renewPrice"]),
            auto_renew=bool(d.get("autoRenew")),
            renew_date=d.get("renewDate"),
            ends_at=d.get("endsAt"),
            created_at=d.get("createdAt"),
            updated_at=d.get("updatedAt"),
        )

    return _guard("subscription", build)


def subscriptions(response: Any) -> list[Subscription]:
    d = _dict(response, "subscribers response")
    return [subscription(row) for row in _list(d.get("subscriptions"), "subscriptions")]


def automated_message(raw: Any) -> AutomatedMessage:
    """A rule from the gateway. Our create-time rules are checked, but a rule made elsewhere
    that breaks them (e.g. in Fansly's own UI) is still shown rather than refused."""
    d = _dict(raw, "automated message")
    fields: dict[str, Any] = {
        "id": d.get("id"),
        "trigger_type": d["triggerType"] if "triggerType" in d else None,
        "content": d.get("content"),
        "delay_seconds": _int(d.get("delay")),
        "cooldown_seconds": _int(d.get("cooldown")),
        "subscription_streak": d.get("subscriptionStreak"),
        "tip_amount_dollars": d.get("tipAmount"),
        "keywords": d.get("keywords") or [],
        "subscription_tier_id": _id_or_none(d.get("subscriptionTierId")),
        "created_at": d.get("createdAt"),
    }
    if fields["content"] is None:
        # Content may only live in the template, a JSON string (§13: a second parse).
        template = d.get("messageTemplate")
        if isinstance(template, str):
            try:
                template = json.loads(template)
            except ValueError:
                template = None
        if isinstance(template, Mapping):
            fields["content"] = template.get("content")
    try:
        return AutomatedMessage.model_validate(fields)
    except ValidationError:
        pass

    def lenient() -> AutomatedMessage:
        from console.api.models import TriggerType

        rule = AutomatedMessage.model_construct(
            **{**fields, "trigger_type": TriggerType(fields["trigger_type"])}
        )
        rule.id = _id_or_none(fields["id"])
        rule.content = str(fields["content"] or "")
        rule.created_at = to_utc(fields["created_at"])
        return rule

    return _guard("automated message", lenient)


def _fan_list(raw: Any) -> FanList:
    d = _dict(raw, "list")
    return _guard(
        "list",
        lambda: FanList(
            id=d["id"],
            label=d.get("label") or str(d["id"]),
            type=_int(d.get("type")),
            item_count=_int(d.get("itemCount")),
        ),
    )


def fan_lists(response: Any) -> list[FanList]:
    return [_fan_list(row) for row in _list(response, "lists")]


def earnings(fan_id: str, totals: Any, stats: Any, tips: Any) -> Earnings:
    """Combine the fan-earnings routes (contract rows 15, 16, 17) into one summary."""
    t = _dict(totals, "fan earnings")
    transactions = [_dict(x, "earnings transaction") for x in _list(stats, "earnings stats")]
    tip_summary = _dict(tips, "fan tips")

    def by_type(kind: int) -> int:
        return sum(_int(x.get("totalGross")) for x in transactions if _int(x.get("type")) == kind)

    def build() -> Earnings:
        history: list[tuple[datetime, int]] = []
        points: Iterable[Mapping[str, Any]] = transactions or [
            _dict(p, "datapoint") for p in t.get("datapoints") or []
        ]
        for point in points:
            when = to_utc(point.get("createdAt", point.get("timestamp")))
            if when is not None:
                history.append((when, _int(point.get("totalGross"))))
        history.sort(key=lambda pair: pair[0])
        total_tips = tip_summary.get("totalTips")
        if total_tips is None:
            total_tips = sum(_int(x.get("amount")) for x in tip_summary.get("tips") or [])
        return Earnings(
            fan_id=fan_id,
            total_gross_millis=_int(t.get("totalGross")),
            total_net_millis=_int(t.get("totalNet")),
            tips_millis=_int(total_tips) or by_type(TX_TIP),
            subscriptions_millis=by_type(TX_SUBSCRIPTION),
            media_millis=by_type(TX_MEDIA),
            history=history,
        )

    return _guard("fan earnings", build)
