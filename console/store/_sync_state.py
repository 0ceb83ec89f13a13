"""How far sync got: backfill progress per account and chat, and the gaps known in a chat's
history."""

from __future__ import annotations

import sqlite3
from typing import Any

from console.store._core import Part, dt_required, now_ms, one
from console.store.rows import BackfillState, Gap


class SyncState(Part):
    """Backfill cursors and known gaps (the sync engine's bookkeeping)."""

    async def get_backfill(
        self, account_id: str, chat_id: str | None = None
    ) -> BackfillState | None:
        """Backfill progress of an account's chat list (``chat_id`` None) or of one chat."""
        row = await self._read_one(
            """SELECT cursor, done, fetched, updated_at FROM sync_state
            WHERE account_id = ? AND chat_id = ?""",
            (account_id, chat_id or ""),
        )
        if row is None:
            return None
        return BackfillState(account_id, chat_id, row[0], bool(row[1]), row[2], dt_required(row[3]))

    async def set_backfill(
        self,
        account_id: str,
        chat_id: str | None = None,
        *,
        cursor: str | None,
        done: bool,
        fetched: int = 0,
    ) -> None:
        def work(db: sqlite3.Connection) -> Any:
            db.execute(
                """INSERT INTO sync_state(account_id, chat_id, cursor, done, fetched, updated_at)
                VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(account_id, chat_id) DO UPDATE SET
                    cursor = excluded.cursor, done = excluded.done, fetched = excluded.fetched,
                    updated_at = excluded.updated_at""",
                (account_id, chat_id or "", cursor, done, fetched, now_ms()),
            )

        await self._write(work)

    async def record_gap(
        self, account_id: str, chat_id: str, from_message_id: str, to_message_id: str | None
    ) -> int:
        """Remember that messages are missing older than ``from_message_id`` down to
        ``to_message_id``; returns the gap id (the same one if already recorded)."""

        def work(db: sqlite3.Connection) -> Any:
            db.execute(
                """INSERT INTO gaps(account_id, chat_id, from_message_id, to_message_id,
                    created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(chat_id, from_message_id) DO UPDATE
                    SET to_message_id = excluded.to_message_id""",
                (account_id, chat_id, from_message_id, to_message_id, now_ms()),
            )
            row = one(
                db,
                "SELECT id FROM gaps WHERE chat_id = ? AND from_message_id = ?",
                (chat_id, from_message_id),
            )
            return int(row[0])

        return await self._write(work)

    async def gaps(self, account_id: str | None = None, chat_id: str | None = None) -> list[Gap]:
        sql = (
            "SELECT id, account_id, chat_id, from_message_id, to_message_id, created_at "
            "FROM gaps WHERE 1"
        )
        params: list[Any] = []
        if account_id is not None:
            sql += " AND account_id = ?"
            params.append(account_id)
        if chat_id is not None:
            sql += " AND chat_id = ?"
            params.append(chat_id)
        rows = await self._read(sql + " ORDER BY id", params)
        return [Gap(row[0], row[1], row[2], row[3], row[4], dt_required(row[5])) for row in rows]

    async def clear_gap(self, gap_id: int) -> None:
        def work(db: sqlite3.Connection) -> Any:
            db.execute("DELETE FROM gaps WHERE id = ?", (gap_id,))

        await self._write(work)
