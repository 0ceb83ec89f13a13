"""Writing what the gateway says: accounts, fans, chats, messages (idempotent upserts)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from console.changes import ChatChanged, FanChanged, MessageAdded, MessageChanged, Update
from console.store._core import (
    NEXT_POS,
    Part,
    at_free_pos,
    dumps,
    ensure_chat,
    ms,
    now_ms,
    one,
    pos_params,
)
from console.store._media import labelled, merge_attachments
from console.store.text import clean_stored

if TYPE_CHECKING:
    from console.api.models import Account, Chat, Earnings, Fan, Message, Subscription

# SubscriptionStatus values (a StrEnum in console.api.models, compared by value so that
# `import console.store` does not import pydantic).
_ACTIVE = "active"
_UNKNOWN = "unknown"

# A server copy makes a local state final ("sent"), except "unsent": the creator took the
# message back, and a copy arriving after that (a late webhook, a page read before the unsend
# landed) is of the message as it was, not a sign that it is back.
_INSERT_MESSAGE = f"""
INSERT INTO messages(pos, message_id, chat_id, account_id, sender_id, from_creator, text,
    created_at, reply_to_id, attachments_json, likes_json, liked_by_creator, pinned, tip_millis,
    state)
VALUES ({NEXT_POS}, :message_id, :chat_id, :account_id, :sender_id, :from_creator, :text,
    :created_at, :reply_to_id, :attachments_json, :likes_json, :liked_by_creator, :pinned,
    :tip_millis, 'sent')
ON CONFLICT(message_id) DO UPDATE SET
    text = excluded.text,
    attachments_json = excluded.attachments_json,
    likes_json = excluded.likes_json,
    liked_by_creator = excluded.liked_by_creator,
    pinned = excluded.pinned,
    reply_to_id = COALESCE(excluded.reply_to_id, messages.reply_to_id),
    tip_millis = MAX(messages.tip_millis, excluded.tip_millis),
    state = CASE WHEN messages.state = 'unsent' THEN 'unsent' ELSE 'sent' END,
    error = NULL
WHERE messages.text IS NOT excluded.text
    OR messages.attachments_json IS NOT excluded.attachments_json
    OR messages.likes_json IS NOT excluded.likes_json
    OR messages.pinned IS NOT excluded.pinned
    OR messages.liked_by_creator IS NOT excluded.liked_by_creator
    OR (excluded.reply_to_id IS NOT NULL AND messages.reply_to_id IS NOT excluded.reply_to_id)
    OR messages.tip_millis < excluded.tip_millis
    OR messages.state NOT IN ('sent', 'unsent')
"""

# A local message the creator sent whose server id is not known yet (the send is in flight,
# its answer was lost, or it was acknowledged without a body): the server copy, when it shows
# up, replaces it instead of appearing twice.
# A server copy of a local send: same chat and text, from the creator, and not older than the
# send itself (two minutes of clock skew allowed). Without the time bound a backfill page
# holding an old "ok" would be taken for an "ok" still in flight, which then never went out.
_TWIN_SKEW_MS = 120_000
_LOCAL_TWIN = f"""
SELECT m.pos, m.client_id FROM messages m JOIN outbox o ON o.client_id = m.client_id
WHERE m.chat_id = ? AND m.message_id IS NULL AND m.from_creator = 1 AND m.text = ?
    AND o.kind IN ('send', 'ppv') AND o.state IN ('in_flight', 'unknown', 'sent')
    AND ? >= o.created_at - {_TWIN_SKEW_MS}
