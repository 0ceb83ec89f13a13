"""The team's own data on chats and fans, never sent to the gateway: read state, chat pins,
private notes on fans, drafts."""

from __future__ import annotations

import sqlite3
from typing import Any

from console.store._core import Part, dt_required, now_ms
from console.store.rows import Note


class LocalData(Part):
    """What the chatters keep locally: read state, pinned chats, notes on fans, drafts."""

    async def mark_read(self, chat_id: str) -> None:
        """The chatter opened the chat: nothing in it is unread any more."""

        def work(db: sqlite3.Connection) -> Any:
            db.execute("UPDATE chats SET unread_count = 0 WHERE chat_id = ?", (chat_id,))

        await self._write(work)

    async def set_chat_pinned(self, chat_id: str, pinned: bool) -> None:
        """Pin a chat to the top of its list (local only: the provider has no chat pin)."""

        def work(db: sqlite3.Connection) -> Any:
            db.execute("UPDATE chats SET pinned = ? WHERE chat_id = ?", (pinned, chat_id))

        await self._write(work)

    async def get_note(self, account_id: str, fan_id: str) -> Note | None:
        row = await self._read_one(
            "SELECT text, updated_at FROM fan_notes WHERE account_id = ? AND fan_id = ?",
            (account_id, fan_id),
        )
        return None if row is None else Note(row[0], dt_required(row[1]))

    async def set_note(self, account_id: str, fan_id: str, text: str) -> None:
        """Save the team's private note on a fan (an empty text deletes it)."""

        def work(db: sqlite3.Connection) -> Any:
            if text.strip():
                db.execute(
                    """INSERT INTO fan_notes(account_id, fan_id, text, updated_at)
                    VALUES (?, ?, ?, ?) ON CONFLICT(account_id, fan_id) DO UPDATE
                    SET text = excluded.text, updated_at = excluded.updated_at""",
                    (account_id, fan_id, text, now_ms()),
                )
            else:
                db.execute(
                    "DELETE FROM fan_notes WHERE account_id = ? AND fan_id = ?",
                    (account_id, fan_id),
                )

        await self._write(work)

    async def get_draft(self, chat_id: str) -> str:
        row = await self._read_one("SELECT text FROM drafts WHERE chat_id = ?", (chat_id,))
        return "" if row is None else str(row[0])

    async def set_draft(self, chat_id: str, text: str) -> None:
        """Keep what the chatter was typing in a chat (an empty text deletes it)."""

        def work(db: sqlite3.Connection) -> Any:
            if text:
                db.execute(
                    """INSERT INTO drafts(chat_id, text, updated_at) VALUES (?, ?, ?)
                    ON CONFLICT(chat_id) DO UPDATE SET text = excluded.text,
                        updated_at = excluded.updated_at""",
                    (chat_id, text, now_ms()),
                )
            else:
                db.execute("DELETE FROM drafts WHERE chat_id = ?", (chat_id,))

        await self._write(work)
