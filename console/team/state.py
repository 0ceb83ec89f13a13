"""The team's tables written from the event log: messages and chats as the gateway delivered
them, and sales credited to the chatter who sent the PPV.

Runs inside the log writer's transaction (:mod:`console.team.eventlog`): an event and what it
changed commit together, once, whichever instance received it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

from console.events import Event, EventType

_MESSAGES = (EventType.MESSAGE_RECEIVED, EventType.MESSAGE_SENT)


async def apply_logged(conn: asyncpg.Connection, entries: Sequence[tuple[Any, int | None]]) -> None:
    """Apply freshly logged entries (``(Event | TeamEntry, seq)``)."""
    chats: dict[str, tuple[Any, ...]] = {}
    messages: list[tuple[Any, ...]] = []
    for item, seq in entries:
        if not isinstance(item, Event):
            if item.apply is not None and seq is not None:
                await item.apply(conn, seq)
            continue
        if item.type in _MESSAGES and item.message is not None:
            message = item.message
            chat_id = message.chat_id or item.chat_id
            if not chat_id:
                continue
            messages.append(
                (
                    message.id,
                    chat_id,
                    item.account_id,
                    item.type is EventType.MESSAGE_SENT,
                    message.created_at,
                    message.model_dump_json(),
                )
            )
            chats[chat_id] = (chat_id, item.account_id, item.fan_id, message.created_at)
        elif item.type is EventType.SALE_COMPLETED and seq is not None:
            await credit_sale(conn, item, seq)
    if chats:
        await conn.executemany(
            "INSERT INTO chats (chat_id, account_id, fan_id, last_message_at) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (chat_id) DO UPDATE SET "
            "fan_id = coalesce(EXCLUDED.fan_id, chats.fan_id), last_message_at = "
            "greatest(chats.last_message_at, EXCLUDED.last_message_at)",
            list(chats.values()),
        )
    if messages:
        await conn.executemany(
            "INSERT INTO messages (message_id, chat_id, account_id, from_creator, created_at, "
            "body) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (message_id) DO NOTHING",
            messages,
        )


def media_id_of(raw: Mapping[str, Any]) -> str | None:
    """The purchased media's id in a sale delivery (``accountMediaId``), where the provider's
    envelope put it (``data``, ``payload``, or either one level down)."""
    for name in ("data", "payload"):
        inner = raw.get(name)
        if not isinstance(inner, Mapping):
            continue
        for candidate in (inner, *(v for v in inner.values() if isinstance(v, Mapping))):
            value = candidate.get("accountMediaId")
            if isinstance(value, str | int) and str(value):
                return str(value)[:200]
    return None


async def credit_sale(conn: asyncpg.Connection, event: Event, seq: int) -> None:
    """Credit a sale to the chatter whose send into its chat offered the bought media (the
    latest such send before the sale); else to the chatter who last sent a PPV (a send with
    media) there; else to no one (a sale from the creator's own posts, say)."""
    media_id = media_id_of(event.raw)
    chatter = None
    if event.chat_id:
        if media_id is not None:
            chatter = await conn.fetchval(
                "SELECT chatter_id FROM outbox WHERE state = 'sent' AND chat_id = $1 "
                "AND $2 = ANY(media_ids) ORDER BY sent_at DESC LIMIT 1",
                event.chat_id,
                media_id,
            )
        if chatter is None:
            chatter = await conn.fetchval(
                "SELECT chatter_id FROM outbox WHERE state = 'sent' AND chat_id = $1 "
                "AND cardinality(media_ids) > 0 ORDER BY sent_at DESC LIMIT 1",
                event.chat_id,
            )
    await conn.execute(
        "INSERT INTO credits (event_seq, account_id, chat_id, chatter_id, media_id, "
        "amount_millis, at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
        "ON CONFLICT (event_seq) DO NOTHING",
        seq,
        event.account_id,
        event.chat_id,
        chatter,
        media_id,
        event.amount_millis or 0,
        event.occurred_at,
    )
