"""The outbox sender: delivers an account's queued actions to the gateway, once each.

Actions are written to the store first (``store.outbox.add``, with a client id), so a crash, a
dead network or a closed laptop never loses one. This task then delivers them oldest first:

- success → ``mark_sent`` (a send's pending row becomes the server message);
- transient failure (5xx, 429, unreachable, a timeout of an idempotent call) → queued again
  after an exponential backoff with jitter; an unreachable gateway also pauses the sender
  until the connection probe sees it back;
- permanent failure (400, 401/403, 402, 404) → ``mark_failed`` with the provider's words,
  visible to the chatter, who may retry it;
- a send whose answer was lost → ``unknown``: before sending again, the chat's latest
  messages are read and the send is looked for there (:mod:`console.sync.reconcile`).

Within a chat, actions go in order: a later message never overtakes an earlier one that is
waiting for a retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from console.api.client import FanslyClient
from console.api.errors import ApiError, GatewayUnreachable
from console.api.models import Message
from console.changes import ChatChanged, MessageChanged, OutboxChanged, Update
from console.store import OutboxNotFound, Store
from console.store.actions import Settles, spec
from console.store.queue import MISSED
from console.store.rows import OutboxItem, OutboxKind, OutboxState
from console.sync.connection import Connection
from console.sync.policy import Backoff, Outcome, classify
from console.sync.reconcile import find_send, messages_since

log = logging.getLogger(__name__)

#: A transient failure (5xx, timeouts) is retried this many times before it shows as failed.
#: Unreachable gateways are not counted: the sender waits for the connection instead.
MAX_ATTEMPTS = 8
#: Pages of the chat's latest messages read when looking for a lost send.
RECONCILE_PAGES = 3
#: A lost send is looked for after this pause, so a slow gateway has applied it by then.
RECONCILE_DELAY = 0.5
#: A follow-up this late when its sender first sees it came due while nothing ran (issue 16):
#: held for the chatter instead of sent late. A running sender sees a due item within moments.
FOLLOW_UP_GRACE = 120.0


def _now() -> datetime:
    return datetime.now(UTC)


class OutboxSender:
    """Delivers one account's outbox. ``run()`` is the long-lived task; ``wake()`` after an
    enqueue makes it look at once."""

    def __init__(
        self,
        account_id: str,
        store: Store,
        client: FanslyClient,
        connection: Connection,
        publish: Callable[[Update], None],
        *,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
        reconcile_delay: float = RECONCILE_DELAY,
    ) -> None:
        self.account_id = account_id
        self.store = store
        self.client = client
        self.connection = connection
        self._publish = publish
        self.backoff = backoff or Backoff()
        self._rng = rng or random.Random()
        self._reconcile_delay = reconcile_delay
        self._wake = asyncio.Event()
        self._counted = asyncio.Event()
        #: Lost sends are looked for no sooner than this (the store keeps no time for them).
        self._not_before: dict[str, datetime] = {}
        #: Deliveries made (attempts that reached the HTTP layer), for tests.
        self.attempts = 0

    def wake(self) -> None:
        self._wake.set()

    async def publish_counts(self) -> None:
        pending, failed = await self.store.outbox.counts(self.account_id)
        self._publish(OutboxChanged(self.account_id, pending, failed))
        self._counted.set()

    # -- the loop ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Deliver until cancelled."""
        await self.publish_counts()
        while True:
            await self.connection.wait_live()
            self._wake.clear()
            item = await self._next_item()
            if item is None:
                await self._sleep_until_due()
                continue
            try:
                await self._deliver(item)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not stop every later delivery
                log.exception("outbox: delivering %s failed unexpectedly", item.client_id)
                with contextlib.suppress(Exception):
                    await self.store.outbox.mark_failed(item.client_id, "internal error; try again")
                    await self.publish_counts()

    async def drain(self) -> None:
        """Return once nothing is queued, in flight or unknown (tests, ``sync``). Failed items
        do not count: they wait for the chatter. Bound it with ``asyncio.timeout``."""
        while True:
            self._counted.clear()
            pending, _ = await self.store.outbox.counts(self.account_id)
            if pending == 0:
                return
            await self._counted.wait()

    def _due_at(self, item: OutboxItem) -> datetime:
        not_before = self._not_before.get(item.client_id)
        if item.state is OutboxState.UNKNOWN and not_before is not None:
            return max(item.next_attempt_at, not_before)
        return item.next_attempt_at

    async def _next_item(self) -> OutboxItem | None:
        """The oldest due item whose chat has nothing older still waiting."""
        now = _now()
        items = await self.store.outbox.items(
            self.account_id, [OutboxState.QUEUED, OutboxState.UNKNOWN, OutboxState.IN_FLIGHT]
        )
        blocked: set[str] = set()
        for item in items:
            if item.chat_id in blocked:
                continue
            if item.kind is OutboxKind.FOLLOW_UP and self._due_at(item) > now:
                continue  # a follow-up waits for its time without holding the chat's replies
            blocked.add(item.chat_id)
            if item.state is OutboxState.IN_FLIGHT:
                # Only a previous run of this process leaves one (recover_outbox turns those
                # into "unknown" at start); treat it as lost.
                continue
            if self._due_at(item) <= now:
                return item
        return None

    async def _sleep_until_due(self) -> None:
        items = await self.store.outbox.items(
            self.account_id, [OutboxState.QUEUED, OutboxState.UNKNOWN]
        )
        timeout: float | None = None
        if items:
            soonest = min(self._due_at(item) for item in items)
            timeout = max(0.01, (soonest - _now()).total_seconds())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    # -- one item ----------------------------------------------------------------------------

    async def _deliver(self, item: OutboxItem) -> None:
        if item.kind is OutboxKind.FOLLOW_UP and item.state is OutboxState.QUEUED:
            if not await self._follow_up_wanted(item):
                return
        if item.state is OutboxState.UNKNOWN:
            if await self._reconcile(item):
                return
        try:
            await self.store.outbox.mark_in_flight(item.client_id)
        except OutboxNotFound:  # taken out since it was read (cancelled by a later action)
            return
        self.attempts += 1
        try:
            server_message = await self._perform(item)
        except ApiError as exc:
            await self._failed(item, exc)
            return
        self.connection.ok()
        await self.store.outbox.mark_sent(item.client_id, server_message)
        self._published_settled(item, server_message)
        await self.publish_counts()

    async def _follow_up_wanted(self, item: OutboxItem) -> bool:
        """A follow-up is sent once, and only if the fan has not written since it was set;
        one that came due while nothing ran (past ``FOLLOW_UP_GRACE``) is held for the
        chatter (the console asks at its next start) rather than sent late."""
        verdict = await self.store.queue.follow_up_verdict(
            item, now=_now(), grace_seconds=FOLLOW_UP_GRACE
        )
        if verdict == "send":
            return True
        if verdict == "cancelled":
            await self.store.queue.cancel_follow_up(item.client_id)
        else:
            due = item.next_attempt_at.astimezone().strftime("%H:%M")
            await self.store.outbox.mark_failed(
                item.client_id, f"{MISSED} it was due at {due} while no console ran"
            )
        self._publish(ChatChanged(self.account_id, item.chat_id))
        await self.publish_counts()
        return False

    async def _perform(self, item: OutboxItem) -> Message | None:
        return await spec(item.kind).call(self.client, self.account_id, item)

    async def _failed(self, item: OutboxItem, exc: ApiError) -> None:
        outcome = classify(exc, idempotent=spec(item.kind).idempotent)
        error = str(exc)
        attempts = item.attempts + 1  # mark_in_flight counted this one
        if isinstance(exc, GatewayUnreachable):
            # Nothing left this machine. The attempt does not count: the sender now waits for
            # the connection probe, and then delivers at once.
            self.connection.lost(error)
            await self.store.outbox.mark_retry(item.client_id, error, _now())
        elif outcome is Outcome.UNKNOWN:
            await self.store.outbox.mark_unknown(item.client_id, error)
            self._not_before[item.client_id] = _now() + timedelta(seconds=self._reconcile_delay)
        elif outcome is Outcome.RETRY and attempts < MAX_ATTEMPTS:
            delay = self.backoff.delay_for(exc, attempts - 1, self._rng)
            await self.store.outbox.mark_retry(
                item.client_id, error, _now() + timedelta(seconds=delay)
            )
        else:
            await self.store.outbox.mark_failed(item.client_id, error)
            self._published_settled(item, None)
        await self.publish_counts()

    def _published_settled(self, item: OutboxItem, server_message: Message | None) -> None:
        settles = spec(item.kind).settles
        if settles is Settles.NEW_MESSAGE:
            key = server_message.id if server_message is not None else item.client_id
            self._publish(MessageChanged(self.account_id, item.chat_id, key))
        elif settles is Settles.MESSAGE:
            message_id = str(item.payload.get("message_id", ""))
            self._publish(MessageChanged(self.account_id, item.chat_id, message_id))
        self._publish(ChatChanged(self.account_id, item.chat_id))

    # -- a send whose answer was lost ----------------------------------------------------------

    async def _reconcile(self, item: OutboxItem) -> bool:
        """Look for a lost send among the chat's latest messages. ``True`` when it was found
        (and is now settled); ``False`` means it did not arrive and may be sent again."""
        if spec(item.kind).idempotent:  # resent as it is: a second copy changes nothing
            return False
        try:
            creator_id = await self.client.creator_id(self.account_id)
            candidates = await messages_since(
                self.client, self.account_id, item.chat_id, item.created_at, RECONCILE_PAGES
            )
        except ApiError as exc:
            # Cannot look: keep it unknown (never resend blind) and try again later.
            if isinstance(exc, GatewayUnreachable):
                self.connection.lost(str(exc))
            delay = self.backoff.delay_for(exc, item.attempts, self._rng)
            self._not_before[item.client_id] = _now() + timedelta(seconds=delay)
            return True
        self.connection.ok()
        taken = await self._taken(candidates, item.client_id)
        found = find_send(
            candidates,
            item.payload,
            creator_id=creator_id,
            enqueued_at=item.created_at,
            taken=taken,
        )
        self._not_before.pop(item.client_id, None)
        if found is None:
            log.info("outbox: %s did not arrive; sending it again", item.client_id)
            return False
        await self.store.outbox.mark_sent(item.client_id, found)
        self._published_settled(item, found)
        await self.publish_counts()
        return True

    async def _taken(self, candidates: list[Message], client_id: str) -> set[str]:
        """Server ids already settled as the copy of another queued send."""
        taken: set[str] = set()
        for message in candidates:
            row = await self.store.message(message.id)
            if row is not None and row.client_id is not None and row.client_id != client_id:
                taken.add(message.id)
        return taken
