"""Request-body rules, checked on the raw dicts (the client's models are not used here).

The automated-message rules are the same as ``AutomatedMessage`` in console/api/models.py; a
test feeds both the same bodies and expects the same verdicts.
"""

from __future__ import annotations

from typing import Any

from console.sandbox.gateway import ApiError

MAX_MESSAGE_LENGTH = 5000
MAX_DELAY = 7 * 24 * 3600
TRIGGERS = (
    "new_follower",
    "new_subscriber",
    "new_gift_link_subscriber",
    "subscriber_renew",
    "new_gift_link_subscriber_renew",
    "new_tip",
    "disabled",
)
RENEW_TRIGGERS = {"subscriber_renew", "new_gift_link_subscriber_renew"}
SUBSCRIBER_TRIGGERS = RENEW_TRIGGERS | {"new_subscriber", "new_gift_link_subscriber"}
ACCESS_TYPES = ("ppv", "subscription", "follow", "list", "limited_time")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def content(body: dict[str, Any]) -> str:
    text = body.get("content")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "content is required")
    if len(text) > MAX_MESSAGE_LENGTH:
        raise ApiError(400, f"content is longer than {MAX_MESSAGE_LENGTH} characters")
    return text


def send_message(body: dict[str, Any]) -> tuple[str, list[dict[str, Any]], list[str], int | None]:
    """(content, media refs, access types, PPV price in thousandths) of a send body (§10.2)."""
    text = content(body)
    media: list[dict[str, Any]] = []
    raw_media = body.get("mediaIds")
    if raw_media is None and body.get("mediaId") is not None:
        raw_media = [body["mediaId"]]
    if raw_media is not None:
        if not isinstance(raw_media, list):
            raise ApiError(400, "mediaIds must be a list")
        for item in raw_media:
            if isinstance(item, str) and item:
                media.append({"mediaId": item, "previewId": None})
            elif isinstance(item, dict) and isinstance(item.get("mediaId"), str):
                media.append({"mediaId": item["mediaId"], "previewId": item.get("previewId")})
            else:
                raise ApiError(400, "mediaIds entries must be ids or {mediaId, previewId}")
    access = body.get("access_type")
    access_types: list[str] = []
    if access is not None:
        access_types = [access] if isinstance(access, str) else access
        if not isinstance(access_types, list) or any(a not in ACCESS_TYPES for a in access_types):
            raise ApiError(400, f"access_type must be among {', '.join(ACCESS_TYPES)}")
    price = body.get("price")
    price_millis = None
    if price is not None:
        if "ppv" not in access_types:
            raise ApiError(400, "price requires access_type ppv")
        if not _number(price) or not 1 <= price <= 500:
            raise ApiError(400, "price must be between 1 and 500 (US dollars)")
        price_millis = round(price * 1000)
    elif "ppv" in access_types:
        raise ApiError(400, "price is required for access_type ppv")
    if "ppv" in access_types and not media:
        raise ApiError(400, "mediaIds is required for access_type ppv")
    in_reply_to = body.get("inReplyTo")
    if in_reply_to is not None and not isinstance(in_reply_to, str | int):
        raise ApiError(400, "inReplyTo must be a message id")
    return text, media, access_types, price_millis


def automated_message(body: dict[str, Any], tier_ids: set[str]) -> None:
    """Raise a 400 naming the field when a create body breaks a trigger rule (§13)."""
    trigger = body.get("triggerType")
    if trigger is None or trigger == "":
        raise ApiError(400, "triggerType is required")
    if trigger not in TRIGGERS:
        raise ApiError(400, f"triggerType must be one of {', '.join(TRIGGERS)}")
    content(body)
    for name in ("delay", "cooldown"):
        value = body.get(name)
        if value is None:
            continue
        seconds = _whole(value)
        if seconds is None or not 0 <= seconds <= MAX_DELAY:
            raise ApiError(400, f"{name} must be whole seconds between 0 and {MAX_DELAY}")
    streak = body.get("subscriptionStreak")
    if trigger in RENEW_TRIGGERS:
        number = _whole(streak)
        if number is None or number < 1:
            raise ApiError(400, "subscriptionStreak of at least 1 is required for renewals")
    elif streak is not None:
        raise ApiError(400, "subscriptionStreak only applies to renewal triggers")
    tip = body.get("tipAmount")
    keywords = body.get("keywords")
    if isinstance(keywords, str):
        keywords = [word.strip() for word in keywords.split(",") if word.strip()]
    elif keywords is not None and (
        not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords)
    ):
        raise ApiError(400, "keywords must be a string or a list of strings")
    if trigger == "new_tip":
        if tip is not None and (not _number(tip) or not 1 <= tip <= 500):
            raise ApiError(400, "tipAmount must be between 1 and 500 (US dollars)")
    else:
        if tip is not None:
            raise ApiError(400, "tipAmount only applies to the new_tip trigger")
        if keywords:
            raise ApiError(400, "keywords only apply to the new_tip trigger")
    tier = body.get("subscriptionTierId")
    if tier not in (None, ""):
        if trigger not in SUBSCRIBER_TRIGGERS:
            raise ApiError(400, "subscriptionTierId only applies to subscriber triggers")
        if str(tier) not in tier_ids:
            raise ApiError(400, "subscriptionTierId is not a tier of this account")
