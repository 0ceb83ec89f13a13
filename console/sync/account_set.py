"""The workspace's account set: which accounts are shown as tabs, and their sync engines.

The accounts come from the cache at start and from each profile's gateway listing once it
answers. An account the gateway lists with another creator behind it than the cached one is
set aside (its old cache kept apart, the account started afresh). Each account gets one
:class:`AccountSync`, built by the workspace (which holds the retry policy and the meter) and
attached here, started or held until its profile's gateway has listed it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence

from console.api.client import FanslyClient
from console.api.errors import ApiError, GatewayUnreachable
from console.api.models import Account
from console.changes import AccountSetAside, ChatChanged, OutboxChanged, UpdateBus
from console.config import Settings
from console.store import SET_ASIDE, AccountRow, Store, is_set_aside
from console.sync.account import AccountSync
from console.sync.connection import Connection

log = logging.getLogger(__name__)

#: Builds an account's engine (not started) on a client (``None``: cached only) and the
#: connection of the client's gateway.
NewEngine = Callable[[Account, FanslyClient | None, Connection], AccountSync]


class AccountSet:
    """The accounts a workspace shows, one :class:`AccountSync` each, per profile."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        bus: UpdateBus,
        clients: Mapping[str, FanslyClient],
        connections: Mapping[str, Connection],
        new_engine: NewEngine,
        *,
        only: Sequence[str] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.bus = bus
        self.clients = clients
        self.connections = connections
        self._new_engine = new_engine
        #: Only these accounts are shown (``--account``); empty: all of them.
        self.only = set(only or ())
        self.engines: dict[str, AccountSync] = {}
        #: Every account known this run, set-aside ones included, by account id.
        self.known: dict[str, Account] = {}
        self._by_profile: dict[str, list[Account]] = {}
        self._attached: dict[str, asyncio.Event] = {name: asyncio.Event() for name in clients}
        #: The error that stopped a profile's listing (a bad key), by profile name.
        self.errors: dict[str, ApiError] = {}
        #: Accounts whose identity changed on the gateway this run (see ``_set_aside``).
        self.set_aside: list[AccountSetAside] = []

    @property
    def shown(self) -> list[Account]:
        """The accounts shown as tabs (cached ones too, while their gateway is away)."""
        return self.visible(list(self.known.values()))

    def visible(self, accounts: Sequence[Account]) -> list[Account]:
        if not self.only:
            return list(accounts)
        return [a for a in accounts if a.account_id in self.only]

    def engine(self, account_id: str) -> AccountSync:
        try:
            return self.engines[account_id]
        except KeyError:
            raise KeyError(f"no connected account {account_id!r}") from None

    async def load_cached(self) -> None:
        """Know the cached accounts (the gateway's listing, when it comes, takes precedence)."""
        for row in await self.store.accounts():
            self.known.setdefault(
                row.account_id,
                Account(
                    account_id=row.account_id,
                    name=row.name,
                    username=row.username,
                    fansly_account_id=row.fansly_account_id,
                    status=row.status,
                ),
            )

    async def wait_attached(self) -> None:
        """Return once every profile has listed its accounts (or failed for good)."""
        await asyncio.gather(*(event.wait() for event in self._attached.values()))

    async def stop(self) -> None:
        await asyncio.gather(*(engine.stop() for engine in self.engines.values()))

    # -- listing -------------------------------------------------------------------------------

    async def list_profile(self, name: str) -> list[Account]:
        """A profile's accounts from its gateway, remembered and cached (raises its errors)."""
        client = self.clients[name]
        listed = await client.list_accounts()
        self.connections[name].ok()
        profile = self.settings.profiles.get(name)
        wanted = set(profile.accounts) if profile is not None else set()
        accounts = self.visible([a for a in listed if not wanted or a.account_id in wanted])
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
            self.known[account.account_id] = account
        self._by_profile[name] = [self.known[a.account_id] for a in accounts]
        await self.store.upsert_accounts(
            [a for listed in self._by_profile.values() for a in listed]
        )
        return self._by_profile[name]

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
        self.known[moved.aside_id] = Account(
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

    # -- attaching -----------------------------------------------------------------------------

    async def connect(self) -> list[Account]:
        """List every profile's accounts now and attach them without starting anything;
        raises the first gateway error (bad key, unreachable)."""
        for name, client in self.clients.items():
            for account in await self.list_profile(name):
                self.attach(account, client, self.connections[name], backfill=False, start=False)
            self._attached[name].set()
        return self.shown

    def attach_offline(self, connection: Connection) -> None:
        """No gateway at all: the cached accounts, started without a client (reads from the
        cache; actions wait in the outbox)."""
        for account in self.shown:
            self.attach(account, None, connection, backfill=False)

    async def attach_profile(self, name: str, backfill: bool) -> None:
        """List a profile's accounts (waiting for its gateway while it cannot be reached) and
        start them; a refusal (bad key) is kept in :attr:`errors`."""
        client = self.clients[name]
        connection = self.connections[name]
        try:
            while True:
                try:
                    accounts = await self.list_profile(name)
                    break
                except GatewayUnreachable as exc:
                    connection.lost(str(exc))
                    if len(self.clients) == 1:
                        # Only one profile: the cached accounts are surely its own, so their
                        # queued actions can wait for the gateway beside it.
                        self._attach_cached(client, connection)
                    await connection.wait_live()
                except ApiError as exc:
                    self.errors[name] = exc
                    log.warning("profile %s: %s", name, exc)
                    self._start_cached(client)
                    return
            for account in accounts:
                self.attach(account, client, connection, backfill=backfill)
            self._start_cached(client)
        finally:
            self._attached[name].set()

    def _attach_cached(self, client: FanslyClient, connection: Connection) -> None:
        # Attached, not started: their queued actions and backfill wait for the gateway's
        # listing, not only for the gateway. A creator changed meanwhile must not get the old
        # one's replies, nor have its chats fetched into the old one's list (issue 11.7).
        for account in self.shown:
            if account.account_id not in self.engines and not is_set_aside(account):
                self.attach(account, client, connection, backfill=True, start=False)

    def _start_cached(self, client: FanslyClient) -> None:
        """Start what was attached from the cache and not listed (an account the gateway no
        longer has, a refused key): no backfill; queued actions get the gateway's verdict."""
        for engine in self.engines.values():
            if not engine.started and engine.client is client:
                engine.start(backfill=False)

    def attach(
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
        engine = self._new_engine(account, client, connection)
        self.engines[account.account_id] = engine
        if start:
            engine.start(backfill=backfill)
        self.bus.publish(ChatChanged(account.account_id, ""))
