"""One connected account's sync: backfill, the outbox sender, gap filling, fan refreshes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from console.api.client import FanslyClient
from console.api.credits import CreditMeter, background_work
from console.api.errors import (
    ApiError,
    CreditBudgetReached,
    GatewayUnreachable,
    InsufficientCreditsError,
)
from console.api.models import Account
from console.changes import FanChanged, SyncProgress, Update
from console.config import SyncSettings
from console.store import Store
from console.store.rows import MessageRow
from console.sync.backfill import Backfill, BackfillReport, History, SyncPlan
from console.sync.connection import Connection
from console.sync.outbox import RECONCILE_DELAY, OutboxSender
from console.sync.policy import Backoff, Outcome, classify

log = logging.getLogger(__name__)

#: The typing indicator lasts about five seconds (§10.6); sending it more often wastes budget.
TYPING_INTERVAL = 3.0


class AccountSync:
    """One connected account: backfill, the outbox sender, gap filling and fan refreshes."""

    def __init__(
        self,
        account: Account,
        store: Store,
        client: FanslyClient | None,
        connection: Connection,
        publish: Callable[[Update], None],
        settings: SyncSettings,
        *,
        backoff: Backoff | None = None,
        reconcile_delay: float | None = None,
        meter: CreditMeter | None = None,
        fan_fresh_seconds: float = 3600.0,
    ) -> None:
        self.account = account
        self.account_id = account.account_id
        self.store = store
        self.client = client
        self.connection = connection
        self._publish = publish
        self.settings = settings
        self.backoff = backoff or Backoff()
        self.meter = meter or (client.meter if client is not None else CreditMeter())
        #: A fan's profile and spend are fetched again on open only when older than this.
        self.fan_fresh_seconds = fan_fresh_seconds
        self._fan_refreshed: dict[str, float] = {}
        #: Backfill runs "lean" (what a chatter reads soon) unless told "full".
        self.full_sync = False
        self.history: History | None = None
        self.sender: OutboxSender | None = None
        if client is not None:
            self.history = History(self.account_id, store, client)
            self.sender = OutboxSender(
                self.account_id,
                store,
                client,
                connection,
                publish,
                backoff=backoff,
                reconcile_delay=RECONCILE_DELAY if reconcile_delay is None else reconcile_delay,
            )
        self.progress: SyncProgress | None = None
        self.report: BackfillReport | None = None
        #: The last error that stopped the backfill (a bad key, a refused account).
        self.error: ApiError | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._backfilled = asyncio.Event()
        self._last_typing: dict[str, float] = {}
        self.started = False

    @property
    def online(self) -> bool:
        return self.client is not None and self.connection.live

    def publish(self, update: Update) -> None:
        if isinstance(update, SyncProgress) and update.account_id == self.account_id:
            self.progress = update
        self._publish(update)

    def start(self, *, backfill: bool = True) -> None:
        """Start the outbox sender and (by default) a backfill in the background."""
        self.started = True
        if self.sender is not None:
            self._tasks.append(asyncio.create_task(self._run_sender(), name=f"outbox:{self.id}"))
        if backfill and self.client is not None:
            self._tasks.append(asyncio.create_task(self._run_backfill(), name=f"sync:{self.id}"))
        else:
            self._backfilled.set()

    @property
    def id(self) -> str:
        return self.account_id

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run_sender(self) -> None:
        assert self.sender is not None
        await self.sender.run()

    async def _run_backfill(self) -> None:
        """Backfill at start, then again each time the gateway comes back after being lost
        (to catch up on what happened meanwhile). Transient failures are retried with
        backoff; a refusal (bad key, unknown account) stops it."""
        await self._backfill_until_done()
        self._backfilled.set()
        while True:
            await self.connection.wait_lost()
            await self.connection.wait_live()
            await self._backfill_until_done()

    async def _backfill_until_done(self) -> None:
        attempt = 0
        while True:
            await self.connection.wait_live()
            try:
                self.report = await self.backfill()
                self.error = None
                return
            except GatewayUnreachable as exc:
                self.connection.lost(str(exc))
            except (CreditBudgetReached, InsufficientCreditsError) as exc:
                # The budget's cap or the gateway's 402: the meter has said so (once). The
                # start-up wait ends here; the rest of the backfill waits for the next cycle.
                self.error = exc
                self._backfilled.set()
                if isinstance(exc, InsufficientCreditsError):
                    self.meter.exhausted()
                # Paused, not running: the status line stops showing a sync in progress
                # (the meter's notice said why); it shows again when the pass resumes.
                self.publish(SyncProgress(self.account_id, 0, 0, True))
                await self.meter.wait_until_open()
                self.error = None
            except ApiError as exc:
                if classify(exc, idempotent=True) is not Outcome.RETRY or attempt >= 5:
                    self.error = exc
                    log.warning("backfill of %s stopped: %s", self.account_id, exc)
                    # Said, not left as a sync in progress forever on the status line.
                    self.publish(SyncProgress(self.account_id, 0, 0, True, error=str(exc)))
                    return
                await asyncio.sleep(self.backoff.delay_for(exc, attempt))
                attempt += 1

    def _backfill_run(self) -> Backfill:
        assert self.history is not None
        return Backfill(
            self.history,
            self.publish,
            messages_per_chat=self.settings.messages_per_chat,
            concurrency=self.settings.concurrency,
            full=self.full_sync,
        )

    async def plan(self) -> SyncPlan:
        """What a backfill would fetch now (``sync --dry-run``): reads the chat list only."""
        if self.history is None:
            raise RuntimeError("offline: nothing to plan")
        with background_work():
            return await self._backfill_run().plan()

    async def backfill(self) -> BackfillReport:
        """Run one backfill now and return its report (raises the gateway's errors)."""
        if self.history is None:
            raise RuntimeError("offline: nothing to backfill from")
        run = self._backfill_run()
        try:
            with background_work():  # stops at the budget minus the chatter's reserve
                report = await run.run()
        except GatewayUnreachable as exc:
            self.connection.lost(str(exc))
            raise
        self.connection.ok()
        self.report = report
        return report

    async def wait_backfilled(self) -> None:
        await self._backfilled.wait()

    async def load_older(
        self, chat_id: str, before: MessageRow | int | None, limit: int
    ) -> list[MessageRow]:
        if self.history is None:
            return await History.cached(self.store, chat_id, before, limit)
        try:
            return await self.history.older(
                chat_id, before, limit, self.publish, online=self.online
            )
        except ApiError as exc:
            # Scrolling must work offline: show what the cache has, fill the gap later.
            if isinstance(exc, GatewayUnreachable):
                self.connection.lost(str(exc))
            return await History.cached(self.store, chat_id, before, limit)

    async def typing(self, chat_id: str) -> None:
        if self.client is None or not self.online:
            return
        now = time.monotonic()
        if now - self._last_typing.get(chat_id, -TYPING_INTERVAL) < TYPING_INTERVAL:
            return
        self._last_typing[chat_id] = now
        try:
            await self.client.typing(self.account_id, chat_id)
        except ApiError as exc:  # best effort: a lost indicator is no loss
            if isinstance(exc, GatewayUnreachable):
                self.connection.lost(str(exc))

    async def refresh_fan(self, fan_id: str, *, force: bool = False) -> None:
        """Fetch a fan's profile, lists and spend into the cache (raises gateway errors);
        not again within ``fan_fresh_seconds`` unless ``force`` (a change the chatter made):
        each refresh costs five credits, and a chatter opens the same chats all day."""
        if self.client is None or not self.online:
            return
        now = time.monotonic()
        last = self._fan_refreshed.get(fan_id)
        if not force and last is not None and now - last < self.fan_fresh_seconds:
            return
        client = self.client
        profiles, lists, earnings = await asyncio.gather(
            client.accounts_by_ids([fan_id], account_id=self.account_id),
            client.lists(self.account_id, fan_id=fan_id),
            client.fan_earnings(self.account_id, fan_id),
        )
        cached = await self.store.fan(self.account_id, fan_id)
        if profiles:
            fan = profiles[0].model_copy(update={"lists": [row.label for row in lists]})
            if fan.subscription is None and cached is not None:
                fan.subscription = cached.subscription
            for update in await self.store.upsert_fan(self.account_id, fan):
                self.publish(update)
        await self.store.set_fan_earnings(self.account_id, fan_id, earnings)
        self._fan_refreshed[fan_id] = now
        self.publish(FanChanged(self.account_id, fan_id))
