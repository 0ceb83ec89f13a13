"""The queue's reads and the chatter's reminders (issue 16; see ``console.store.queue``)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from console.store._core import CHAT_COLUMNS, CHAT_FROM, Part, chat_row, dt_required, ms
from console.store._outbox import _OUTBOX_COLUMNS, _item
from console.store.queue import MISSED, QueueRow, QueueSort
from console.store.rows import OutboxItem

# A chat is in the queue when its fan waits for an answer, it is not muted, and the chatter
# set no reminder on it (a reminder hides it until due; a due one is listed first, below).
_IN_QUEUE = """c.waiting_since IS NOT NULL AND c.muted = 0
    AND c.account_id IN (SELECT value FROM json_each(:accounts))
    AND NOT EXISTS (SELECT 1 FROM reminders r WHERE r.chat_id = c.chat_id)"""

# The page's chat ids in order from an index that holds every column the filter reads (the
# offset skips index entries only), then their rows: a page deep in 30,000 waiting chats costs
# ~20 ms instead of ~300 ms. The spend order reads the chats' copy of their fan's spend (schema
# v11): highest first, then the fans whose spend was never fetched (NULL sorts last), each
# group longest-waiting first.
_PAGE = {
    QueueSort.WAITING: (
        "chats c INDEXED BY chats_waiting",
        "c.waiting_since, c.chat_id",
    ),
    QueueSort.NEWEST: (
        "chats c INDEXED BY chats_waiting_newest",
        "c.last_message_at DESC, c.chat_id",
    ),
    QueueSort.SPEND: (
        "chats c INDEXED BY chats_waiting_spend",
        "c.fan_spend_millis DESC, c.waiting_since, c.chat_id",
    ),
}

_DUE = f"""SELECT {CHAT_COLUMNS}, r.due_at FROM reminders r
JOIN chats c ON c.chat_id = r.chat_id
LEFT JOIN fans f ON f.account_id = c.account_id AND f.fan_id = c.fan_id
WHERE r.due_at <= :now AND r.account_id IN (SELECT value FROM json_each(:accounts))
ORDER BY r.due_at, r.chat_id"""


class WaitingQueue(Part):
    """The queue across accounts, reminders and follow-ups (``store.queue``)."""

    async def window(
        self,
        account_ids: Sequence[str],
        *,
        sort: QueueSort | str = QueueSort.WAITING,
        now: datetime,
        offset: int = 0,
        limit: int = 50,
    ) -> list[QueueRow]:
        """A window of the queue across ``account_ids``: chats with a due reminder first
        (oldest due first), then the chats whose fan waits, in ``sort`` order."""
        accounts = json.dumps(list(account_ids))
        due = await self._read(_DUE, {"now": ms(now), "accounts": accounts})
        rows = [QueueRow(chat_row(row[:-1]), dt_required(row[-1])) for row in due]
        shown = rows[offset : offset + limit]
        skip = max(0, offset - len(rows))
        room = limit - len(shown)
        if room <= 0:
            return shown
        source, order = _PAGE[QueueSort(sort)]
        ids = [
            row[0]
            for row in await self._read(
                f"SELECT c.chat_id FROM {source} WHERE {_IN_QUEUE} ORDER BY {order} "
                "LIMIT :limit OFFSET :offset",
                {"accounts": accounts, "limit": room, "offset": skip},
            )
        ]
        if not ids:
            return shown
        found = {
            row[1]: row
            for row in await self._read(
                f"SELECT {CHAT_COLUMNS} FROM {CHAT_FROM} "
                "WHERE c.chat_id IN (SELECT value FROM json_each(?))",
                (json.dumps(ids),),
            )
        }
        return [*shown, *(QueueRow(chat_row(found[i])) for i in ids if i in found)]

    async def count(self, account_ids: Sequence[str], *, now: datetime) -> int:
        """How many chats the queue lists (waiting ones and due reminders). The waiting ones
        are counted from the covering index; the few with a reminder are taken off after."""
        accounts = json.dumps(list(account_ids))
        row = await self._read_one(
            """SELECT (SELECT COUNT(*) FROM chats c INDEXED BY chats_waiting
                WHERE c.waiting_since IS NOT NULL AND c.muted = 0
                AND c.account_id IN (SELECT value FROM json_each(:accounts))),
            (SELECT COUNT(*) FROM reminders r JOIN chats c ON c.chat_id = r.chat_id
                WHERE c.waiting_since IS NOT NULL AND c.muted = 0
                AND c.account_id IN (SELECT value FROM json_each(:accounts))),
            (SELECT COUNT(*) FROM reminders r WHERE r.due_at <= :now
                AND r.account_id IN (SELECT value FROM json_each(:accounts)))""",
            {"accounts": accounts, "now": ms(now)},
        )
        return int(row[0]) - int(row[1]) + int(row[2])

    async def spend_known(self, account_ids: Sequence[str]) -> tuple[int, int]:
        """(fans whose lifetime spend is known, all) over the waiting chats of ``account_ids``.

        The gateway's chat list carries no spend: it comes with a fan's profile, fetched when
        the fan is shown. So the spend order ranks the fans fetched so far, and says so."""
        row = await self._read_one(
            """SELECT COUNT(c.fan_spend_millis), COUNT(*) FROM chats c
            INDEXED BY chats_waiting_spend WHERE c.waiting_since IS NOT NULL AND c.muted = 0
            AND c.account_id IN (SELECT value FROM json_each(?))""",
            (json.dumps(list(account_ids)),),
        )
        return (int(row[0]), int(row[1])) if row is not None else (0, 0)

    # -- reminders ("remind me in N minutes") ----------------------------------------------

    async def set_reminder(self, account_id: str, chat_id: str, due: datetime) -> None:
        """Hide the chat from the queue until ``due``, then list it first, marked."""

        def work(db: sqlite3.Connection) -> None:
            db.execute(
                """INSERT INTO reminders(chat_id, account_id, due_at, created_at)
                VALUES (?, ?, ?, strftime('%s', 'now') * 1000)
                ON CONFLICT(chat_id) DO UPDATE SET due_at = excluded.due_at""",
                (chat_id, account_id, ms(due)),
            )

        await self._write(work)

    async def clear_reminder(self, chat_id: str) -> bool:
        """Drop the chat's reminder; whether there was one."""

        def work(db: sqlite3.Connection) -> bool:
            return db.execute("DELETE FROM reminders WHERE chat_id = ?", (chat_id,)).rowcount > 0

        return await self._write(work)

    async def reminder(self, chat_id: str) -> datetime | None:
        """When the chat's reminder is due, if it has one."""
        row: Any = await self._read_one(
            "SELECT due_at FROM reminders WHERE chat_id = ?", (chat_id,)
        )
        return None if row is None else dt_required(row[0])

    async def next_reminder(self, account_ids: Sequence[str]) -> datetime | None:
        """The earliest reminder not yet cleared (the console wakes up then)."""
        row: Any = await self._read_one(
            "SELECT MIN(due_at) FROM reminders WHERE account_id IN "
            "(SELECT value FROM json_each(?))",
            (json.dumps(list(account_ids)),),
        )
        return None if row is None or row[0] is None else dt_required(row[0])

    # -- follow-ups ("follow up in N minutes unless they reply") --------------------------
    # A follow-up is an outbox item of kind ``follow_up`` whose first attempt is its due
    # time. Any message from the fan after it was set cancels it: at once when a webhook
    # brings the message (``cancel_follow_ups``, in the delivery's transaction), and, as the
    # guarantee, when the sender is about to send it (``follow_up_verdict``).

    async def follow_ups(self, chat_id: str) -> list[OutboxItem]:
        """The chat's follow-ups still waiting (queued), soonest first."""
        rows = await self._read(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE chat_id = ? AND kind = 'follow_up' "
            "AND state IN ('queued', 'in_flight', 'unknown') ORDER BY next_attempt_at, id",
            (chat_id,),
        )
        return [_item(row) for row in rows]

    async def missed_follow_ups(self, account_ids: Sequence[str]) -> list[OutboxItem]:
        """Follow-ups held because they came due while no console ran (they wait for the
        chatter's word: send now, or drop)."""
        rows = await self._read(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE kind = 'follow_up' AND state = 'failed'"
            " AND last_error LIKE ? AND account_id IN (SELECT value FROM json_each(?)) ORDER BY id",
            (MISSED + "%", json.dumps(list(account_ids))),
        )
        return [_item(row) for row in rows]

    async def follow_up_verdict(
        self, item: OutboxItem, *, now: datetime, grace_seconds: float
    ) -> str:
        """``"send"``; ``"cancelled"`` (the fan wrote since it was set); or ``"missed"`` (due
        more than ``grace_seconds`` ago and not confirmed by the chatter since)."""
        row = await self._read_one(
            "SELECT 1 FROM messages WHERE chat_id = ? AND from_creator = 0 AND created_at > ? "
            "LIMIT 1",
            (item.chat_id, ms(item.created_at)),
        )
        if row is not None:
            return "cancelled"
        due = item.payload.get("due_ms")
        late = isinstance(due, int) and ms(now) - due > grace_seconds * 1000  # type: ignore[operator]
        if late and not item.payload.get("confirmed"):
            return "missed"
        return "send"

    async def confirm_follow_up(self, client_id: str) -> None:
        """The chatter said "send it now" for a missed follow-up."""

        def work(db: sqlite3.Connection) -> None:
            row = db.execute(
                "SELECT payload_json FROM outbox WHERE client_id = ? AND kind = 'follow_up'",
                (client_id,),
            ).fetchone()
            if row is None:
                return
            payload = {**json.loads(row[0]), "confirmed": True}
            db.execute(
                "UPDATE outbox SET payload_json = ?, state = 'queued', attempts = 0, "
                "last_error = NULL, next_attempt_at = strftime('%s', 'now') * 1000 "
                "WHERE client_id = ?",
                (json.dumps(payload), client_id),
            )

        await self._write(work)

    async def cancel_follow_up(self, client_id: str) -> bool:
        """Take a follow-up out of the outbox (unless it is being sent); whether it was."""

        def work(db: sqlite3.Connection) -> bool:
            return (
                db.execute(
                    "DELETE FROM outbox WHERE client_id = ? AND kind = 'follow_up' "
                    "AND state IN ('queued', 'failed')",
                    (client_id,),
                ).rowcount
                > 0
            )

        return await self._write(work)


def cancel_follow_ups(db: sqlite3.Connection, chat_id: str, fan_message_ms: int) -> int:
    """In a delivery's transaction: the fan wrote, so the chat's follow-ups set before the
    message are cancelled (those not yet on their way)."""
    return db.execute(
        "DELETE FROM outbox WHERE chat_id = ? AND kind = 'follow_up' AND state = 'queued' "
        "AND created_at < ?",
        (chat_id, fan_message_ms),
    ).rowcount