ORDER BY m.created_at, m.pos LIMIT 1
"""


# The chat's newest message that is not a failed send (a thread's order, newest first).
_NEWEST = """FROM messages WHERE chat_id = :chat AND state != 'failed'
    ORDER BY created_at DESC, pos DESC LIMIT 1"""


def _subscriber(fan: Fan, tier_id: str | None) -> bool:
    if fan.subscription is not None and fan.subscription.status != _UNKNOWN:
        return fan.subscription.status == _ACTIVE
    return tier_id is not None


def _vip(lists: Iterable[str]) -> bool:
    return any(label.strip().casefold() == "vip" for label in lists)


def _sub_time(sub: Subscription) -> int | None:
    return ms(sub.updated_at or sub.created_at)


class CacheWrites(Part):
    """Writing what the gateway says (accounts, fans, chats, messages, automation rules)."""

    async def upsert_accounts(self, accounts: Sequence[Account]) -> None:
        """Store the connected accounts; their order here is the tab order."""

        def work(db: sqlite3.Connection) -> None:
            db.executemany(
                """INSERT INTO accounts(account_id, name, username, fansly_account_id, country,
                    status, position, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(account_id) DO UPDATE SET name = excluded.name,
                    username = COALESCE(excluded.username, accounts.username),
                    fansly_account_id = COALESCE(excluded.fansly_account_id,
                        accounts.fansly_account_id),
                    country = excluded.country, status = excluded.status,
                    position = excluded.position, updated_at = excluded.updated_at""",
                [
                    (
                        a.account_id,
                        a.name,
                        a.username,
                        a.fansly_account_id,
                        a.country,
                        a.status,
                        index,
                        now_ms(),
                    )
                    for index, a in enumerate(accounts)
                ],
            )

        await self._write(work)
        self._known.creators.update({a.account_id: a.fansly_account_id for a in accounts})

    async def upsert_fan(self, account_id: str, fan: Fan) -> list[Update]:
        """Store a fan's full profile (lists included, replacing the cached ones)."""

        def work(db: sqlite3.Connection) -> None:
            self._known.ensure(db, account_id)
            write_fan(db, account_id, fan, replace_lists=True)

        await self._write(work)
        return [FanChanged(account_id, fan.id)]

    async def set_fan_earnings(self, account_id: str, fan_id: str, earnings: Earnings) -> None:
        """Replace a fan's lifetime spend, tips and spend history with the gateway's figures."""
        history = sorted(earnings.history, key=lambda point: point[0])
        last = history[-1] if history else None

        def work(db: sqlite3.Connection) -> None:
            self._known.ensure(db, account_id)
            ensure_fan(db, account_id, fan_id)
            db.execute(
                """UPDATE fans SET lifetime_spend_millis = ?, tips_millis = ?,
                    spend_history_json = ?,
                    last_purchase_at = COALESCE(?, last_purchase_at),
                    last_purchase_millis = COALESCE(?, last_purchase_millis), updated_at = ?
                WHERE account_id = ? AND fan_id = ?""",
                (
                    earnings.total_gross_millis,
                    earnings.tips_millis,
                    dumps([[ms(at), amount] for at, amount in history]),
                    ms(last[0]) if last else None,
                    last[1] if last else None,
                    now_ms(),
                    account_id,
                    fan_id,
                ),
            )

        await self._write(work)

    async def upsert_chats(self, account_id: str, chats: Sequence[Chat]) -> list[Update]:
        """Store a page of the chat list: the chats, their fans and their last messages.

        Local-only flags (pinned, muted) are kept; the provider's unread count wins.
        """

        def work(db: sqlite3.Connection) -> list[Update]:
            updates: list[Update] = []
            self._known.ensure(db, account_id)
            creator_id = self._known.creator_id(db, account_id)
            for chat in chats:
                write_fan(db, account_id, chat.fan, replace_lists=False)
                db.execute(
                    """INSERT INTO chats(chat_id, account_id, fan_id, unread_count,
                        subscription_tier_id, flags, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(chat_id) DO UPDATE SET fan_id = excluded.fan_id,
                        unread_count = excluded.unread_count,
                        subscription_tier_id = excluded.subscription_tier_id,
                        flags = excluded.flags, updated_at = excluded.updated_at""",
                    (
                        chat.id,
                        account_id,
                        chat.fan.id,
                        chat.unread_count,
                        chat.subscription_tier_id,
                        chat.flags,
                        now_ms(),
                    ),
                )
                row = one(
                    db,
                    "SELECT lists_json FROM fans WHERE account_id = ? AND fan_id = ?",
                    (account_id, chat.fan.id),
                )
                db.execute(
                    "UPDATE chats SET vip = ?, subscriber = ? WHERE chat_id = ?",
                    (
                        _vip(json.loads(row[0])) if row else False,
                        _subscriber(chat.fan, chat.subscription_tier_id),
                        chat.id,
                    ),
                )
                if chat.last_message is not None:
                    write_message(db, account_id, chat.id, chat.last_message, creator_id=creator_id)
                refresh_chat(db, chat.id)
                updates.append(ChatChanged(account_id, chat.id))
            return updates

        return await self._write(work)

    async def upsert_messages(
        self,
        account_id: str,
        chat_id: str,
        messages: Sequence[Message],
        *,
        creator_id: str | None = None,
    ) -> list[Update]:
        """Store a page of a chat's messages; re-syncing the same page changes nothing.

        ``creator_id`` (the creator's Fansly id) tells the creator's messages from the fan's;
        by default the account's ``fansly_account_id``. Returns the updates to publish.
        """

        def work(db: sqlite3.Connection) -> list[Update]:
            updates: list[Update] = []
            self._known.ensure(db, account_id)
            creator = creator_id or self._known.creator_id(db, account_id)
            fan_ids = {m.sender_id for m in messages if m.sender_id != creator}
            ensure_chat(db, account_id, chat_id, next(iter(fan_ids), None))
            for message in messages:
                change = write_message(db, account_id, chat_id, message, creator_id=creator)
                if change is not None:
                    updates.append(change)
            if updates:
                refresh_chat(db, chat_id)
                updates.append(ChatChanged(account_id, chat_id))
            return updates

        return await self._write(work)


#: A server copy that contradicts a pin or a like the chatter made is taken for a page read
#: before the action landed at the gateway (fetched while it was on its way) while the action
#: waits in the outbox and for this long after the gateway took it: the chatter's state stands,
#: and a later copy (the next sync) decides. Before, such a page unpinned a message the chatter
#: had just pinned, and the next p pinned it a second time.
FLAG_STALE_MS = 60_000
_FLAG_ACTIONS = {"pinned": ("pin", "unpin"), "liked_by_creator": ("like", "unlike")}
_LAST_FLAG_ACTION = """
SELECT kind FROM outbox
WHERE account_id = ? AND kind IN (?, ?) AND json_extract(payload_json, '$.message_id') = ?
    AND (state IN ('queued', 'in_flight', 'unknown') OR (state = 'sent' AND updated_at >= ?))
ORDER BY id DESC LIMIT 1
"""


def _keep_local_flags(
    db: sqlite3.Connection, account_id: str, message_id: str, params: dict[str, Any]
) -> None:
    """Keep the flags of the chatter's recent pin and like actions over a server copy (the
    outbox is read only when the copy differs from the cache: a re-synced page costs one
    lookup by key)."""
    stored = one(
        db, "SELECT pinned, liked_by_creator FROM messages WHERE message_id = ?", (message_id,)
    )
    if stored is None:
        return
    since = now_ms() - FLAG_STALE_MS
    for index, (column, (on, off)) in enumerate(_FLAG_ACTIONS.items()):
        if bool(stored[index]) == bool(params[column]):
            continue
        last = one(db, _LAST_FLAG_ACTION, (account_id, on, off, message_id, since))
        if last is not None:
            params[column] = last[0] == on


def write_message(
    db: sqlite3.Connection,
    account_id: str,
    chat_id: str,
    message: Message,
    *,
    creator_id: str | None,
    from_creator: bool | None = None,
    exists: bool | None = None,
) -> MessageAdded | MessageChanged | None:
    """Insert or update one server message; the change, or ``None`` when nothing changed."""
    if from_creator is None:
        from_creator = creator_id is not None and message.sender_id == creator_id
    text = clean_stored(message.content)
    likes = [like.model_dump() for like in message.likes]
    params: dict[str, Any] = {
        "message_id": message.id,
        "chat_id": chat_id,
        "account_id": account_id,
        "sender_id": message.sender_id,
        "from_creator": from_creator,
        "text": text,
        "created_at": ms(message.created_at),
        "reply_to_id": message.in_reply_to,
        "attachments_json": labelled(
            db, account_id, dumps([a.model_dump() for a in message.attachments])
        ),
        "likes_json": dumps(likes),
        "liked_by_creator": any(like["user_id"] == creator_id for like in likes),
        "pinned": message.pinned,
        "tip_millis": message.tip_millis,
        **pos_params(ms(message.created_at) or 0),
    }
    if exists is None:
        exists = one(db, "SELECT 1 FROM messages WHERE message_id = ?", (message.id,)) is not None
    if exists:
        _keep_local_flags(db, account_id, message.id, params)
    if exists and message.attachments:
        stored = one(
            db, "SELECT attachments_json FROM messages WHERE message_id = ?", (message.id,)
        )
        params["attachments_json"] = merge_attachments(
            stored[0] if stored else None, params["attachments_json"]
        )
    if not exists and from_creator:
        twin = one(db, _LOCAL_TWIN, (chat_id, text, params["created_at"] or 0))
        if twin is not None:
            adopt(db, twin[0], message, params)
            db.execute(
                "UPDATE outbox SET state = 'sent', updated_at = ? WHERE client_id = ?",
                (now_ms(), twin[1]),
            )
            return MessageChanged(account_id, chat_id, message.id)
    cursor = at_free_pos(db, _INSERT_MESSAGE, params)
    if cursor.rowcount == 0:
        return None
    if not exists:
        return MessageAdded(account_id, chat_id, message.id)
    return MessageChanged(account_id, chat_id, message.id)


def adopt(db: sqlite3.Connection, pos: int, message: Message, params: dict[str, Any]) -> None:
    """Turn the local row at ``pos`` into the server ``message`` (same row, new position)."""
    if message.attachments:
        stored = one(db, "SELECT attachments_json FROM messages WHERE pos = ?", (pos,))
        params = {
            **params,
            "attachments_json": merge_attachments(
                stored[0] if stored else None, params["attachments_json"]
            ),
        }
    at_free_pos(
        db,
        f"""UPDATE messages SET pos = {NEXT_POS}, message_id = :message_id,
            sender_id = :sender_id, text = :text, created_at = :created_at,
            reply_to_id = COALESCE(:reply_to_id, reply_to_id),
            attachments_json = :attachments_json, likes_json = :likes_json,
            pinned = :pinned, state = 'sent', error = NULL
        WHERE pos = :old_pos""",
        {**params, "old_pos": pos},
    )


def refresh_chat(db: sqlite3.Connection, chat_id: str, *, unread_delta: int = 0) -> None:
    """Recompute a chat's last message and waiting time from the cached messages.

    Derived from the messages themselves, so events applied in any order end the same.
    """
    # The creator's last answer (a thread's order is (created_at, pos)): the fan waits
    # since their first message after it.
    answered = one(
        db,
        """SELECT created_at, pos FROM messages
        WHERE chat_id = ? AND from_creator = 1 AND state != 'failed'
        ORDER BY created_at DESC, pos DESC LIMIT 1""",
        (chat_id,),
    )
    db.execute(
        f"""UPDATE chats SET
            last_message_id = COALESCE((SELECT COALESCE(message_id, client_id)
                {_NEWEST}), last_message_id),
            last_message_at = COALESCE((SELECT created_at {_NEWEST}), last_message_at),
            last_preview = COALESCE((SELECT preview(text, attachments_json != '[]')
                {_NEWEST}), last_preview),
            last_from_creator = COALESCE((SELECT from_creator {_NEWEST}), last_from_creator),
            waiting_since = (SELECT created_at FROM messages
                WHERE chat_id = :chat AND from_creator = 0
                    AND (created_at, pos) > (:answered_at, :answered_pos)
                ORDER BY created_at, pos LIMIT 1),
            unread_count = MAX(0, unread_count + :delta)
        WHERE chat_id = :chat""",
        {
            "chat": chat_id,
            "delta": unread_delta,
            # Nothing answered: every fan message counts (below any real time).
            "answered_at": answered[0] if answered else -(1 << 62),
            "answered_pos": answered[1] if answered else 0,
        },
    )


def ensure_fan(db: sqlite3.Connection, account_id: str, fan_id: str) -> None:
    db.execute(
        "INSERT INTO fans(account_id, fan_id, updated_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        (account_id, fan_id, now_ms()),
    )


def write_fan(db: sqlite3.Connection, account_id: str, fan: Fan, *, replace_lists: bool) -> None:
    sub = fan.subscription
    db.execute(
        """INSERT INTO fans(account_id, fan_id, username, display_name, avatar_url,
            created_at, lifetime_spend_millis, tips_millis, last_purchase_at,
            last_purchase_millis, lists_json, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT(account_id, fan_id) DO UPDATE SET username = excluded.username,
            display_name = excluded.display_name,
            avatar_url = COALESCE(excluded.avatar_url, fans.avatar_url),
            created_at = COALESCE(excluded.created_at, fans.created_at),
            lifetime_spend_millis = COALESCE(excluded.lifetime_spend_millis,
                fans.lifetime_spend_millis),
            tips_millis = COALESCE(excluded.tips_millis, fans.tips_millis),
            last_purchase_at = COALESCE(excluded.last_purchase_at, fans.last_purchase_at),
            last_purchase_millis = COALESCE(excluded.last_purchase_millis,
                fans.last_purchase_millis),
            lists_json = CASE WHEN ? OR excluded.lists_json != '[]'
                THEN excluded.lists_json ELSE fans.lists_json END,
            updated_at = excluded.updated_at""",
        (
            account_id,
            fan.id,
            fan.username,
            fan.display_name,
            fan.avatar_url,
            ms(fan.created_at),
            fan.lifetime_spend_millis,
            fan.tips_millis,
            ms(fan.last_purchase_at),
            fan.last_purchase_millis,
            dumps(fan.lists),
            now_ms(),
            replace_lists,
        ),
    )
    if sub is not None:
        set_subscription(db, account_id, fan.id, sub)
    if replace_lists:
        db.execute(
            "UPDATE chats SET vip = ? WHERE account_id = ? AND fan_id = ?",
            (_vip(fan.lists), account_id, fan.id),
        )


def set_subscription(
    db: sqlite3.Connection,
    account_id: str,
    fan_id: str,
    sub: Subscription,
    *,
    at: int | None = None,
) -> bool:
    """Store ``sub`` unless the cached one is newer; whether it was stored."""
    when = _sub_time(sub) or at
    cursor = db.execute(
        """UPDATE fans SET subscription_json = ?, subscription_status = ?,
            subscription_updated_at = ?
        WHERE account_id = ? AND fan_id = ?
            AND (subscription_updated_at IS NULL OR ? IS NULL
                 OR subscription_updated_at <= ?)""",
        (sub.model_dump_json(), sub.status.value, when, account_id, fan_id, when, when),
    )
    if cursor.rowcount == 0:
        return False
    if sub.status != _UNKNOWN:
        db.execute(
            "UPDATE chats SET subscriber = ? WHERE account_id = ? AND fan_id = ?",
            (sub.status == _ACTIVE, account_id, fan_id),
        )
    return True
