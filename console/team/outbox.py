"""The team outbox: chatters' actions delivered to the gateway once, across every instance.

Each instance runs one :class:`TeamOutbox`. An item is claimed in a short transaction with
``FOR UPDATE SKIP LOCKED`` (two instances never claim the same row, and never wait for each
other) and marked ``sending``; the gateway call runs outside any transaction, and its outcome
is written after. Within a chat, only the oldest queued item is eligible and none while another
of that chat is being sent, so a later message never overtakes an earlier one.

One shared rate budget: every gateway call first takes a unit from the ``rate_budget`` row (a
one-minute window, ``requests_per_minute`` units) in the same claim transaction; when it is
spent, the outbox waits for the next window, whichever instance spent it.

Failures follow the solo sender's rules (:func:`console.sync.policy.classify`): transient ones
are queued again after a backoff, refusals show as failed with the provider's words, a send
whose answer was lost (or an instance killed mid-send: ``sending`` for longer than
:data:`STALE_SENDING`) shows as ``unknown`` for a chatter to check, never sent blindly again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from console.api.errors import ApiError
from console.store.actions import spec
from console.store.rows import OutboxItem, OutboxKind, OutboxState
from console.sync.policy import Backoff, Outcome, classify
from console.team.eventlog import TeamEntry
from console.team.gateway import store_messages

if TYPE_CHECKING:
    import asyncpg

    from console.team.server import TeamServer

log = logging.getLogger("console.team")

#: Seconds an idle outbox waits before looking again (a wake from the log comes sooner).
IDLE_WAIT = 0.5
#: Seconds after which a ``sending`` item is taken for lost (its instance died mid-send).
STALE_SENDING = 120.0
#: Transient failures before an item shows as failed.
MAX_ATTEMPTS = 8
BUDGET = "gateway"

_CLAIM = """
WITH next AS (
    SELECT o.id FROM outbox o
     WHERE o.state = 'queued' AND o.not_before <= now()
       AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.chat_id = o.chat_id
                        AND (p.state = 'sending' OR (p.state = 'queued' AND p.id < o.id)))
     ORDER BY o.id
     LIMIT 1
     FOR UPDATE SKIP LOCKED
)
UPDATE outbox SET state = 'sending', attempts = attempts + 1, not_before = now()
  FROM next WHERE outbox.id = next.id
RETURNING outbox.id, outbox.client_id, outbox.kind, outbox.account_id, outbox.chat_id,
          outbox.payload, outbox.chatter_id, outbox.attempts, outbox.created_at
"""

_TAKE_BUDGET = """
INSERT INTO rate_budget (name, window_start, used) VALUES ($1, date_trunc('minute', now()), 1)
ON CONFLICT (name) DO UPDATE SET
    used = CASE WHEN rate_budget.window_start < date_trunc('minute', now()) THEN 1
                ELSE rate_budget.used + 1 END,
    window_start = date_trunc('minute', now())
RETURNING used
"""


class TeamOutbox:
    def __init__(
        self, server: TeamServer, *, requests_per_minute: int = 600, backoff: Backoff | None = None
    ) -> None:
        self.server = server
        self.requests_per_minute = requests_per_minute
        self.backoff = backoff or Backoff()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        #: Gateway calls made by this instance (tests).
        self.calls = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def wake(self) -> None:
        self._wake.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                claimed = await self._claim()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("team outbox: cannot claim")
                claimed = None
            if claimed is None:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(IDLE_WAIT):
                        await self._wake.wait()
                continue
            try:
                await self._deliver(*claimed)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("team outbox: delivering failed unexpectedly")

    async def _claim(self) -> tuple[OutboxItem, int] | None:
        pool = self.server.pool
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "UPDATE outbox SET state = 'unknown', error = $1 WHERE state = 'sending' "
                "AND not_before < now() - make_interval(secs => $2)",
                "the server stopped while sending it: check the chat before sending again",
                STALE_SENDING,
            )
            row = await conn.fetchrow(_CLAIM)
            if row is None:
                return None
            used = await conn.fetchval(_TAKE_BUDGET, BUDGET)
            if used > self.requests_per_minute:
                # The shared budget is spent: back to the queue until the next window.
                await conn.execute(
                    "UPDATE outbox SET state = 'queued', attempts = attempts - 1, "
                    "not_before = date_trunc('minute', now()) + interval '1 minute' "
                    "WHERE id = $1",
                    row[0],
                )
                return None
        created: datetime = row[8]
        item = OutboxItem(
            id=row[0],
            client_id=row[1],
            account_id=row[3],
            chat_id=row[4],
            kind=OutboxKind(row[2]),
            payload=json.loads(row[5]),
            state=OutboxState.IN_FLIGHT,
            attempts=row[7],
            next_attempt_at=datetime.now(UTC),
            last_error=None,
            created_at=created,
            updated_at=datetime.now(UTC),
        )
        return item, row[6]

    async def _deliver(self, item: OutboxItem, chatter_id: int) -> None:
        client = self.server.client
        assert client is not None
        action = spec(item.kind)
        self.calls += 1
        try:
            message = await action.call(client, item.account_id, item)
        except ApiError as exc:
            await self._failed(item, exc, idempotent=action.idempotent)
            return
        pool = self.server.pool
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "UPDATE outbox SET state = 'sent', sent_at = now(), message_id = $2, "
                "error = NULL WHERE id = $1",
                item.id,
                message.id if message is not None else None,
            )
            if message is not None:
                fan = await conn.fetchval(
                    "SELECT fan_id FROM chats WHERE chat_id = $1", item.chat_id
                )
                await store_messages(conn, item.account_id, fan, [message], sent_by=chatter_id)
        name = await pool.fetchval("SELECT name FROM chatters WHERE id = $1", chatter_id)
        await self.server.writer.append(
            TeamEntry(
                f"{item.kind.value}.sent",
                item.account_id,
                item.chat_id,
                {
                    "chatter": name,
                    "client_id": item.client_id,
                    "message_id": message.id if message is not None else None,
                },
            )
        )

    async def _failed(self, item: OutboxItem, exc: ApiError, *, idempotent: bool) -> None:
        outcome = classify(exc, idempotent=idempotent)
        reason = str(exc)[:500]
        conn: asyncpg.Pool = self.server.pool
        if outcome is Outcome.RETRY and item.attempts < MAX_ATTEMPTS:
            delay = self.backoff.delay(item.attempts - 1)
            await conn.execute(
                "UPDATE outbox SET state = 'queued', error = $2, "
                "not_before = now() + make_interval(secs => $3) WHERE id = $1",
                item.id,
                reason,
                delay,
            )
            return
        state = "unknown" if outcome is Outcome.UNKNOWN else "failed"
        await conn.execute(
            "UPDATE outbox SET state = $2, error = $3 WHERE id = $1", item.id, state, reason
        )
        await self.server.writer.append(
            TeamEntry(
                f"{item.kind.value}.{state}",
                item.account_id,
                item.chat_id,
                {"client_id": item.client_id, "error": reason},
            )
        )
