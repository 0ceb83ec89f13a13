"""The connections, the write transaction and row conversions shared by the store's parts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from console.api.models import Attachment, Like
from console.store.rows import ChatRow, MessageRow, MessageState
from console.store.schema import POS_SHIFT

BUSY_TIMEOUT_MS = 5000

MESSAGE_COLUMNS = """m.pos, m.account_id, m.chat_id, m.message_id, m.client_id, m.sender_id,
    m.from_creator, m.text, m.created_at, m.reply_to_id, r.text, m.attachments_json,
    m.likes_json, m.liked_by_creator, m.pinned, m.state, m.error, m.tip_millis"""
MESSAGE_FROM = "messages m LEFT JOIN messages r ON r.message_id = m.reply_to_id"

CHAT_COLUMNS = """c.account_id, c.chat_id, c.fan_id,
    COALESCE(NULLIF(f.display_name, ''), NULLIF(f.username, ''), ''), COALESCE(f.username, ''),
    c.unread_count, c.last_preview, c.last_from_creator, c.last_message_at, c.waiting_since,
    c.pinned, c.muted, c.vip, c.subscriber"""
CHAT_FROM = "chats c LEFT JOIN fans f ON f.account_id = c.account_id AND f.fan_id = c.fan_id"

# Allocates a message position in its millisecond slot (see schema.POS_SHIFT); :base is
# created_at_ms << POS_SHIFT.
NEXT_POS = "(SELECT COALESCE(MAX(pos) + 1, :base) FROM messages WHERE pos BETWEEN :base AND :top)"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def ms(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


def dt(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value / 1000, tz=UTC)


def dt_required(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def pos_params(created_ms: int) -> dict[str, int]:
    base = created_ms << POS_SHIFT
    return {"base": base, "top": base + (1 << POS_SHIFT) - 1}


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def message_row(row: Sequence[Any]) -> MessageRow:
    reply_text = row[10]
    if reply_text is not None:
        from console.store.text import one_line

        reply_text = one_line(reply_text)
    return MessageRow(
        pos=row[0],
        account_id=row[1],
        chat_id=row[2],
        message_id=row[3],
        client_id=row[4],
        sender_id=row[5],
        from_creator=bool(row[6]),
        text=row[7],
        created_at=dt_required(row[8]),
        reply_to_id=row[9],
        reply_to_text=reply_text,
        attachments=[Attachment.model_validate(a) for a in json.loads(row[11])],
        likes=[Like.model_validate(like) for like in json.loads(row[12])],
        liked_by_creator=bool(row[13]),
        pinned=bool(row[14]),
        state=MessageState(row[15]),
        error=row[16],
        tip_millis=row[17],
    )


def chat_row(row: Sequence[Any]) -> ChatRow:
    return ChatRow(
        account_id=row[0],
        chat_id=row[1],
        fan_id=row[2],
        fan_name=row[3],
        fan_username=row[4],
        unread=row[5],
        preview=row[6],
        last_from_creator=bool(row[7]),
        last_activity=dt(row[8]),
        waiting_since=dt(row[9]),
        pinned=bool(row[10]),
        muted=bool(row[11]),
        vip=bool(row[12]),
        subscriber=bool(row[13]),
    )


def prepare_file(path: Path) -> None:
    """Create the folder and the file, switch it to WAL and bring the schema up to date."""
    from console.store.schema import migrate

    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        # WAL is persistent in the file: set once here, every later connection uses it.
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        migrate(conn)
    finally:
        conn.close()


async def connect(path: Path, *, read_only: bool) -> aiosqlite.Connection:
    db = await aiosqlite.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    await db.executescript(
        f"""PRAGMA foreign_keys=ON;
        PRAGMA busy_timeout={BUSY_TIMEOUT_MS};
        PRAGMA synchronous=NORMAL;
        PRAGMA temp_store=MEMORY;
        PRAGMA cache_size=-16000;
        PRAGMA query_only={1 if read_only else 0};"""
    )
    return db


class StoreCore:
    """Two connections on one file: a writer behind a lock, and a reader.

    WAL lets the reader see every committed state while a write transaction runs, so the UI's
    queries never wait on sync work, and never see a half-applied event.
    """

    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection):
        self.path = path
        self._writer = writer
        self._reader = reader
        self._write_lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction (BEGIN IMMEDIATE … COMMIT), rolled back on any error."""
        async with self._write_lock:
            db = self._writer
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                await asyncio.shield(db.execute("ROLLBACK"))
                raise
            await asyncio.shield(db.execute("COMMIT"))

    async def _read(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        return list(await self._reader.execute_fetchall(sql, params))

    async def _read_one(self, sql: str, params: Any = ()) -> Any:
        rows = await self._reader.execute_fetchall(sql, params)
        for row in rows:
            return row
        return None

    @staticmethod
    async def _one(db: aiosqlite.Connection, sql: str, params: Any = ()) -> Any:
        rows = await db.execute_fetchall(sql, params)
        for row in rows:
            return row
        return None

    @staticmethod
    async def _ensure_account(db: aiosqlite.Connection, account_id: str) -> None:
        await db.execute(
            "INSERT INTO accounts(account_id, name, position, updated_at) "
            "VALUES (?, ?, (SELECT COALESCE(MAX(position) + 1, 0) FROM accounts), ?) "
            "ON CONFLICT(account_id) DO NOTHING",
            (account_id, account_id, now_ms()),
        )

    @staticmethod
    async def _ensure_chat(
        db: aiosqlite.Connection, account_id: str, chat_id: str, fan_id: str | None
    ) -> None:
        await db.execute(
            "INSERT INTO chats(chat_id, account_id, fan_id, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(chat_id) DO UPDATE SET fan_id = COALESCE(chats.fan_id, excluded.fan_id)",
            (chat_id, account_id, fan_id, now_ms()),
        )

    @staticmethod
    async def _creator_id(db: aiosqlite.Connection, account_id: str) -> str | None:
        rows = await db.execute_fetchall(
            "SELECT fansly_account_id FROM accounts WHERE account_id = ?", (account_id,)
        )
        for row in rows:
            return row[0]
        return None

    async def close(self) -> None:
        """Close both connections (the WAL is checkpointed by SQLite on the last close)."""
        for db in (self._reader, self._writer):
            with contextlib.suppress(Exception):
                await db.close()


def chunks(items: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
