"""The sync engine: one :class:`AccountSync` per connected account, all held by a
:class:`Workspace`, the one object the console (and ``fansly-console sync``) talks to.

The Workspace owns the store, one :class:`FanslyClient` per profile (API key), one engine per
account across every profile, and the :class:`UpdateBus`. The TUI never touches HTTP or
SQLite: it reads the store and calls the Workspace's actions, which are written to the store
first and delivered by the account's outbox sender. With ``offline=True`` nothing ever touches
the network: reads come from the cache and actions wait in the outbox.

The Workspace is the front; its parts live beside it, one idea each:

- ``account_set.py`` — the accounts shown as tabs, their engines, set-aside identities;
- ``actions.py`` — the chatter's actions, stored first and delivered by the outbox;
- ``live.py`` — what is asked of the gateway now (older history, fan refresh, lists, rules);
- ``credits.py`` — the credit meter's figures kept in the cache;
- ``account.py``, ``backfill.py``, ``outbox.py`` — one account's engine and its tasks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from console.api.client import FanslyClient
from console.api.credits import CreditMeter, CreditNotice, CreditStatus, webhook_credits
from console.api.errors import ApiError
from console.api.models import Account, AutomatedMessage, FanList, RateBudget
from console.changes import (
    OFFLINE_MODE,
    AccountSetAside,
    ConnectionChanged,
    SyncProgress,
    UpdateBus,
)
from console.config import ConfigError, Settings
from console.events import Event
from console.store import Store, store_path
from console.store.rows import MessageRow, OutboxKind
from console.sync.account import AccountSync
from console.sync.account_set import AccountSet
from console.sync.actions import ChatterActions
from console.sync.backfill import BackfillReport
from console.sync.connection import Connection, tcp_check
from console.sync.credits import CreditLedger
from console.sync.live import LiveCalls
from console.sync.policy import Backoff


class Workspace:
    """Everything the console needs below the UI. Build with :meth:`open` (or the
    constructor, for tests that bring their own store and clients), then ``start()``.

    Actions (``send``, ``like``, …) return at once: they are stored, shown, and delivered by
    the account's outbox sender in the background.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        clients: Mapping[str, FanslyClient] | None = None,
        offline: bool = False,
        accounts: Sequence[str] | None = None,
        bus: UpdateBus | None = None,
        backoff: Backoff | None = None,
        probe_backoff: Backoff | None = None,
        reconcile_delay: float | None = None,
        owns_store: bool = False,
        meter: CreditMeter | None = None,
        full_sync: bool = False,
    ) -> None:
        self.settings = settings
        #: Backfill every chat's latest messages (``sync --full``) rather than the lean pass
        #: (console/sync/backfill.py).
        self.full_sync = full_sync
        self.store = store
        self.bus = bus or UpdateBus()
        self.offline = offline
        self.clients: dict[str, FanslyClient] = {} if offline else dict(clients or {})
        # One meter for the console: the budget is the agency's, across its API keys.
        self.meter = meter or CreditMeter(
            budget=settings.budget.monthly_credits, reserve=settings.budget.reserve
        )
        for client in self.clients.values():
            client.meter = self.meter
        self.ledger = CreditLedger(self.meter, store, self.bus)
        # Read when an account is attached (after start), so tests may change them before.
        self.backoff = backoff or Backoff()
        self.reconcile_delay = reconcile_delay
        self._owns_store = owns_store
        self.connections: dict[str, Connection] = {}
        for name, client in self.clients.items():
            self.connections[name] = Connection(
                name,
                self._connection_changed,
                client.list_accounts,
                backoff=probe_backoff or Backoff(base=0.5, cap=15.0),
                reachable=tcp_check(client.base_url),  # a dead gateway noticed, unbilled
            )
        self._offline_connection = Connection("offline", self._connection_changed, None)
        self._state = ConnectionChanged(
            "offline" if offline or not self.clients else "live",
            datetime.now(UTC),
            OFFLINE_MODE if offline else "",
        )
        self.account_set = AccountSet(
            settings,
            store,
            self.bus,
            self.clients,
            self.connections,
            self._new_engine,
            only=accounts,
        )
        self._tasks: list[asyncio.Task[None]] = []
        #: Background gateway calls (fan refreshes), cancelled on stop.
        self._background: set[asyncio.Task[None]] = set()
        self.actions = ChatterActions(store, self.bus, self.account_set)
        self.live = LiveCalls(store, self.account_set, self._background)
        self._started = False

    # -- construction --------------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        settings: Settings,
        *,
        profile: str | None = None,
        offline: bool = False,
        accounts: Sequence[str] | None = None,
        path: Path | None = None,
        bus: UpdateBus | None = None,
        store: Store | None = None,
        full_sync: bool = False,
    ) -> Workspace:
        """Open the cache and a client per profile: ``profile`` alone (and its own cache), or
        every profile that has an API key (and the default profile's cache). ``store``: that
        cache already open (the console paints from it first); the workspace then owns it."""
        if profile is not None:
            settings.profile(profile)  # a ConfigError for an unknown name
            names = [profile]
        else:
            names = list(settings.configured_profiles())
        clients: dict[str, FanslyClient] = {}
        if not offline:
            from console.api.client import client_from_settings

            if not names:
                raise ConfigError(
                    "no profile has an API key: set FANSLY_API_KEY, or api_key under "
                    "[profiles.default] in the config file (or use --offline)"
                )
            for name in names:
                clients[name] = client_from_settings(settings, name)
        if store is None:
            store = await Store.open(
                path or store_path(profile or settings.default_profile),
                event_retention_days=settings.webhooks.event_retention_days,
            )
        return cls(
            settings,
            store,
            clients=clients,
            offline=offline,
            accounts=accounts,
            bus=bus,
            owns_store=True,
            full_sync=full_sync,
        )

    async def __aenter__(self) -> Workspace:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _new_engine(
        self, account: Account, client: FanslyClient | None, connection: Connection
    ) -> AccountSync:
        engine = AccountSync(
            account,
            self.store,
            client,
            connection,
            self.bus.publish,
            self.settings.sync,
            backoff=self.backoff,
            reconcile_delay=self.reconcile_delay,
            meter=self.meter,
            fan_fresh_seconds=self.settings.budget.profile_fresh_minutes * 60,
        )
        engine.full_sync = self.full_sync
        return engine

    # -- life cycle ----------------------------------------------------------------------------

    async def start(self, *, backfill: bool = True) -> None:
        """Attach every profile's accounts (from the gateway, or the cache while it cannot be
        reached) and start their senders and, by default, their backfills."""
        if self._started:
            return
        self._started = True
        await self.store.outbox.recover()
        await self.start_credits()
        await self.account_set.load_cached()
        if not self.clients:
            self.account_set.attach_offline(self._offline_connection)
            self.bus.publish(self._state)
            return
        for name in self.clients:
            self.connections[name].watch()
            self._tasks.append(
                asyncio.create_task(
                    self.account_set.attach_profile(name, backfill), name=f"attach:{name}"
                )
            )

    async def connect(self) -> list[Account]:
        """List every profile's accounts now and attach them without starting anything;
        raises the first gateway error (bad key, unreachable). For one-shot commands."""
        await self.start_credits()
        return await self.account_set.connect()

    async def wait_attached(self) -> None:
        """Return once every profile has listed its accounts (or failed for good)."""
        await self.account_set.wait_attached()

    async def wait_background(self) -> None:
        """Return once the fan refreshes started in the background have finished (the
        screenshots wait for them, so a shot shows the fetched profile)."""
        await asyncio.gather(*list(self._background), return_exceptions=True)

    async def stop(self) -> None:
        """Stop every task and close the clients (and the store, if :meth:`open` opened it)."""
        tasks = [*self._tasks, *self._background]
        self._tasks.clear()
        self._background.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.account_set.stop()
        for connection in [*self.connections.values(), self._offline_connection]:
            await connection.close()
        for client in self.clients.values():
            await client.aclose()
        await self.ledger.stop()
        if self._owns_store:
            await self.store.close()
        self._started = False

    # -- state the UI shows ---------------------------------------------------------------------

    @property
    def accounts(self) -> list[Account]:
        """The accounts shown as tabs (cached ones too, while their gateway is away)."""
        return self.account_set.shown

    @property
    def engines(self) -> dict[str, AccountSync]:
        return self.account_set.engines

    @property
    def only_accounts(self) -> set[str]:
        """Only these accounts are shown (``--account``); empty: all of them."""
        return self.account_set.only

    @property
    def errors(self) -> dict[str, ApiError]:
        """The error that stopped a profile's listing (a bad key), by profile name."""
        return self.account_set.errors

    @property
    def set_aside(self) -> list[AccountSetAside]:
        """Accounts whose identity changed on the gateway this run."""
        return self.account_set.set_aside

    def engine(self, account_id: str) -> AccountSync:
        return self.account_set.engine(account_id)

    @property
    def connection(self) -> ConnectionChanged:
        """Live / reconnecting / offline, and since when."""
        return self._state

    def _connection_changed(self, _change: ConnectionChanged) -> None:
        if self.offline or not self.connections:
            state = ConnectionChanged("offline", self._state.since, OFFLINE_MODE)
        else:
            order = {"live": 0, "reconnecting": 1, "offline": 2}
            worst = max(self.connections.values(), key=lambda c: order[c.state])
            state = ConnectionChanged(worst.state, worst.since, worst.detail)
        if (state.state, state.detail) != (self._state.state, self._state.detail):
            self._state = state
            self.bus.publish(state)

    def budget(self) -> RateBudget | None:
        """The latest rate-limit figures of the first profile's key (for the status line)."""
        for client in self.clients.values():
            return client.rate
        return None

    def progress(self) -> dict[str, SyncProgress]:
        return {a: e.progress for a, e in self.engines.items() if e.progress is not None}

    # -- credits (console/sync/credits.py) -------------------------------------------------------

    @property
    def credit_notices(self) -> list[CreditNotice]:
        """What the meter said this run (the ``sync`` command prints these)."""
        return self.ledger.notices

    async def start_credits(self) -> None:
        """Load this month's spending from the cache into the meter (once), and keep writing
        what it counts."""
        await self.ledger.start(write=not self.store.read_only and bool(self.clients))

    async def flush_credits(self) -> None:
        """Write what the meter counted since the last write to the cache."""
        await self.ledger.flush()

    def credits(self) -> CreditStatus:
        """Credits used this month against the budget (for the status line)."""
        return self.ledger.status()

    # -- backfill ------------------------------------------------------------------------------

    async def wait_backfilled(self) -> None:
        """Return once every attached account's start-up backfill has ended."""
        await self.wait_attached()
        await asyncio.gather(*(e.wait_backfilled() for e in self.engines.values()))

    async def backfill(self, account_id: str | None = None) -> list[BackfillReport]:
        """Run a backfill now, for one account or all, and return the reports."""
        await self.wait_attached()
        engines = [self.engine(account_id)] if account_id else list(self.engines.values())
        return list(await asyncio.gather(*(e.backfill() for e in engines)))

    # -- actions: stored first, delivered by the outbox (console/sync/actions.py) ---------------

    async def act(
        self, account_id: str, chat_id: str, kind: OutboxKind | str, payload: dict[str, object]
    ) -> str:
        """Queue any action of the store's action table; returns its client id."""
        return await self.actions.act(account_id, chat_id, kind, payload)

    async def send(
        self, account_id: str, chat_id: str, text: str, reply_to: str | None = None
    ) -> str:
        """Queue a message; returns its client id (the pending message shows at once)."""
        return await self.actions.send(account_id, chat_id, text, reply_to)

    async def send_media(
        self,
        account_id: str,
        chat_id: str,
        text: str,
        media_ids: Sequence[str],
        *,
        price_dollars: float | None = None,
        preview_id: str | None = None,
        reply_to: str | None = None,
    ) -> str:
        """Queue vault media with a text (a PPV when priced); returns its client id."""
        return await self.actions.send_media(
            account_id,
            chat_id,
            text,
            media_ids,
            price_dollars=price_dollars,
            preview_id=preview_id,
            reply_to=reply_to,
        )

    async def follow_up(self, account_id: str, chat_id: str, text: str, due: datetime) -> str:
        """Queue a message for ``due`` unless the fan writes first; returns its client id."""
        return await self.actions.follow_up(account_id, chat_id, text, due)

    async def like(self, account_id: str, chat_id: str, message_id: str, type: int = 1) -> str:
        return await self.actions.on_message(
            account_id, chat_id, OutboxKind.LIKE, message_id, type=type
        )

    async def unlike(self, account_id: str, chat_id: str, message_id: str, type: int = 1) -> str:
        return await self.actions.on_message(
            account_id, chat_id, OutboxKind.UNLIKE, message_id, type=type
        )

    async def pin(self, account_id: str, chat_id: str, message_id: str) -> str:
        return await self.actions.on_message(account_id, chat_id, OutboxKind.PIN, message_id)

    async def unpin(self, account_id: str, chat_id: str, message_id: str) -> str:
        return await self.actions.on_message(account_id, chat_id, OutboxKind.UNPIN, message_id)

    async def mute(self, account_id: str, fan_id: str, chat_id: str | None = None) -> str:
        return await self.actions.on_fan(account_id, fan_id, chat_id, OutboxKind.MUTE)

    async def unmute(self, account_id: str, fan_id: str, chat_id: str | None = None) -> str:
        return await self.actions.on_fan(account_id, fan_id, chat_id, OutboxKind.UNMUTE)

    async def retry(self, client_id: str) -> None:
        """Queue a failed action again, now (never one of a set-aside account)."""
        await self.actions.retry(client_id)

    async def discard(self, client_id: str) -> None:
        """Drop a failed action (and its failed message) for good."""
        await self.actions.discard(client_id)

    async def drain_outbox(self, account_id: str | None = None) -> None:
        """Wait until the outbox holds nothing pending (bound it with ``asyncio.timeout``)."""
        await self.actions.drain(account_id)

    async def typing(self, account_id: str, chat_id: str) -> None:
        """Best effort, never queued: show the fan that someone is typing."""
        await self.actions.typing(account_id, chat_id)

    async def mark_read(self, account_id: str, chat_id: str) -> None:
        await self.actions.mark_read(account_id, chat_id)

    # -- asked of the gateway now (console/sync/live.py) ----------------------------------------

    async def load_older(
        self,
        account_id: str,
        chat_id: str,
        before: MessageRow | int | None = None,
        limit: int = 50,
    ) -> list[MessageRow]:
        """Up to ``limit`` messages older than ``before``, oldest first, from the cache (a
        gap filled from the gateway first when it can be reached)."""
        return await self.live.load_older(account_id, chat_id, before, limit)

    def refresh_fan(self, account_id: str, fan_id: str) -> asyncio.Task[None] | None:
        """Refresh a fan's profile in the background; ``None`` when offline."""
        return self.live.refresh_fan(account_id, fan_id)

    def online_client(self, account_id: str) -> FanslyClient:
        """The account's client while its gateway answers; ``GatewayUnreachable`` otherwise."""
        return self.live.online_client(account_id)

    async def refresh_vault(self, account_id: str) -> int:
        """Fetch the account's whole vault into the cache; returns the number of items."""
        return await self.live.refresh_vault(account_id)

    async def refresh_automations(self, account_id: str) -> list[AutomatedMessage]:
        """The account's automation rules from the gateway, cached for offline reading."""
        return await self.live.refresh_automations(account_id)

    async def create_automation(self, account_id: str, rule: AutomatedMessage) -> AutomatedMessage:
        return await self.live.create_automation(account_id, rule)

    async def delete_automation(self, account_id: str, rule_id: str) -> None:
        await self.live.delete_automation(account_id, rule_id)

    async def fan_lists(self, account_id: str, fan_id: str) -> list[tuple[FanList, bool]]:
        """The creator's lists, each with whether ``fan_id`` is on it."""
        return await self.live.fan_lists(account_id, fan_id)

    async def set_fan_list(self, account_id: str, fan_id: str, list_id: str, member: bool) -> None:
        await self.live.set_fan_list(account_id, fan_id, list_id, member)

    # -- webhook events ------------------------------------------------------------------------

    async def apply_event(self, event: Event, *, billed: bool = True) -> int | None:
        """The listener's sink: store the event (once), publish what changed; returns its seq,
        or ``None`` for a duplicate."""
        # Every delivery is billed, a duplicate too (console/credit_rule.py); an event relayed
        # by a hub (``billed=False``) was billed to the hub's listener.
        if billed:
            self.meter.charge(event.account_id or "", "webhooks", webhook_credits(1))
        applied = await self.store.apply_event(event)
        if applied is None:
            return None
        for update in applied.updates:
            self.bus.publish(update)
        return applied.seq


__all__ = ["AccountSync", "BackfillReport", "Workspace"]
