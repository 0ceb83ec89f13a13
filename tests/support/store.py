"""Factories shared by the store tests (real models, real SQLite files)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from console.api.models import Account, Chat, Fan, Like, Message, Subscription
from console.events import Event, EventType, Provider, Reaction
from console.store import Store

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
ACCOUNT = "fansly_acc_1"
CREATOR = "9000"


def check_fts_index(path: Path) -> None:
    """Raise if the external-content index and the messages table disagree. Every message is
    either indexed with its current text or pending (and then not indexed at all), so indexing
    the pending rows (rolled back after) must give an index equal to the table."""
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO messages_fts(rowid, text) SELECT m.pos, m.text FROM fts_pending p "
            "JOIN messages m ON m.pos = p.pos"
        )
        conn.execute("INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)")
        conn.execute("ROLLBACK")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def account(account_id: str = ACCOUNT, creator: str = CREATOR, name: str = "Creator") -> Account:
    return Account(account_id=account_id, name=name, fansly_account_id=creator)


def fan(fan_id: str = "100", username: str | None = None, **extra: Any) -> Fan:
    return Fan(id=fan_id, username=username or f"fan{fan_id}", **extra)


def message(
    message_id: str,
    chat_id: str = "c1",
    *,
    sender: str = "100",
    text: str = "hello",
    minutes: float = 0,
    created: datetime | None = None,
    **extra: Any,
) -> Message:
    return Message(
        id=message_id,
        chat_id=chat_id,
        sender_id=sender,
        content=text,
        created_at=created or at(minutes),
        **extra,
    )


def chat(
    chat_id: str = "c1",
    fan_id: str = "100",
    *,
    last: Message | None = None,
    unread: int = 0,
    account_id: str = ACCOUNT,
    **fan_extra: Any,
) -> Chat:
    return Chat(
        id=chat_id,
        account_id=account_id,
        fan=fan(fan_id, **fan_extra),
        unread_count=unread,
        last_message=last,
    )


def event(
    kind: EventType,
    key: str,
    *,
    minutes: float = 0,
    account_id: str = ACCOUNT,
    **fields: Any,
) -> Event:
    return Event(
        type=kind,
        provider=Provider.FANSLY_API,
        name=kind.value,
        idempotency_key=key,
        account_id=account_id,
        occurred_at=at(minutes),
        **fields,
    )


def message_event(key: str, msg: Message, *, sent: bool = False) -> Event:
    kind = EventType.MESSAGE_SENT if sent else EventType.MESSAGE_RECEIVED
    return event(
        kind,
        key,
        minutes=(msg.created_at - T0).total_seconds() / 60,
        chat_id=msg.chat_id,
        fan_id=None if sent else msg.sender_id,
        message=msg,
    )


def subscription_event(key: str, kind: EventType, fan_id: str, minutes: float) -> Event:
    sub = Subscription(id=f"s{fan_id}", fan_id=fan_id, tier_name="Gold", updated_at=at(minutes))
    return event(kind, key, minutes=minutes, fan_id=fan_id, subscription=sub)


def reaction_event(
    key: str, message_id: str, user: str, *, added: bool = True, minutes: float = 0
) -> Event:
    return event(
        EventType.CHAT_REACTION,
        key,
        minutes=minutes,
        reaction=Reaction(message_id=message_id, user_id=user, type=1, added=added),
    )


__all__ = ["Like"]


async def fill_for_export(path: Path) -> None:
    async with await Store.open(path) as store:
        await store.upsert_accounts([account(), account("fansly_acc_2", "9001", "Two")])
        await store.upsert_chats(ACCOUNT, [chat("c1", "100", display_name="[b]Ann\x1b")])
        msgs = [
            message(
                f"m{i:04}", sender=CREATOR if i % 2 else "100", text=f'line {i}\n"q"', minutes=i
            )
            for i in range(1200)  # more than one page
        ]
        await store.upsert_messages(ACCOUNT, "c1", msgs, creator_id=CREATOR)
        await store.outbox.add(ACCOUNT, "c1", "send", {"content": "pending one"}, "cl-1")
        await store.upsert_chats(
            "fansly_acc_2",
            [chat("c2", "200", account_id="fansly_acc_2", last=message("x1", "c2", sender="200"))],
        )
