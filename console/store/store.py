"""``Store``: the offline cache of one profile, the single source of truth the UI reads.

The store is parts over one core (:class:`~console.store._core.StoreCore`: the connections,
the write transaction, indexing, maintenance, what is known of accounts):

- ``store.events``: the event log, webhook events recorded and applied once (``_events``);
- ``store.writes``: what the gateway says, accounts, fans, chats, messages (``_writes``);
- ``store.queries``: what the UI reads, chat list windows, thread pages, profiles, search;
- ``store.outbox``: actions waiting for the gateway, ``store.outbox.add(...)``, ``.due()``,
  ``.items()``, ``.mark_sent()`` ... (``_outbox``);
- ``store.local``: the team's own data, read state, pinned chats, notes, drafts (``_local``);
- ``store.sync_state``: backfill progress and known gaps (``_sync_state``);
- ``store.automations``: the automated-message rules the gateway last listed;
- ``store.usage``: the credits the client's meter counted, per account, feature and day
  (``_usage``);
- ``store.vault``: the creator's vault as last listed and the fans' purchases (``_media``);
- ``store.queue``: the chats waiting for an answer across accounts, the chatter's reminders
  and follow-ups (``_queue``);
- ``store.identity``: setting aside the cache of an account whose creator changed.

**Call sites.** New code calls a part: ``store.outbox.add(...)``. The read API and the two
write paths every layer and most tests call (the event log's four methods, the gateway's
upserts, every query the UI makes) are also reachable on the store itself,
``store.chats(...)`` being ``store.queries.chats(...)``: they are hundreds of call sites, and
the hub takes the store itself as its event log. These are delegates (:class:`_Via`), not
copies: a parameter added to the part's method is there at once. The outbox, notes, drafts,
sync state and the rest are reached only through their part, and so is a new method (a
delegate line is added here only for a method the UI and sync call everywhere).

Event application is plain functions over a connection (``_events.apply_batch``), which the
store's event log and the ingest worker's :class:`~console.store.ingest.EventWriter` both
call. Nothing in the product outside ``console.store`` imports its private modules or reaches
a private name of the store (an import-linter contract and ``tests/store/test_store_parts.py``
check); the store's own white-box tests and the benches do, on purpose.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar

from console import paths
from console.store._automations import Automations
from console.store._core import DbThread, StoreCore, prepare_file
from console.store._events import EventLog
from console.store._file import check_sealed
from console.store._fts import pending_count
from console.store._identity import AccountIdentity
from console.store._local import LocalData
from console.store._media import VaultData
from console.store._outbox import Outbox
from console.store._queries import CacheQueries
from console.store._queue import WaitingQueue
from console.store._retention import EVENT_RETENTION_DAYS, retention_ms
from console.store._sync_state import SyncState
from console.store._usage import CreditLedger
from console.store._writes import CacheWrites
from console.store.rows import Maintenance

P = ParamSpec("P")
R = TypeVar("R")


def store_path(profile: str) -> Path:
    """Where a profile's cache lives: ``<data dir>/<profile>.sqlite3``. The name is checked
    (``ValueError``) so that no profile's cache is outside the data dir."""
    return paths.data_dir() / f"{paths.check_profile_name(profile)}.sqlite3"


class _Via(Generic[P, R]):
    """A part's method, reached on the store: ``store.chats`` is ``store.queries.chats``
    (same signature, same docstring)."""

    def __init__(self, part: str, method: Callable[Concatenate[Any, P], R]) -> None:
        self._part = part
        self._name = method.__name__
        self.__doc__ = method.__doc__

    def __get__(self, store: Store | None, owner: type | None = None) -> Callable[P, R]:
        if store is None:
            return self  # type: ignore[return-value]  # the class attribute itself (docs)
        method: Callable[P, R] = getattr(getattr(store, self._part), self._name)
        return method


