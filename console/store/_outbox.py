"""The outbox: actions waiting to reach the gateway, each shown in the cache at once."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from console.store._core import Part, dt_required, dumps, ms, now_ms, one
from console.store._writes import refresh_chat
from console.store.actions import spec
from console.store.rows import OutboxItem, OutboxKind, OutboxState

if TYPE_CHECKING:
    from console.api.models import Message

_OUTBOX_COLUMNS = """id, client_id, account_id, chat_id, kind, payload_json, state, attempts,
    next_attempt_at, last_error, created_at, updated_at"""


class OutboxNotFound(KeyError):
    """No outbox item has this client id."""


def _item(row: Any) -> OutboxItem:
    return OutboxItem(
        id=row[0],
        client_id=row[1],
        account_id=row[2],
        chat_id=row[3],
        kind=OutboxKind(row[4]),
        payload=json.loads(row[5]),
        state=OutboxState(row[6]),
        attempts=row[7],
        next_attempt_at=dt_required(row[8]),
        last_error=row[9],
        created_at=dt_required(row[10]),
        updated_at=dt_required(row[11]),
    )


class Outbox(Part):
    """The actions queued for the gateway (a send, a like, a mute, ...), with the state of each.

    What an action carries and shows is its spec's (:data:`console.store.actions.ACTIONS`).
    """

    async def add(
        self,
        account_id: str,
        chat_id: str,
        kind: OutboxKind | str,
        payload: Mapping[str, Any],
        client_id: str | None = None,
        not_before: datetime | None = None,
    ) -> OutboxItem:
        """Queue an action and show its effect at once, in the same transaction.

        The payload and the effect of each kind are in :data:`console.store.actions.ACTIONS`
        (a send inserts a pending message with the client id; a mute mutes the chat locally).
        """
        kind = OutboxKind(kind)
        client_id = client_id or uuid.uuid4().hex
        now = now_ms()

        def work(db: sqlite3.Connection) -> Any:
            self._known.ensure(db, account_id)
            db.execute(
                """INSERT INTO outbox(client_id, account_id, chat_id, kind, payload_json, state,
                    attempts, next_attempt_at, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?)""",
                (
                    client_id,
                    account_id,
                    chat_id,
                    kind.value,
                    dumps(dict(payload)),
                    max(now, ms(not_before) or now),  # a follow-up waits for its due time
                    now,
                    now,
                ),
            )
            item = self._get(db, client_id)
            effect = spec(kind).effect
            if effect.done_here(self._known, db, item):
                self._update(db, client_id, "state = 'sent'", ())
                return self._get(db, client_id)
            effect.show(self._known, db, item)
            return item

        return await self._write(work)

    async def due(self, account_id: str, now: datetime | None = None) -> list[OutboxItem]:
        """Queued items whose next attempt is due, oldest first."""
        rows = await self._read(
            f"""SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE account_id = ? AND state = 'queued'
                AND next_attempt_at <= ? ORDER BY id""",
            (account_id, ms(now) if now else now_ms()),
        )
        return [_item(row) for row in rows]

    async def items(
        self, account_id: str, states: Sequence[OutboxState | str] | None = None
    ) -> list[OutboxItem]:
        """Every item of an account (or those in ``states``), oldest first."""
        sql = f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE account_id = ?"
        params: list[Any] = [account_id]
        if states:
            sql += f" AND state IN ({','.join('?' * len(states))})"
            params.extend(OutboxState(state).value for state in states)
        rows = await self._read(sql + " ORDER BY id", params)
        return [_item(row) for row in rows]

    async def item(self, client_id: str) -> OutboxItem | None:
        row = await self._read_one(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE client_id = ?", (client_id,)
        )
        return None if row is None else _item(row)

    async def counts(self, account_id: str) -> tuple[int, int]:
        """``(pending, failed)``: pending counts queued, in-flight and unknown items, but not a
        follow-up before its time: it is no send waiting for the gateway (the status line said
        "⇡ 1 queued" for half an hour; its thread shows it), nor work ``drain`` waits for."""
        row = await self._read_one(
            """SELECT COALESCE(SUM(state IN ('queued', 'in_flight', 'unknown')
                    AND NOT (kind = 'follow_up' AND state = 'queued' AND next_attempt_at > ?)),
                    0),
                COALESCE(SUM(state = 'failed'), 0) FROM outbox WHERE account_id = ?""",
            (now_ms(), account_id),
        )
        return int(row[0]), int(row[1])

    async def mark_in_flight(self, client_id: str) -> OutboxItem:
        """The sender is about to call the gateway (counts an attempt)."""
        return await self._set_state(client_id, "state = 'in_flight', attempts = attempts + 1", ())

    async def mark_sent(self, client_id: str, server_message: Message | None = None) -> OutboxItem:
        """The gateway accepted the action. For a send, ``server_message`` replaces the pending
        row (no duplicate, even if the webhook copy arrived first)."""

        def work(db: sqlite3.Connection) -> Any:
            item = self._get(db, client_id)
            spec(item.kind).effect.settle(self._known, db, item, server_message)
            self._update(db, client_id, "state = 'sent', last_error = NULL", ())
            return self._get(db, client_id)

        return await self._write(work)

    async def mark_retry(self, client_id: str, error: str, next_attempt_at: datetime) -> OutboxItem:
        """A transient failure: queue again for ``next_attempt_at``."""
        return await self._set_state(
            client_id,
            "state = 'queued', last_error = ?, next_attempt_at = ?",
            (error, ms(next_attempt_at)),
        )

    async def mark_unknown(self, client_id: str, error: str | None = None) -> OutboxItem:
        """The request went out but no answer came: reconcile before sending again."""
        return await self._set_state(
            client_id, "state = 'unknown', last_error = COALESCE(?, last_error)", (error,)
        )

    async def mark_failed(self, client_id: str, error: str) -> OutboxItem:
        """A permanent failure: the optimistic effect is undone, a send shows as failed."""

        def work(db: sqlite3.Connection) -> Any:
            item = self._get(db, client_id)
            self._update(db, client_id, "state = 'failed', last_error = ?", (error,))
            spec(item.kind).effect.undo(self._known, db, item, error)
            return self._get(db, client_id)

        return await self._write(work)

    async def retry_failed(self, client_id: str) -> OutboxItem:
        """The chatter asked to try a failed item again (now, from attempt zero)."""

        def work(db: sqlite3.Connection) -> Any:
            item = self._get(db, client_id)
            if item.state is not OutboxState.FAILED:
                return item
            self._update(
                db, client_id, "state = 'queued', attempts = 0, next_attempt_at = ?", (now_ms(),)
            )
            spec(item.kind).effect.again(self._known, db, item)
            return self._get(db, client_id)

        return await self._write(work)

    async def discard(self, client_id: str) -> None:
        """Drop a failed item (and its failed message) for good."""

        def work(db: sqlite3.Connection) -> Any:
            item = self._get(db, client_id)
            db.execute("DELETE FROM outbox WHERE client_id = ?", (client_id,))
            db.execute(
                "DELETE FROM messages WHERE client_id = ? AND message_id IS NULL", (client_id,)
            )
            refresh_chat(db, item.chat_id)

        await self._write(work)

    async def recover(self) -> int:
        """After a crash: in-flight items may have reached the gateway, so they become
        ``unknown``. Returns how many."""

        def work(db: sqlite3.Connection) -> Any:
            cursor = db.execute(
                "UPDATE outbox SET state = 'unknown', updated_at = ? WHERE state = 'in_flight'",
                (now_ms(),),
            )
            return cursor.rowcount

        return await self._write(work)

    def _get(self, db: sqlite3.Connection, client_id: str) -> OutboxItem:
        row = one(db, f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE client_id = ?", (client_id,))
        if row is None:
            raise OutboxNotFound(client_id)
        return _item(row)

    def _update(
        self, db: sqlite3.Connection, client_id: str, assignments: str, params: tuple[Any, ...]
    ) -> None:
        db.execute(
            f"UPDATE outbox SET {assignments}, updated_at = ? WHERE client_id = ?",
            (*params, now_ms(), client_id),
        )

    async def _set_state(
        self, client_id: str, assignments: str, params: tuple[Any, ...]
    ) -> OutboxItem:
        def work(db: sqlite3.Connection) -> Any:
            self._get(db, client_id)
            self._update(db, client_id, assignments, params)
            if "last_error = ?" in assignments:
                db.execute(
                    "UPDATE messages SET error = ? WHERE client_id = ? AND state = 'pending'",
                    (params[0], client_id),
                )
            return self._get(db, client_id)

        return await self._write(work)


__all__ = ["Outbox", "OutboxNotFound"]
