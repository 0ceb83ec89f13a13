"""``Store``: the offline cache of one profile, the single source of truth the UI reads."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import TracebackType

from console import paths
from console.store._core import DbThread, prepare_file
from console.store._file import check_sealed
from console.store._fts import pending_count
from console.store._identity import AccountIdentity
from console.store._media import VaultData
from console.store._outbox import LocalData
from console.store._queries import CacheQueries
from console.store._queue import QueueQueries
from console.store._retention import EVENT_RETENTION_DAYS, retention_ms
from console.store._usage import CreditLedger


def store_path(profile: str) -> Path:
    """Where a profile's cache lives: ``<data dir>/<profile>.sqlite3``. The name is checked
    (``ValueError``) so that no profile's cache is outside the data dir."""
    return paths.data_dir() / f"{paths.check_profile_name(profile)}.sqlite3"


class Store(LocalData, CacheQueries, QueueQueries, AccountIdentity, CreditLedger, VaultData):
    """The SQLite cache (WAL, foreign keys, migrated on open).

    ``store = await Store.open(path)`` … ``await store.close()``, or
    ``async with await Store.open(path) as store:``. Safe to share between the tasks of one
    event loop: writes are serialised, reads run beside them.
    """

    #: Opened read-only (``Store.open(path, read_only=True)``): every write fails.
    read_only = False

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
        store.event_retention_ms = retention_ms(event_retention_days)
        try:
            for account in await store.accounts():
                store._creators[account.account_id] = account.fansly_account_id
            if not read_only:
                # Messages left unindexed by a crash (or a closed program) are indexed when idle.
                store._index_soon(await writer.run(pending_count), now=True)
        except BaseException:
            await store.close()
            raise
        return store

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
