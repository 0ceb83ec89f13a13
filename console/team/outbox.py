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
are queued again after a backoff, refusals show as failed with the provider's words. A send
whose answer was lost (or an instance killed mid-send: ``sending`` for longer than
:data:`STALE_SENDING`) shows as ``unknown`` and is never sent blindly again: a follow-up check
(:meth:`TeamOutbox._follow_up`, by one instance, at most once per :data:`CHECK_AGAIN`) reads
the chat's latest messages at the gateway and settles it as the solo outbox does
(:func:`console.sync.reconcile.find_delivered`): ``sent``, with the gateway's message, when it
is there; ``failed`` (:data:`NOT_ARRIVED`: a chatter sends it again) when it is not. An
idempotent action is simply queued again. A check that cannot reach the gateway leaves the item
``unknown`` until the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from console.api.errors import ApiError
from console.store.actions import spec
from console.store.rows import OutboxItem, OutboxKind, OutboxState
from console.sync.policy import Backoff, Outcome, classify
from console.sync.reconcile import find_send, messages_since
from console.team.eventlog import TeamEntry
from console.team.gateway import store_messages

if TYPE_CHECKING:
    import asyncpg

    from console.api.models import Message
    from console.team.server import TeamServer

log = logging.getLogger("console.team")

#: Seconds an idle outbox waits before looking again (a wake from the log comes sooner).
IDLE_WAIT = 0.5
#: Seconds after which a ``sending`` item is taken for lost (its instance died mid-send).
STALE_SENDING = 120.0
#: Seconds before an ``unknown`` item is looked up at the gateway again (after a look that
#: could not be made; a claimed check holds it this long, so one instance makes it).
CHECK_AGAIN = 30.0
#: Seconds after a lost answer before the first check (the gateway may still be storing it).
FIRST_CHECK = 1.0
#: Message pages (10 each) read back to find a lost send, as the solo outbox.
CHECK_PAGES = 3
#: Why a lost send that the gateway does not have shows as failed.
NOT_ARRIVED = "it did not reach the fan (the server stopped while sending it): send it again"
#: Transient failures before an item shows as failed.
MAX_ATTEMPTS = 8
BUDGET = "gateway"

_ITEM = """outbox.id, outbox.client_id, outbox.kind, outbox.account_id, outbox.chat_id,
          outbox.payload, outbox.chatter_id, outbox.attempts, outbox.created_at"""

_CLAIM = f"""
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
RETURNING {_ITEM}
"""

#: An ``unknown`` item due for its follow-up check, held for $1 seconds by who claims it.
_CLAIM_UNKNOWN = f"""
WITH next AS (
    SELECT id FROM outbox WHERE state = 'unknown' AND not_before <= now()
     ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
)
UPDATE outbox SET not_before = now() + make_interval(secs => $1)
  FROM next WHERE outbox.id = next.id
RETURNING {_ITEM}
"""

_TAKE_BUDGET = """
INSERT INTO rate_budget (name, window_start, used) VALUES ($1, date_trunc('minute', now()), 1)
ON CONFLICT (name) DO UPDATE SET
    used = CASE WHEN rate_budget.window_start < date_trunc('minute', now()) THEN 1
                ELSE rate_budget.used + 1 END,
    window_start = date_trunc('minute', now())
RETURNING used
"""


class _BudgetSpent(Exception):
    """The shared budget has no unit left this minute (the claim is rolled back)."""


