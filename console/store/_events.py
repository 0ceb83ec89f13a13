"""Applying webhook events: log and effect in one transaction, exactly once, in any order."""

from __future__ import annotations

import json

import aiosqlite

from console.api.models import SubscriptionStatus
from console.events import Event, EventType
from console.store._core import dumps, ms, now_ms
from console.store._writes import CacheWrites
from console.store.rows import AppliedEvent
from console.sync.updates import (
    ChatChanged,
    EventApplied,
    FanChanged,
    MessageAdded,
    MessageChanged,
    Update,
)

_SUBSCRIPTION_STATUS = {
    EventType.SUBSCRIPTION_NEW: SubscriptionStatus.ACTIVE,
    EventType.SUBSCRIPTION_RENEWED: SubscriptionStatus.ACTIVE,
    EventType.SUBSCRIPTION_EXPIRED: SubscriptionStatus.EXPIRED,
}


class EventLog(CacheWrites):
    async def apply_event(self, event: Event) -> AppliedEvent | None:
        """Record ``event`` in the event log and apply it, atomically.

        ``None`` when its idempotency key was seen before (nothing else happens). Older events
        never overwrite newer state: the last message is derived from the cached messages and
        subscriptions compare their times.
        """
        async with self._transaction() as db:
            # The seq is the row's key, not part of the stored JSON: one statement, no update.
            cursor = await db.execute(
                """INSERT INTO event_log(idempotency_key, type, account_id, event_json,
                    received_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(idempotency_key) DO NOTHING""",
                (
                    event.idempotency_key,
                    event.type.value,
                    event.account_id,
                    event.model_dump_json(exclude={"seq"}),
                    now_ms(),
                ),
            )
            if cursor.rowcount == 0:
                return None
            seq = cursor.lastrowid
            assert seq is not None
            stored = event.model_copy(update={"seq": seq})
            await self._ensure_account(db, event.account_id)
            updates = await self._apply(db, stored)
        updates.append(EventApplied(stored))
        return AppliedEvent(seq=seq, event=stored, updates=updates)

    async def events_since(self, seq: int, limit: int = 500) -> list[Event]:
        """Logged events after ``seq``, oldest first (the hub's resume)."""
        rows = await self._read(
            "SELECT seq, event_json FROM event_log WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, limit),
        )
        events = []
        for row in rows:
            event = Event.model_validate_json(row[1])
            event.seq = row[0]
            events.append(event)
        return events

    async def last_event_seq(self) -> int:
        row = await self._read_one("SELECT COALESCE(MAX(seq), 0) FROM event_log")
        return int(row[0])

    async def _apply(self, db: aiosqlite.Connection, event: Event) -> list[Update]:
        kind = event.type
        if kind in (EventType.MESSAGE_RECEIVED, EventType.MESSAGE_SENT):
            return await self._apply_message(db, event)
        if kind in (EventType.TIP_RECEIVED, EventType.SALE_COMPLETED):
            return await self._apply_purchase(db, event)
        if kind in _SUBSCRIPTION_STATUS:
            return await self._apply_subscription(db, event)
        if kind is EventType.CHAT_REACTION:
            return await self._apply_reaction(db, event)
        return []

    async def _apply_message(self, db: aiosqlite.Connection, event: Event) -> list[Update]:
        message = event.message
        if message is None:
            return []
        account_id = event.account_id
        chat_id = event.chat_id or message.chat_id
        creator_id = await self._creator_id(db, account_id)
        sent = event.type is EventType.MESSAGE_SENT or (
            creator_id is not None and message.sender_id == creator_id
        )
        fan_id = event.fan_id or (None if sent else message.sender_id)
        before = await self._one(
            db,
            "SELECT COALESCE(MAX(pos), -1), EXISTS(SELECT 1 FROM messages WHERE message_id = ?), "
            "EXISTS(SELECT 1 FROM chats WHERE chat_id = ? AND fan_id IS NOT NULL) "
            "FROM messages WHERE chat_id = ?",
            (message.id, chat_id, chat_id),
        )
        if not before[2]:
            await self._ensure_chat(db, account_id, chat_id, fan_id)
        change = await self._upsert_message(
            db,
            account_id,
            chat_id,
            message,
            creator_id=creator_id,
            from_creator=sent,
            exists=bool(before[1]),
        )
        if change is None:
            return []
        unread = 1 if isinstance(change, MessageAdded) and not sent else 0
        await self._refresh_chat(db, chat_id, unread_delta=unread)
        if sent:
            # The creator answered from somewhere: what came before is read, unless this
            # event is older than something already cached.
            newest = await self._one(
                db, "SELECT pos FROM messages WHERE message_id = ?", (message.id,)
            )
            if newest is not None and newest[0] > before[0]:
                await db.execute("UPDATE chats SET unread_count = 0 WHERE chat_id = ?", (chat_id,))
        return [change, ChatChanged(account_id, chat_id)]

    async def _apply_purchase(self, db: aiosqlite.Connection, event: Event) -> list[Update]:
        fan_id = event.fan_id
        amount = event.amount_millis or 0
        if fan_id is None:
            return []
        at = ms(event.occurred_at)
        await self._ensure_fan(db, event.account_id, fan_id)
        row = await self._one(
            db,
            "SELECT spend_history_json FROM fans WHERE account_id = ? AND fan_id = ?",
            (event.account_id, fan_id),
        )
        history = sorted([*json.loads(row[0]), [at, amount]], key=lambda point: point[0])
        tip = amount if event.type is EventType.TIP_RECEIVED else 0
        await db.execute(
            """UPDATE fans SET lifetime_spend_millis = COALESCE(lifetime_spend_millis, 0) + ?,
                tips_millis = COALESCE(tips_millis, 0) + ?, spend_history_json = ?,
                last_purchase_millis = CASE WHEN last_purchase_at IS NULL
                    OR last_purchase_at <= ? THEN ? ELSE last_purchase_millis END,
                last_purchase_at = MAX(COALESCE(last_purchase_at, 0), ?), updated_at = ?
            WHERE account_id = ? AND fan_id = ?""",
            (amount, tip, dumps(history), at, amount, at, now_ms(), event.account_id, fan_id),
        )
        updates: list[Update] = [FanChanged(event.account_id, fan_id)]
        if event.chat_id:
            updates.append(ChatChanged(event.account_id, event.chat_id))
        return updates

    async def _apply_subscription(self, db: aiosqlite.Connection, event: Event) -> list[Update]:
        sub = event.subscription
        fan_id = (sub.fan_id if sub else None) or event.fan_id
        if sub is None or fan_id is None:
            return []
        # The event's name is the provider's statement of the new state.
        sub = sub.model_copy(update={"status": _SUBSCRIPTION_STATUS[event.type]})
        if sub.updated_at is None:
            sub = sub.model_copy(update={"updated_at": event.occurred_at})
        await self._ensure_fan(db, event.account_id, fan_id)
        if not await self._set_subscription(db, event.account_id, fan_id, sub):
            return []
        rows = await db.execute_fetchall(
            "SELECT chat_id FROM chats WHERE account_id = ? AND fan_id = ?",
            (event.account_id, fan_id),
        )
        updates: list[Update] = [FanChanged(event.account_id, fan_id)]
        updates.extend(ChatChanged(event.account_id, row[0]) for row in rows)
        return updates

    async def _apply_reaction(self, db: aiosqlite.Connection, event: Event) -> list[Update]:
        reaction = event.reaction
        if reaction is None:
            return []
        row = await self._one(
            db,
            "SELECT pos, chat_id, likes_json FROM messages WHERE message_id = ?",
            (reaction.message_id,),
        )
        if row is None:
            return []
        user = reaction.user_id or event.fan_id or ""
        likes = [like for like in json.loads(row[2]) if like.get("user_id") != user]
        if reaction.added:
            likes.append({"user_id": user, "type": reaction.type})
        creator_id = await self._creator_id(db, event.account_id)
        await db.execute(
            "UPDATE messages SET likes_json = ?, liked_by_creator = ? WHERE pos = ?",
            (
                dumps(likes),
                any(like.get("user_id") == creator_id for like in likes),
                row[0],
            ),
        )
        return [MessageChanged(event.account_id, row[1], reaction.message_id)]
