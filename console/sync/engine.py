"""The sync engine: one :class:`AccountSync` per connected account, all held by a
:class:`Workspace`, the one object the console (and ``fansly-console sync``) talks to.

The Workspace owns the store, one :class:`FanslyClient` per profile (API key), one engine per
account across every profile, and the :class:`UpdateBus`. The TUI never touches HTTP or
SQLite: it reads the store and calls the Workspace's actions, which are written to the store
first and delivered by the account's outbox sender. With ``offline=True`` nothing ever touches
the network: reads come from the cache and actions wait in the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from console.api.client import FanslyClient
from console.api.credits import (
    CreditMeter,
    CreditNotice,
    CreditStatus,
    background_work,
    webhook_credits,
)
from console.api.errors import ApiError, GatewayUnreachable
from console.api.models import (
    Account,
    AutomatedMessage,
    FanList,
    RateBudget,
    VaultAlbum,
    VaultMedia,
    ppv_price_problem,
)
from console.changes import (
    OFFLINE_MODE,
    AccountSetAside,
    ChatChanged,
    ConnectionChanged,
    CreditsChanged,
    MessageAdded,
    MessageChanged,
    OutboxChanged,
    SyncProgress,
    UpdateBus,
)
from console.config import ConfigError, Settings
from console.events import Event
from console.store import SET_ASIDE, AccountRow, Store, is_set_aside, store_path
from console.store.actions import Settles, spec
from console.store.rows import MessageRow, OutboxItem, OutboxKind
from console.sync.account import AccountSync
from console.sync.backfill import BackfillReport, History
from console.sync.connection import Connection, tcp_check
from console.sync.policy import Backoff

log = logging.getLogger(__name__)
_T = TypeVar("_T")

#: Seconds between two writes of the credit meter's figures to the cache.
CREDITS_FLUSH_SECONDS = 2.0


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
        self.meter.listen(self._credit_notice)
        #: What the meter said this run (the ``sync`` command prints these).
        self.credit_notices: list[CreditNotice] = []
        self._credits_loaded = False
        self._flusher: asyncio.Task[None] | None = None
        self.only_accounts = set(accounts or ())
        self.engines: dict[str, AccountSync] = {}
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
        self._accounts: dict[str, Account] = {}
        self._profile_accounts: dict[str, list[Account]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[None]] = set()
        self._attached: dict[str, asyncio.Event] = {name: asyncio.Event() for name in self.clients}
        self.errors: dict[str, ApiError] = {}
        #: Accounts whose identity changed on the gateway this run (see ``_set_aside``).
        self.set_aside: list[AccountSetAside] = []
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

    # -- life cycle ----------------------------------------------------------------------------

    async def start(self, *, backfill: bool = True) -> None:
        """Attach every profile's accounts (from the gateway, or the cache while it cannot be
        reached) and start their senders and, by default, their backfills."""
        if self._started:
            return
        self._started = True
        await self.store.outbox.recover()
        await self.start_credits()
        for row in await self.store.accounts():
            self._accounts.setdefault(
                row.account_id,
                Account(
                    account_id=row.account_id,
                    name=row.name,
                    username=row.username,
                    fansly_account_id=row.fansly_account_id,
                    status=row.status,
                ),
            )
        if not self.clients:
            for account in self._visible(list(self._accounts.values())):
                self._attach(account, None, self._offline_connection, backfill=False)
            self.bus.publish(self._state)
            return
        for name in self.clients:
            self.connections[name].watch()
            self._tasks.append(
                asyncio.create_task(self._attach_profile(name, backfill), name=f"attach:{name}")
            )

    async def wait_attached(self) -> None:
        """Return once every profile has listed its accounts (or failed for good)."""
        await asyncio.gather(*(event.wait() for event in self._attached.values()))

    async def stop(self) -> None:
        """Stop every task and close the clients (and the store, if :meth:`open` opened it)."""
        tasks = [*self._tasks, *self._background]
        self._tasks.clear()
        self._background.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(engine.stop() for engine in self.engines.values()))
        for connection in [*self.connections.values(), self._offline_connection]:
            await connection.close()
        for client in self.clients.values():
            await client.aclose()
        if self._flusher is not None:
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)
            self._flusher = None
        await self.flush_credits()
        if self._owns_store:
            await self.store.close()
        self._started = False

    def _visible(self, accounts: Sequence[Account]) -> list[Account]:
        if not self.only_accounts:
            return list(accounts)
        return [a for a in accounts if a.account_id in self.only_accounts]

    async def _list_profile(self, name: str) -> list[Account]:
        """A profile's accounts from its gateway, remembered and cached (raises its errors)."""
        client = self.clients[name]
        listed = await client.list_accounts()
        self.connections[name].ok()
        profile = self.settings.profiles.get(name)
        wanted = set(profile.accounts) if profile is not None else set()
        accounts = self._visible([a for a in listed if not wanted or a.account_id in wanted])
        cached = {row.account_id: row for row in await self.store.accounts()}
        for account in accounts:
            if account.fansly_account_id is None:
                # The store tells the creator's messages from the fans' by this id.
                with contextlib.suppress(ApiError):
                    creator = await client.creator_id(account.account_id)
                    account = account.model_copy(update={"fansly_account_id": creator})
            before = cached.get(account.account_id)
            if (
                before is not None
                and before.fansly_account_id
                and account.fansly_account_id
                and before.fansly_account_id != account.fansly_account_id
            ):
                await self._set_aside(account, before)
            self._accounts[account.account_id] = account
        self._profile_accounts[name] = [self._accounts[a.account_id] for a in accounts]
        await self.store.upsert_accounts(
            [a for listed in self._profile_accounts.values() for a in listed]
        )
        return self._profile_accounts[name]

    async def _set_aside(self, account: Account, before: AccountRow) -> None:
        """The gateway lists a cached account with another creator behind it: two worlds that
        must not be merged into one list, nor get each other's queued replies. The old cache
        is set aside whole (``console/store/_identity.py``) and the account starts afresh."""
        engine = self.engines.pop(account.account_id, None)
        if engine is not None:  # attached from the cache while the gateway was away
            await engine.stop()
        new_creator = account.fansly_account_id or "?"
        moved = await self.store.identity.set_account_aside(
            account.account_id,
            f"not sent: the account's Fansly identity changed on the gateway "
            f"({before.fansly_account_id} became {new_creator})",
        )
        self._accounts[moved.aside_id] = Account(
            account_id=moved.aside_id,
            name=moved.aside_name,
            username=before.username,
            fansly_account_id=moved.old_creator_id,
            status=SET_ASIDE,
        )
        change = AccountSetAside(
            account.account_id,
            account.name,
            moved.old_creator_id,
            new_creator,
            moved.aside_id,
            moved.aside_name,
            moved.chats,
            moved.unsent,
        )
        log.info("%s", change.text())  # said by whoever shows the workspace (notice, stderr)
        self.set_aside.append(change)
        self.bus.publish(change)
        self.bus.publish(ChatChanged(moved.aside_id, ""))
        self.bus.publish(ChatChanged(account.account_id, ""))
        for account_id in (account.account_id, moved.aside_id):  # the status line's counts
            pending, failed = await self.store.outbox.counts(account_id)
            self.bus.publish(OutboxChanged(account_id, pending, failed))

    async def connect(self) -> list[Account]:
        """List every profile's accounts now and attach them without starting anything;
        raises the first gateway error (bad key, unreachable). For one-shot commands."""
        await self.start_credits()
        for name, client in self.clients.items():
            for account in await self._list_profile(name):
                self._attach(account, client, self.connections[name], backfill=False, start=False)
            self._attached[name].set()
        return self.accounts

    async def _attach_profile(self, name: str, backfill: bool) -> None:
        client = self.clients[name]
        connection = self.connections[name]
        try:
            while True:
                try:
                    accounts = await self._list_profile(name)
                    break
                except GatewayUnreachable as exc:
                    connection.lost(str(exc))
                    if len(self.clients) == 1:
                        # Only one profile: the cached accounts are surely its own, so their
                        # queued actions can wait for the gateway beside it.
                        self._attach_cached(name, client, connection)
                    await connection.wait_live()
                except ApiError as exc:
                    self.errors[name] = exc
                    log.warning("profile %s: %s", name, exc)
                    self._start_cached(client)
                    return
            for account in accounts:
                self._attach(account, client, connection, backfill=backfill)
            self._start_cached(client)
        finally:
            self._attached[name].set()

    def _attach_cached(self, name: str, client: FanslyClient, connection: Connection) -> None:
        # Attached, not started: their queued actions and backfill wait for the gateway's
        # listing, not only for the gateway. A creator changed meanwhile must not get the old
        # one's replies, nor have its chats fetched into the old one's list (issue 11.7).
        for account in self._visible(list(self._accounts.values())):
            if account.account_id not in self.engines and not is_set_aside(account):
                self._attach(account, client, connection, backfill=True, start=False)

    def _start_cached(self, client: FanslyClient) -> None:
        """Start what was attached from the cache and not listed (an account the gateway no
        longer has, a refused key): no backfill; queued actions get the gateway's verdict."""
        for engine in self.engines.values():
            if not engine.started and engine.client is client:
                engine.start(backfill=False)

    def _attach(
        self,
        account: Account,
        client: FanslyClient | None,
        connection: Connection,
        *,
        backfill: bool,
        start: bool = True,
    ) -> None:
        existing = self.engines.get(account.account_id)
        if existing is not None:
            if start and not existing.started:
                existing.start(backfill=backfill)
            return
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
        self.engines[account.account_id] = engine
        if start:
            engine.start(backfill=backfill)
        self.bus.publish(ChatChanged(account.account_id, ""))

    # -- state the UI shows ---------------------------------------------------------------------

    @property
    def accounts(self) -> list[Account]:
        """The accounts shown as tabs (cached ones too, while their gateway is away)."""
        return self._visible(list(self._accounts.values()))

    def engine(self, account_id: str) -> AccountSync:
        try:
            return self.engines[account_id]
        except KeyError:
            raise KeyError(f"no connected account {account_id!r}") from None

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

    # -- credits -----------------------------------------------------------------------------

    async def start_credits(self) -> None:
        """Load this month's spending from the cache into the meter (once), and keep writing
        what it counts."""
        if not self._credits_loaded:
            self._credits_loaded = True
            cycle = self.meter.status().cycle
            self.meter.load(cycle, await self.store.usage.credits_in_month(cycle))
        if self._flusher is None and not self.store.read_only and self.clients:
            self._flusher = asyncio.create_task(self._flush_credits_often(), name="credits")

    async def _flush_credits_often(self) -> None:
        while True:
            await asyncio.sleep(CREDITS_FLUSH_SECONDS)
            try:
                await self.flush_credits()
            except Exception as exc:  # the figures stay in the meter for the next try
                log.warning("could not write the credits spent to the cache: %s", exc)

    async def flush_credits(self) -> None:
        """Write what the meter counted since the last write to the cache."""
        rows = self.meter.take_pending()
        if not rows:
            return
        try:
            await self.store.usage.add(rows)
        except Exception:
            self.meter.restore_pending(rows)  # written with the next batch
            raise

    def credits(self) -> CreditStatus:
        """Credits used this month against the budget (for the status line)."""
        return self.meter.status()

    def _credit_notice(self, notice: CreditNotice) -> None:
        self.credit_notices.append(notice)
        log.info("%s", notice.text)
        status = notice.status
        self.bus.publish(CreditsChanged(notice.kind, notice.text, status.used, status.budget))

    def budget(self) -> RateBudget | None:
        """The latest rate-limit figures of the first profile's key (for the status line)."""
        for client in self.clients.values():
            return client.rate
        return None

    def progress(self) -> dict[str, SyncProgress]:
        return {a: e.progress for a, e in self.engines.items() if e.progress is not None}

    async def wait_backfilled(self) -> None:
        """Return once every attached account's start-up backfill has ended."""
        await self.wait_attached()
        await asyncio.gather(*(e.wait_backfilled() for e in self.engines.values()))

    async def backfill(self, account_id: str | None = None) -> list[BackfillReport]:
        """Run a backfill now, for one account or all, and return the reports."""
        await self.wait_attached()
        engines = [self.engine(account_id)] if account_id else list(self.engines.values())
        return list(await asyncio.gather(*(e.backfill() for e in engines)))

    # -- actions: stored first, delivered by the outbox ------------------------------------------

    async def _enqueue(
        self,
        account_id: str,
        chat_id: str,
        kind: OutboxKind,
        payload: dict[str, object],
        not_before: datetime | None = None,
    ) -> OutboxItem:
        item = await self.store.outbox.add(
            account_id, chat_id, kind, payload, uuid.uuid4().hex, not_before=not_before
        )
        engine = self.engines.get(account_id)
        settles = spec(kind).settles
        if settles is Settles.NEW_MESSAGE:
            self.bus.publish(MessageAdded(account_id, chat_id, item.client_id))
        elif "message_id" in payload:
            self.bus.publish(MessageChanged(account_id, chat_id, str(payload["message_id"])))
        self.bus.publish(ChatChanged(account_id, chat_id))
        if engine is not None and engine.sender is not None:
            await engine.sender.publish_counts()
            engine.sender.wake()
        else:
            pending, failed = await self.store.outbox.counts(account_id)
            self.bus.publish(OutboxChanged(account_id, pending, failed))
        return item

    async def act(
        self, account_id: str, chat_id: str, kind: OutboxKind | str, payload: dict[str, object]
    ) -> str:
        """Queue any action of :data:`console.store.actions.ACTIONS` (its effect shows at once);
        returns its client id."""
        return (await self._enqueue(account_id, chat_id, OutboxKind(kind), payload)).client_id

    async def send(
        self, account_id: str, chat_id: str, text: str, reply_to: str | None = None
    ) -> str:
        """Queue a message; returns its client id (the pending message shows at once)."""
        if not text.strip():
            raise ValueError("the message is empty")
        payload: dict[str, object] = {"content": text}
        if reply_to:
            payload["in_reply_to"] = reply_to
        item = await self._enqueue(account_id, chat_id, OutboxKind.SEND, payload)
        return item.client_id

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
        """Queue vault media with a text: a PPV at ``price_dollars`` (1-500, §10.2), or free
        media without a price. Returns its client id (the pending message shows at once)."""
        if not media_ids:
            raise ValueError("no media chosen")
        if not text.strip():
            raise ValueError("the message is empty (the gateway needs a text with media)")
        payload: dict[str, object] = {"content": text, "media_ids": list(media_ids)}
        kind = OutboxKind.SEND
        if price_dollars is not None:
            problem = ppv_price_problem(price_dollars)
            if problem:
                raise ValueError(problem)
            payload["price"] = price_dollars
            kind = OutboxKind.PPV
            if preview_id:
                payload["preview_id"] = preview_id
        if reply_to:
            payload["in_reply_to"] = reply_to
        return (await self._enqueue(account_id, chat_id, kind, payload)).client_id

    async def refresh_vault(self, account_id: str) -> int:
        """Fetch the account's whole vault (every album, paged) into the cache; returns the
        number of items. Raises offline."""
        client = self.online_client(account_id)

        async def fetch() -> tuple[list[VaultAlbum], list[VaultMedia]]:
            albums = await client.vault_albums(account_id)
            items: dict[str, VaultMedia] = {}
            for album in albums:
                async for item in client.iter_vault_media(account_id, album.id):
                    items.setdefault(item.id, item)
            newest = sorted(
                items.values(),
                key=lambda m: m.created_at.timestamp() if m.created_at else 0.0,
                reverse=True,
            )
            return albums, newest

        albums, items = await self._live(account_id, fetch())
        await self.store.vault.save(account_id, albums, items)
        return len(items)

    async def follow_up(self, account_id: str, chat_id: str, text: str, due: datetime) -> str:
        """Queue a message for ``due`` unless the fan writes first (issue 16); its client id.
        It is sent by this process's outbox, so only while a console runs."""
        if not text.strip():
            raise ValueError("the follow-up is empty")
        payload: dict[str, object] = {"content": text, "due_ms": int(due.timestamp() * 1000)}
        item = await self._enqueue(account_id, chat_id, OutboxKind.FOLLOW_UP, payload, due)
        return item.client_id

    async def like(self, account_id: str, chat_id: str, message_id: str, type: int = 1) -> str:
        payload: dict[str, object] = {"message_id": message_id, "type": type}
        return await self.act(account_id, chat_id, OutboxKind.LIKE, payload)

    async def unlike(self, account_id: str, chat_id: str, message_id: str, type: int = 1) -> str:
        payload: dict[str, object] = {"message_id": message_id, "type": type}
        return await self.act(account_id, chat_id, OutboxKind.UNLIKE, payload)

    async def pin(self, account_id: str, chat_id: str, message_id: str) -> str:
        payload: dict[str, object] = {"message_id": message_id}
        return await self.act(account_id, chat_id, OutboxKind.PIN, payload)

    async def unpin(self, account_id: str, chat_id: str, message_id: str) -> str:
        payload: dict[str, object] = {"message_id": message_id}
        return await self.act(account_id, chat_id, OutboxKind.UNPIN, payload)

    async def mute(self, account_id: str, fan_id: str, chat_id: str | None = None) -> str:
        chat_id = chat_id or await self._chat_of(account_id, fan_id)
        payload: dict[str, object] = {"fan_id": fan_id}
        return await self.act(account_id, chat_id, OutboxKind.MUTE, payload)

    async def unmute(self, account_id: str, fan_id: str, chat_id: str | None = None) -> str:
        chat_id = chat_id or await self._chat_of(account_id, fan_id)
        payload: dict[str, object] = {"fan_id": fan_id}
        return await self.act(account_id, chat_id, OutboxKind.UNMUTE, payload)

    async def _chat_of(self, account_id: str, fan_id: str) -> str:
        chat_id = await self.store.queries.chat_of_fan(account_id, fan_id)
        if chat_id is None:
            raise KeyError(f"no cached chat with fan {fan_id!r}")
        return chat_id

    async def retry(self, client_id: str) -> None:
        """Queue a failed action again, now (never one of a set-aside account: its creator is
        not the one the gateway has now)."""
        before = await self.store.outbox.item(client_id)
        if before is not None and is_set_aside(self._accounts.get(before.account_id)):
            raise ValueError(
                "this account's Fansly identity changed on the gateway: its old actions "
                "cannot be sent (copy the text into the new tab's chat instead)"
            )
        item = await self.store.outbox.retry_failed(client_id)
        self.bus.publish(
            MessageChanged(item.account_id, item.chat_id, item.client_id)
            if spec(item.kind).settles is Settles.NEW_MESSAGE
            else ChatChanged(item.account_id, item.chat_id)
        )
        engine = self.engines.get(item.account_id)
        if engine is not None and engine.sender is not None:
            await engine.sender.publish_counts()
            engine.sender.wake()

    async def discard(self, client_id: str) -> None:
        """Drop a failed action (and its failed message) for good."""
        item = await self.store.outbox.item(client_id)
        await self.store.outbox.discard(client_id)
        if item is not None:
            self.bus.publish(ChatChanged(item.account_id, item.chat_id))
            engine = self.engines.get(item.account_id)
            if engine is not None and engine.sender is not None:
                await engine.sender.publish_counts()

    async def drain_outbox(self, account_id: str | None = None) -> None:
        """Wait until the outbox holds nothing pending (bound it with ``asyncio.timeout``)."""
        engines = [self.engine(account_id)] if account_id else list(self.engines.values())
        await asyncio.gather(*(e.sender.drain() for e in engines if e.sender is not None))

    async def typing(self, account_id: str, chat_id: str) -> None:
        """Best effort, never queued: show the fan that someone is typing."""
        engine = self.engines.get(account_id)
        if engine is not None:
            await engine.typing(chat_id)

    async def mark_read(self, account_id: str, chat_id: str) -> None:
        await self.store.local.mark_read(chat_id)
        self.bus.publish(ChatChanged(account_id, chat_id))

    # -- reads that may reach the gateway ------------------------------------------------------

    async def load_older(
        self,
        account_id: str,
        chat_id: str,
        before: MessageRow | int | None = None,
        limit: int = 50,
    ) -> list[MessageRow]:
        """Up to ``limit`` messages older than ``before`` (a row or its ``pos``; ``None``: the
        newest), oldest first, from the cache; a gap in that range is filled from the
        gateway first when it can be reached."""
        engine = self.engines.get(account_id)
        if engine is None:
            return await History.cached(self.store, chat_id, before, limit)
        return await engine.load_older(chat_id, before, limit)

    def refresh_fan(self, account_id: str, fan_id: str) -> asyncio.Task[None] | None:
        """Refresh a fan's profile, lists and spend in the background (``FanChanged`` when
        done). Returns the task, or ``None`` when offline."""
        engine = self.engines.get(account_id)
        if engine is None or not engine.online:
            return None

        async def refresh() -> None:
            try:
                with background_work():  # a refresh on open: capped like sync
                    await engine.refresh_fan(fan_id)
            except GatewayUnreachable as exc:
                engine.connection.lost(str(exc))
            except ApiError as exc:
                log.info("refreshing fan %s failed: %s", fan_id, exc)

        task = asyncio.create_task(refresh(), name=f"fan:{fan_id}")
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    # -- automations and lists: direct calls, never queued (added for the console, issue 6) ------

    def online_client(self, account_id: str) -> FanslyClient:
        """The account's client while its gateway answers; ``GatewayUnreachable`` otherwise
        (rules and lists are changed live, so the chatter sees the provider's verdict)."""
        engine = self.engines.get(account_id)
        if engine is None or engine.client is None or not engine.online:
            raise GatewayUnreachable("offline: try again when the gateway is back")
        return engine.client

    async def _live(self, account_id: str, call: Awaitable[_T]) -> _T:
        try:
            return await call
        except GatewayUnreachable as exc:
            self.engine(account_id).connection.lost(str(exc))
            raise

    async def refresh_automations(self, account_id: str) -> list[AutomatedMessage]:
        """The account's automation rules from the gateway, cached for offline reading."""
        client = self.online_client(account_id)
        rules = await self._live(account_id, client.automated_messages(account_id))
        await self.store.automations.replace(account_id, rules)
        return rules

    async def create_automation(self, account_id: str, rule: AutomatedMessage) -> AutomatedMessage:
        """Create a rule (checked before sending; a 400 carries the provider's words)."""
        client = self.online_client(account_id)
        created = await self._live(account_id, client.create_automated_message(account_id, rule))
        await self.refresh_automations(account_id)
        return created

    async def delete_automation(self, account_id: str, rule_id: str) -> None:
        client = self.online_client(account_id)
        await self._live(account_id, client.delete_automated_message(account_id, rule_id))
        await self.refresh_automations(account_id)

    async def fan_lists(self, account_id: str, fan_id: str) -> list[tuple[FanList, bool]]:
        """The creator's lists, each with whether ``fan_id`` is on it."""
        client = self.online_client(account_id)
        every, mine = await self._live(
            account_id,
            asyncio.gather(client.lists(account_id), client.lists(account_id, fan_id=fan_id)),
        )
        on = {row.id for row in mine}
        return [(row, row.id in on) for row in every]

    async def set_fan_list(self, account_id: str, fan_id: str, list_id: str, member: bool) -> None:
        """Put a fan on a list or take them off, then refresh the cached profile."""
        client = self.online_client(account_id)
        if member:
            await self._live(account_id, client.add_to_list(account_id, fan_id, list_id))
        else:
            await self._live(account_id, client.remove_from_list(account_id, fan_id, list_id))
        await self.engine(account_id).refresh_fan(fan_id, force=True)

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