def _item(row: Any) -> OutboxItem:
    return OutboxItem(
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
        created_at=row[8],
        updated_at=datetime.now(UTC),
    )


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
            claimed = None
            try:
                if await self._follow_up():
                    continue
                claimed = await self._claim()
            except asyncio.CancelledError:
                raise
            except _BudgetSpent:
                pass
            except Exception:
                log.exception("team outbox: cannot claim")
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

    async def _take_budget(self, conn: asyncpg.Connection) -> bool:
        """One unit of the shared per-minute budget; False when it is spent."""
        return bool(await conn.fetchval(_TAKE_BUDGET, BUDGET) <= self.requests_per_minute)

    async def _claim(self) -> tuple[OutboxItem, int] | None:
        pool = self.server.pool
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "UPDATE outbox SET state = 'unknown', error = $1 WHERE state = 'sending' "
                "AND not_before < now() - make_interval(secs => $2)",
                "the server stopped while sending it: checking the chat at the gateway",
                STALE_SENDING,
            )
            row = await conn.fetchrow(_CLAIM)
            if row is None:
                return None
            if not await self._take_budget(conn):
                # The shared budget is spent: back to the queue until the next window.
                await conn.execute(
                    "UPDATE outbox SET state = 'queued', attempts = attempts - 1, "
                    "not_before = date_trunc('minute', now()) + interval '1 minute' "
                    "WHERE id = $1",
                    row[0],
                )
                return None
        return _item(row), row[6]

    async def _follow_up(self) -> bool:
        """Settle one ``unknown`` item that is due (see the module's doc); whether one was."""
        pool = self.server.pool
        async with pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(_CLAIM_UNKNOWN, CHECK_AGAIN)
            if row is None:
                return False
            if not await self._take_budget(conn):
                raise _BudgetSpent
        item, chatter_id = _item(row), int(row[6])
        if spec(item.kind).idempotent:  # sent again as it is: a second copy changes nothing
            await pool.execute(
                "UPDATE outbox SET state = 'queued', error = NULL, not_before = now() "
                "WHERE id = $1",
                item.id,
            )
            return True
        client = self.server.client
        assert client is not None
        try:
            creator_id = await client.creator_id(item.account_id)
            candidates = await messages_since(
                client, item.account_id, item.chat_id, item.created_at, CHECK_PAGES, self._called
            )
        except ApiError as exc:
            log.info("team outbox: cannot check %s yet (%s)", item.client_id, type(exc).__name__)
            return True  # still unknown: looked at again after CHECK_AGAIN
        # A message already settled as another send's copy is not this one's (two "ok"s).
        taken = {
            r[0]
            for r in await pool.fetch(
                "SELECT message_id FROM outbox WHERE state = 'sent' AND id <> $1 "
                "AND message_id = ANY($2::text[])",
                item.id,
                [m.id for m in candidates],
            )
        }
        found = find_send(
            candidates,
            item.payload,
            creator_id=creator_id,
            enqueued_at=item.created_at,
            taken=taken,
        )
        if found is None:
            log.info("team outbox: %s is not at the gateway: failed", item.client_id)
            await self._settle(item, "failed", NOT_ARRIVED)
        else:
            log.info("team outbox: %s found at the gateway: sent", item.client_id)
            await self._sent(item, chatter_id, found)
        return True

    def _called(self) -> None:
        self.calls += 1

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
        await self._sent(item, chatter_id, message)

    async def _sent(self, item: OutboxItem, chatter_id: int, message: Message | None) -> None:
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
        if outcome is Outcome.RETRY and item.attempts < MAX_ATTEMPTS:
            delay = self.backoff.delay(item.attempts - 1)
            await self.server.pool.execute(
                "UPDATE outbox SET state = 'queued', error = $2, "
                "not_before = now() + make_interval(secs => $3) WHERE id = $1",
                item.id,
                reason,
                delay,
            )
            return
        await self._settle(item, "unknown" if outcome is Outcome.UNKNOWN else "failed", reason)

    async def _settle(self, item: OutboxItem, state: str, reason: str) -> None:
        """Show the item ``failed`` or ``unknown`` (with ``reason``), to the team too."""
        await self.server.pool.execute(
            "UPDATE outbox SET state = $2, error = $3, "
            "not_before = now() + make_interval(secs => $4) WHERE id = $1",
            item.id,
            state,
            reason,
            FIRST_CHECK if state == "unknown" else 0.0,
        )
        await self.server.writer.append(
            TeamEntry(
                f"{item.kind.value}.{state}",
                item.account_id,
                item.chat_id,
                {"client_id": item.client_id, "error": reason},
            )
        )
