"""``Store``: the offline cache of one profile, the single source of truth the UI reads."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import TracebackType

from console import paths
from console.store._core import DbThread, prepare_file
from console.store._fts import pending_count
from console.store._identity import AccountIdentity
from console.store._outbox import LocalData
from console.store._queries import CacheQueries
from console.store._retention import EVENT_RETENTION_DAYS, retention_ms


def store_path(profile: str) -> Path:
    """Where a profile's cache lives: ``<data dir>/<profile>.sqlite3``."""
    return paths.data_dir() / f"{profile}.sqlite3"


class Store(LocalData, CacheQueries, AccountIdentity):
    """The SQLite cache (WAL, foreign keys, migrated on open).

    ``store = await Store.open(path)`` … ``await store.close()``, or
    ``async with await Store.open(path) as store:``. Safe to share between the tasks of one
    event loop: writes are serialised, reads run beside them.
    """

    @classmethod
    async def open(
        cls, path: Path | str, *, event_retention_days: float = EVENT_RETENTION_DAYS
    ) -> Store:
        """Open (creating and migrating if needed) the cache at ``path``; logged events older
        than ``event_retention_days`` are pruned when the writer is idle."""
        path = Path(path)
        await asyncio.to_thread(prepare_file, path)
        writer = DbThread(path, read_only=False, name="store-writer")
        reader = DbThread(path, read_only=True, name="store-reader")
        try:
            await writer.start()
            await reader.start()
        except BaseException:
            await writer.close()
            await reader.close()
            raise
        store = cls(path, writer, reader)
        store.event_retention_ms = retention_ms(event_retention_days)
        for account in await store.accounts():
            store._creators[account.account_id] = account.fansly_account_id
        # Messages left unindexed by a crash (or a closed program) are indexed when idle.
        store._index_soon(await writer.run(pending_count), now=True)
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
