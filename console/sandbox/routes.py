"""The routes of docs/gateway-contract.md (rows 1–22) and the emulator-only ``/_sandbox/*``."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from console.sandbox import validate
from console.sandbox.app import (
    ApiError,
    Call,
    Gateway,
    active_tier,
    chat_or_404,
    fan_or_404,
    nested,
    required_str,
    route,
)
from console.sandbox.gateway import envelope
from console.sandbox.world import (
    ACTIVE,
    EXPIRED,
    TX_MEDIA,
    TX_SUBSCRIPTION,
    TX_TIP,
    ChatState,
    CreatorState,
    automated_rule,
)

CHAT_FILTERS = ("all", "vips", "followers", "subscribers")
CHAT_SORTS = ("newest", "oldest", "unread")
SUBSCRIBER_STATUS = {
    "3,4": {ACTIVE, EXPIRED},
    "4,3": {ACTIVE, EXPIRED},
    "all": {ACTIVE, EXPIRED},
    "3": {ACTIVE},
    "active": {ACTIVE},
    "4": {EXPIRED},
    "expired": {EXPIRED},
}
DAY_MS = 86_400_000


def _limit(call: Call, *, default: int, high: int) -> int:
    raw = call.query("limit")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "limit must be a number") from None
    return max(1, min(high, value))


def _int_cursor(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, "cursor is invalid") from None


# Accounts ------------------------------------------------------------------------------------


@route("GET", "/accounts", "list_accounts", scoped=False)
async def list_accounts(gw: Gateway, call: Call) -> Any:
    accounts = [
        {
            "accountId": c.account_id,
            "name": c.label,
            "country": c.country,
            "status": "active",
            "fanslyAccountId": c.native_id,
            "username": c.username,
        }
        for c in gw.world.accounts.values()
    ]
    return {"accounts": accounts}


@route("GET", "/accounts/by-ids", "accounts_by_ids", scoped=False)
async def accounts_by_ids(gw: Gateway, call: Call) -> Any:
    raw = call.query("ids")
    if raw is None:
        raise ApiError(400, "ids is required")
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if len(ids) > 100:
        raise ApiError(400, "ids accepts at most 100 ids")
    found = [gw.world.find_profile(native) for native in ids]
    return nested([profile for profile in found if profile is not None])


@route("GET", "/{acc}/me", "me")
async def me(gw: Gateway, call: Call) -> Any:
    return nested({"account": call.account.account})


# Chats ---------------------------------------------------------------------------------------


def chat_row(creator: CreatorState, chat: ChatState) -> dict[str, Any]:
    last = chat.last_message
    last_unread = None
    if chat.unread_count:
        last_unread = next(
            (m["id"] for m in reversed(chat.messages) if m["senderId"] == chat.fan_id), None
        )
    return {
        "account_id": creator.native_id,
        "groupId": chat.id,
        "partnerAccountId": chat.fan_id,
        "partnerUsername": creator.fans[chat.fan_id]["username"],
        "flags": 0,
        "unreadCount": chat.unread_count,
        "subscriptionTierId": active_tier(creator, chat.fan_id),
        "lastMessageId": last["id"] if last else None,
        "lastUnreadMessageId": last_unread,
        "muted": chat.fan_id in creator.muted,  # emulator extra: mute state per fan
    }


def group_object(creator: CreatorState, chat: ChatState) -> dict[str, Any]:
    """The Fansly messaging-group object (§9.3)."""
    last = chat.last_message
    users = [creator.native_id, chat.fan_id]
    return {
        "id": chat.id,
        "type": 1,
        "groupFlags": 0,
        "groupFlagsMetadata": "{}",
        "createdBy": chat.fan_id,
        "createdAt": chat.created_at_ms,
        "users": [
            {"groupId": chat.id, "userId": user, "type": 0, "permissionFlags": 65535}
            for user in users
        ],
        "permissionFlags": [],
        "recipients": [chat.fan_id],
        "userSettings": {
            "customName": None,
            "hidden": False,
            "muted": chat.fan_id in creator.muted,
            "readReceipts": chat.read_receipts,
        },
        "lastMessage": (
            {k: last[k] for k in ("id", "type", "content", "groupId", "senderId", "createdAt")}
            if last
            else None
        ),
        "unreadCount": chat.unread_count,
        "hasDmPermissionFlags": False,
        "dmPermissionFlags": [],
        "accountDmPermissionFlags": {"flags": 0, "metadata": ""},
    }


def _chat_page(
    creator: CreatorState,
    chats: list[ChatState],
    key: Callable[[ChatState], tuple[int, ...]],
    descending: bool,
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    ordered = sorted(chats, key=key, reverse=descending)
    if cursor is not None:
        try:
            after = tuple(int(part) for part in cursor.split("-"))
        except ValueError:
            raise ApiError(400, "cursor is invalid") from None
        if descending:
            ordered = [c for c in ordered if key(c) < after]
        else:
            ordered = [c for c in ordered if key(c) > after]
    page = ordered[:limit]
    next_cursor = None
    if len(ordered) > limit:
        next_cursor = "-".join(str(part) for part in key(page[-1]))
    response = {
        "data": [chat_row(creator, chat) for chat in page],
        "aggregationData": {
            "accounts": [creator.fans[chat.fan_id] for chat in page],
            "groups": [group_object(creator, chat) for chat in page],
        },
    }
    return nested(response, next_cursor=next_cursor)


def _last_id(chat: ChatState) -> tuple[int, ...]:
    return (chat.message_ids[-1] if chat.message_ids else 0,)


def _unread_first(chat: ChatState) -> tuple[int, ...]:
    return (1 if chat.unread_count else 0, chat.message_ids[-1] if chat.message_ids else 0)


@route("GET", "/{acc}/chats", "list_chats")
async def list_chats(gw: Gateway, call: Call) -> Any:
    creator = call.account
    kind = call.query("filter") or "all"
    if kind not in CHAT_FILTERS:
        raise ApiError(400, f"filter must be one of {', '.join(CHAT_FILTERS)}")
    sort = call.query("sort") or "newest"
    if sort not in CHAT_SORTS:
        raise ApiError(400, f"sort must be one of {', '.join(CHAT_SORTS)}")
    limit = _limit(call, default=25, high=100)
    chats = list(creator.chats.values())
    if kind == "vips":
        vips = creator.list_members[creator.list_id("VIP")]
        chats = [c for c in chats if c.fan_id in vips]
    elif kind == "subscribers":
        chats = [c for c in chats if active_tier(creator, c.fan_id)]
    elif kind == "followers":
        chats = [c for c in chats if not active_tier(creator, c.fan_id)]
    tier = call.query("subscriptionTierId")
    if tier is not None:
        chats = [c for c in chats if active_tier(creator, c.fan_id) == tier]
    search = call.query("search")
    if search is not None:
        needle = search.casefold()
        chats = [
            c
            for c in chats
            if needle in creator.fans[c.fan_id]["username"].casefold()
            or needle in str(creator.fans[c.fan_id]["displayName"] or "").casefold()
        ]
    key = _unread_first if sort == "unread" else _last_id
    return _chat_page(creator, chats, key, sort != "oldest", call.query("cursor"), limit)


@route("GET", "/{acc}/chats/unread", "unread_chats")
async def unread_chats(gw: Gateway, call: Call) -> Any:
    creator = call.account
    chats = [c for c in creator.chats.values() if c.unread_count > 0]
    limit = _limit(call, default=25, high=100)
    return _chat_page(creator, chats, _last_id, True, call.query("cursor"), limit)


@route("GET", "/{acc}/chats/{chat}", "get_chat")
async def get_chat(gw: Gateway, call: Call) -> Any:
    creator = call.account
    return nested(group_object(creator, chat_or_404(creator, call.param("chat"))))


@route("POST", "/{acc}/chats/mute", "mute_chat")
async def mute(gw: Gateway, call: Call) -> Any:
    creator = call.account
    fan_or_404(creator, required_str(call.body, "targetUserId"))
    creator.muted.add(str(call.body["targetUserId"]))
    return nested(True)


@route("POST", "/{acc}/chats/unmute", "unmute_chat")
async def unmute(gw: Gateway, call: Call) -> Any:
    creator = call.account
    fan_or_404(creator, required_str(call.body, "targetUserId"))
    creator.muted.discard(str(call.body["targetUserId"]))
    return nested(True)


@route("POST", "/{acc}/chats/typing", "typing")
async def typing(gw: Gateway, call: Call) -> Any:
    chat_or_404(call.account, required_str(call.body, "chatId"))
    return nested(True)


@route("POST", "/{acc}/chats/{chat}/readreceipts", "read_receipts")
async def read_receipts(gw: Gateway, call: Call) -> Any:
    chat = chat_or_404(call.account, call.param("chat"))
    action = call.body.get("action")
    if action not in ("enable", "disable"):
        raise ApiError(400, "action must be enable or disable")
    chat.read_receipts = action == "enable"
    return nested(True)


# Messages ------------------------------------------------------------------------------------


def _account_media(creator: CreatorState, chat: ChatState, messages: list[dict[str, Any]]) -> Any:
    """The page's ``accountMedia`` (§10.1): each attachment's vault item (ASSUMED: type, title,
    duration, size) with the price offered to this fan and whether the fan bought it."""
    media = []
    seen: set[str] = set()
    for message in messages:
        for attachment in message["attachments"]:
            content_id = attachment["contentId"]
            if content_id in seen:
                continue
            seen.add(content_id)
            item = creator.vault.get(content_id, {})
            media.append(
                {
                    **{k: v for k, v in item.items() if k != "albumId"},
                    "id": content_id,
                    "accountId": creator.native_id,
                    "price": creator.offers.get((chat.fan_id, content_id), 0),
                    "purchased": (chat.fan_id, content_id) in creator.purchases,
                    "createdAt": item.get("createdAt") or int(message["createdAt"] * 1000),
                }
            )
    return media


@route("GET", "/{acc}/chats/{chat}/messages", "list_messages")
async def list_messages(gw: Gateway, call: Call) -> Any:
    from bisect import bisect_left

    creator = call.account
    chat = chat_or_404(creator, call.param("chat"))
    limit = _limit(call, default=10, high=10)
    before = _int_cursor(call.query("cursor"))
    end = len(chat.messages) if before is None else bisect_left(chat.message_ids, before)
    start = max(0, end - limit)
    page = chat.messages[start:end][::-1]
    cursor = page[-1]["id"] if page and start > 0 else None
    return nested(
        {"messages": page, "accountMedia": _account_media(creator, chat, page), "cursor": cursor}
    )


@route("POST", "/{acc}/chats/{chat}/messages", "send_message", status=201)
async def send_message(gw: Gateway, call: Call) -> Any:
    creator = call.account
    chat = chat_or_404(creator, call.param("chat"))
    text, media, _access, price = validate.send_message(call.body)
    reply_to = call.body.get("inReplyTo")
    if reply_to is not None:
        reply_to = str(reply_to)
        if creator.message_chat.get(reply_to) != chat.id:
            raise ApiError(400, "inReplyTo is not a message of this chat")
    attachments = []
    for item in media:
        # The attachment's contentId is the vault item's id (ASSUMED, contract row 7): what a
        # purchase's accountMediaId names later.
        content_id = item["mediaId"]
        if content_id not in creator.vault:
            raise ApiError(400, f"mediaIds: {content_id[:40]} is not in this account's vault")
        preview = item.get("previewId")
        if preview is not None and preview not in creator.vault:
            raise ApiError(400, f"previewId: {str(preview)[:40]} is not in this account's vault")
        if price is not None:
            creator.offers[(chat.fan_id, content_id)] = price
        attachments.append({"contentType": 1, "contentId": content_id})
    if price is not None and not attachments:
        raise ApiError(400, "a PPV needs media (mediaIds)")
    message = gw.world.add_message(
        creator,
        chat,
        sender_id=creator.native_id,
        content=text,
        attachments=attachments,
        in_reply_to=reply_to,
    )
    gw.emit("message.sent", creator, message)
    if price is not None and gw.webhook is not None:
        gw.webhook.ppv_sent(creator, chat, [a["contentId"] for a in attachments])
    return nested(message, status=201)


def _message_or_404(gw: Gateway, call: Call) -> dict[str, Any]:
    message = gw.world.message(call.account, required_str(call.body, "messageId"))
    if message is None:
        raise ApiError(404, "Message not found")
    return message


def _like_type(call: Call) -> int:
    value = call.body.get("type", 1)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 7:
        raise ApiError(400, "type must be a reaction type between 1 and 7")
    return value


@route("POST", "/{acc}/messages/like", "like_message")
async def like(gw: Gateway, call: Call) -> Any:
    message = _message_or_404(gw, call)
    kind = _like_type(call)
    gw.world.set_like(message, call.account.native_id, kind, on=True)
    return nested({"messageId": message["id"], "type": kind, "userId": call.account.native_id})


@route("POST", "/{acc}/messages/unlike", "unlike_message")
async def unlike(gw: Gateway, call: Call) -> Any:
    message = _message_or_404(gw, call)
    kind = _like_type(call)
    gw.world.set_like(message, call.account.native_id, kind, on=False)
    return nested({"messageId": message["id"], "type": kind, "userId": call.account.native_id})


@route("DELETE", "/{acc}/messages/{message}", "unsend_message")
async def unsend(gw: Gateway, call: Call) -> Any:
    creator = call.account
    message = gw.world.message(creator, call.param("message"))
    if message is None:
        raise ApiError(404, "Message not found")
    if message["senderId"] != creator.native_id:
        raise ApiError(403, "Only your own messages can be deleted")
    gw.world.remove_message(creator, message["id"])
    return nested({"messageId": message["id"], "deletedAt": int(time.time())})


def _pin(gw: Gateway, call: Call, pinned: bool) -> Any:
    creator = call.account
    chat = chat_or_404(creator, required_str(call.body, "chatId"))
    message_id = required_str(call.body, "messageId")
    message = gw.world.message(creator, message_id)
    if message is None or message["groupId"] != chat.id:
        raise ApiError(404, "Message not found")
    message["pinned"] = pinned
    return nested({"messageId": message_id, "pinned": pinned})


@route("POST", "/{acc}/messages/pin", "pin_message")
async def pin(gw: Gateway, call: Call) -> Any:
    return _pin(gw, call, True)


@route("POST", "/{acc}/messages/unpin", "unpin_message")
async def unpin(gw: Gateway, call: Call) -> Any:
    return _pin(gw, call, False)


# Subscribers, earnings, tips -----------------------------------------------------------------


@route("GET", "/{acc}/subscribers", "list_subscribers")
async def subscribers(gw: Gateway, call: Call) -> Any:
    creator = call.account
    raw_status = (call.query("status") or "all").replace(" ", "")
    statuses = SUBSCRIBER_STATUS.get(raw_status)
    if statuses is None:
        raise ApiError(400, "status must be one of 3,4, 3, 4, all, active, expired")
    limit = _limit(call, default=25, high=100)
    subs = [s for s in creator.subscriptions.values() if s["status"] in statuses]
    tiers = call.query("subscriptionTierIds")
    if tiers is not None:
        wanted = {t.strip() for t in tiers.split(",") if t.strip()}
        subs = [s for s in subs if s["subscriptionTierId"] in wanted]
    search = call.query("search")
    if search is not None:
        needle = search.casefold()
        subs = [
            s
            for s in subs
            if needle in creator.fans[s["subscriberId"]]["username"].casefold()
            or needle in str(creator.fans[s["subscriberId"]]["displayName"]).casefold()
        ]
    subs.sort(key=lambda s: int(s["id"]), reverse=True)
    cursor = _int_cursor(call.query("cursor"))
    if cursor is not None:
        subs = [s for s in subs if int(s["id"]) < cursor]
    page = subs[:limit]
    next_cursor = page[-1]["id"] if len(subs) > limit else None
    every = creator.subscriptions.values()
    active = sum(1 for s in every if s["status"] == ACTIVE)
    stats = {"totalActive": active, "totalExpired": len(every) - active, "total": len(every)}
    return nested({"stats": stats, "subscriptions": page}, next_cursor=next_cursor)


@route("GET", "/{acc}/earnings/fans/{fan}", "fan_earnings")
async def fan_earnings(gw: Gateway, call: Call) -> Any:
    creator = call.account
    fan_id = call.param("fan")
    fan_or_404(creator, fan_id)
    buckets: dict[int, list[int]] = {}
    for tx in creator.transactions.get(fan_id, []):
        day = tx["createdAt"] // DAY_MS * DAY_MS
        bucket = buckets.setdefault(day, [0, 0])
        bucket[0] += tx["totalGross"]
        bucket[1] += tx["totalNet"]
    points = [
        {"timestamp": day, "totalGross": gross, "totalNet": net}
        for day, (gross, net) in sorted(buckets.items())
    ]
    return nested(
        {
            "totalGross": sum(p["totalGross"] for p in points),
            "totalNet": sum(p["totalNet"] for p in points),
            "datapoints": points,
        }
    )


@route("GET", "/{acc}/earnings/fans/{fan}/stats", "fan_earnings_stats")
async def fan_earnings_stats(gw: Gateway, call: Call) -> Any:
    creator = call.account
    fan_id = call.param("fan")
    fan_or_404(creator, fan_id)
    after = _int_cursor(call.query("after")) or 0
    txs = [tx for tx in creator.transactions.get(fan_id, []) if tx["createdAt"] > after]
    txs.sort(key=lambda tx: tx["createdAt"], reverse=True)
    return nested(txs)


@route("GET", "/{acc}/chats/{fan}/tips", "fan_tips")
async def fan_tips(gw: Gateway, call: Call) -> Any:
    creator = call.account
    fan_id = call.param("fan")
    fan_or_404(creator, fan_id)
    tips = sorted(creator.tips.get(fan_id, []), key=lambda t: t["createdAt"], reverse=True)
    return nested({"totalTips": sum(t["amount"] for t in tips), "tips": tips})


# Lists ---------------------------------------------------------------------------------------


def _list_and_fan(call: Call) -> tuple[str, str]:
    creator = call.account
    user_id = required_str(call.body, "userId")
    list_id = required_str(call.body, "listId")
    if list_id not in creator.lists:
        raise ApiError(404, "List not found")
    fan_or_404(creator, user_id)
    return list_id, user_id


@route("POST", "/{acc}/lists/users", "add_to_list")
async def add_to_list(gw: Gateway, call: Call) -> Any:
    list_id, user_id = _list_and_fan(call)
    call.account.list_members[list_id].add(user_id)
    return nested(True)


@route("DELETE", "/{acc}/lists/users", "remove_from_list")
async def remove_from_list(gw: Gateway, call: Call) -> Any:
    list_id, user_id = _list_and_fan(call)
    call.account.list_members[list_id].discard(user_id)
    return nested(True)


@route("GET", "/{acc}/lists", "list_lists")
async def list_lists(gw: Gateway, call: Call) -> Any:
    creator = call.account
    user_id = call.query("userId")
    if user_id is not None:
        fan_or_404(creator, user_id)
    rows = []
    for list_id, row in creator.lists.items():
        members = creator.list_members[list_id]
        if user_id is None or user_id in members:
            rows.append({**row, "itemCount": len(members)})
    return nested(rows)


# Automated messages --------------------------------------------------------------------------


@route("GET", "/{acc}/automated-messages", "list_automated")
async def list_automated(gw: Gateway, call: Call) -> Any:
    return nested(list(call.account.automated.values()))


@route("POST", "/{acc}/automated-messages", "create_automated", status=201)
async def create_automated(gw: Gateway, call: Call) -> Any:
    creator = call.account
    validate.automated_message(call.body, set(creator.tiers))
    now_ms = int(time.time() * 1000)
    rule_id = gw.world.new_id(now_ms)
    rule = automated_rule(rule_id, call.body, now_ms)
    creator.automated[rule_id] = rule
    return nested(rule, status=201)


@route("DELETE", "/{acc}/automated-messages/{rule}", "delete_automated")
async def delete_automated(gw: Gateway, call: Call) -> Any:
    if call.account.automated.pop(call.param("rule"), None) is None:
        raise ApiError(404, "Automated message not found")
    return nested(True)


# Tips are transactions too: keep the type codes importable from here for tests.
TRANSACTION_TYPES = {"subscription": TX_SUBSCRIPTION, "media": TX_MEDIA, "tip": TX_TIP}
__all__ = ["TRANSACTION_TYPES", "envelope"]