class Store:
    """The SQLite cache (WAL, foreign keys, migrated on open).

    ``store = await Store.open(path)`` … ``await store.close()``, or
    ``async with await Store.open(path) as store:``. Safe to share between the tasks of one
    event loop: writes are serialised, reads run beside them. Its parts are described in the
    module's docstring.
    """

    #: Opened read-only (``Store.open(path, read_only=True)``): every write fails.
    read_only = False

    def __init__(self, path: Path, writer: DbThread, reader: DbThread) -> None:
        self.path = path
        self.core = StoreCore(path, writer, reader)
        self.events = EventLog(self.core)
        self.writes = CacheWrites(self.core)
        self.queries = CacheQueries(self.core)
        self.outbox = Outbox(self.core)
        self.local = LocalData(self.core)
        self.sync_state = SyncState(self.core)
        self.automations = Automations(self.core)
        self.identity = AccountIdentity(self.core)
        self.usage = CreditLedger(self.core)
        self.vault = VaultData(self.core)
        self.queue = WaitingQueue(self.core)

    @classmethod
    async def open(
        cls,
        path: Path | str,
        *,
        read_only: bool = False,
        event_retention_days: float = EVENT_RETENTION_DAYS,
    ) -> Store:
        """Open (creating and migrating if needed) the cache at ``path``; a cache that is
        damaged, or cannot be written, raises a ``CacheProblem`` saying so. Logged events
        older than ``event_retention_days`` are pruned when the writer is idle.

        ``read_only``: open an existing cache without ever writing it (a 0400 file, a
        read-only folder): reads only, no migration, no indexing of pending messages."""
        path = Path(path)
        if read_only:
            await asyncio.to_thread(check_sealed, path)
        else:
            await asyncio.to_thread(prepare_file, path)
        writer = DbThread(path, read_only=read_only, name="store-writer", sealed=read_only)
        reader = DbThread(path, read_only=True, name="store-reader", sealed=read_only)
        try:
            await writer.start()
            await reader.start()
        except BaseException:
            await writer.close()
            await reader.close()
            raise
        store = cls(path, writer, reader)
        store.read_only = read_only
        store.core.event_retention_ms = retention_ms(event_retention_days)
        try:
            for account in await store.accounts():
                store.core.known.creators[account.account_id] = account.fansly_account_id
            if not read_only:
                # Messages left unindexed by a crash (or a closed program) are indexed when idle.
                store.core._index_soon(await writer.run(pending_count), now=True)
        except BaseException:
            await store.close()
            raise
        return store

    async def close(self) -> None:
        """Close the connections (the WAL is checkpointed by SQLite on the last close)."""
        await self.core.close()

    async def maintain(self) -> Maintenance:
        """Prune the event log past the retention and truncate the WAL (see ``_retention``);
        runs by itself when the writer is idle."""
        return await self.core.maintain()

    async def flush_index(self) -> None:
        """Index every pending message now (benches and tests; the writer does it when idle)."""
        await self.core.flush_index()

    @property
    def fts_backlog(self) -> int:
        """Messages committed but not indexed yet, as of the last commit that counted them."""
        return self.core.fts_backlog

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- delegates: the event log (the hub reads the store as its log) ----------------------
    apply_event = _Via("events", EventLog.apply_event)
    events_since = _Via("events", EventLog.events_since)
    last_event_seq = _Via("events", EventLog.last_event_seq)
    first_event_seq = _Via("events", EventLog.first_event_seq)

    # -- delegates: what the gateway says ---------------------------------------------------
    upsert_accounts = _Via("writes", CacheWrites.upsert_accounts)
    upsert_fan = _Via("writes", CacheWrites.upsert_fan)
    set_fan_earnings = _Via("writes", CacheWrites.set_fan_earnings)
    upsert_chats = _Via("writes", CacheWrites.upsert_chats)
    upsert_messages = _Via("writes", CacheWrites.upsert_messages)

    # -- delegates: what the UI reads -------------------------------------------------------
    accounts = _Via("queries", CacheQueries.accounts)
    chats = _Via("queries", CacheQueries.chats)
    count_chats = _Via("queries", CacheQueries.count_chats)
    chat_window = _Via("queries", CacheQueries.chat_window)
    chat = _Via("queries", CacheQueries.chat)
    chat_index = _Via("queries", CacheQueries.chat_index)
    unread_counts = _Via("queries", CacheQueries.unread_counts)
    next_unread_chat = _Via("queries", CacheQueries.next_unread_chat)
    fan = _Via("queries", CacheQueries.fan)
    message = _Via("queries", CacheQueries.message)
    latest_messages = _Via("queries", CacheQueries.latest_messages)
    messages_before = _Via("queries", CacheQueries.messages_before)
    messages_after = _Via("queries", CacheQueries.messages_after)
    messages_around = _Via("queries", CacheQueries.messages_around)
    pinned_messages = _Via("queries", CacheQueries.pinned_messages)
    search = _Via("queries", CacheQueries.search)
