"""The team's tables written from the event log: messages and chats as the gateway delivered
them, and sales credited to the chatter who sent the PPV.

Runs inside the log writer's transaction (:mod:`console.team.eventlog`): an event and what it
changed commit together, once, whichever instance received it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from console.events import Event, EventType

_MESSAGES = (EventType.MESSAGE_RECEIVED, EventType.MESSAGE_SENT)


@dataclass(slots=True)
class TableRows:
    """What a batch of freshly logged entries writes to the team's tables: ``chats`` and
    ``messages`` as rows for one statement each (the log writer folds them into the statement
    that logs the batch), and ``later``, the entries whose writes need statements of their own
    (a team entry's ``apply``, a credited sale)."""

    chats: list[tuple[Any, ...]] = field(default_factory=list)
    messages: list[tuple[Any, ...]] = field(default_factory=list)
    later: list[tuple[Any, int]] = field(default_factory=list)


def table_rows(entries: Sequence[tuple[Any, int]]) -> TableRows:
    """The table writes of freshly logged entries (``(Event | TeamEntry, seq)``)."""
    chats: dict[str, tuple[Any, ...]] = {}
    rows = TableRows()
    for item, seq in entries:
        if not isinstance(item, Event):
            if item.apply is not None:
                rows.later.append((item, seq))
            continue
        if item.type in _MESSAGES and item.message is not None:
            message = item.message
            chat_id = message.chat_id or item.chat_id
            if not chat_id:
                continue
            rows.messages.append(
                (
                    message.id,
                    chat_id,
                    item.account_id,
                    item.type is EventType.MESSAGE_SENT,
                    message.created_at,
                    message.model_dump_json(),
                )
            )
            # One row per chat: an upsert may not touch a row twice in one statement.
            chats[chat_id] = (chat_id, item.account_id, item.fan_id, message.created_at)
        elif item.type is EventType.SALE_COMPLETED:
            rows.later.append((item, seq))
    rows.chats = list(chats.values())
    return rows


#: The chats and messages of a batch, as the unnest() of one array per column (appended to
#: the log writer's statement as data-modifying WITH clauses: no round trip of their own).
CHATS_UPSERT = (
    "INSERT INTO chats (chat_id, account_id, fan_id, last_message_at) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) "
    "ON CONFLICT (chat_id) DO UPDATE SET "
    "fan_id = coalesce(EXCLUDED.fan_id, chats.fan_id), last_message_at = "
    "greatest(chats.last_message_at, EXCLUDED.last_message_at)"
)
MESSAGES_INSERT = (
    "INSERT INTO messages (message_id, chat_id, account_id, from_creator, created_at, body) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[], "
    "$5::timestamptz[], $6::text[]) ON CONFLICT (message_id) DO NOTHING"
)


async def apply_later(conn: asyncpg.Connection, later: Sequence[tuple[Any, int]]) -> None:
    """The writes of :attr:`TableRows.later`, in the log's transaction."""
    for item, seq in later:
        if isinstance(item, Event):
            await credit_sale(conn, item, seq)
        elif item.apply is not None:
            await item.apply(conn, seq)


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
