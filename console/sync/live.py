"""What the workspace asks of the gateway now, never through the outbox.

Older history while the chatter scrolls (the cache when the gateway is away), a fan's profile
on open, and the changes made live so the chatter sees the provider's verdict at once:
automation rules and lists (added for the console, issue 6), and the vault. The changes raise
``GatewayUnreachable`` offline; an unreachable gateway seen on the way marks the account's
connection lost, so the status line says so and the sender pauses.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TypeVar

from console.api.client import FanslyClient
from console.api.credits import background_work
from console.api.errors import ApiError, GatewayUnreachable
from console.api.models import AutomatedMessage, FanList, VaultAlbum, VaultMedia
from console.store import Store
from console.store.rows import MessageRow
from console.sync.account_set import AccountSet
from console.sync.backfill import History

log = logging.getLogger(__name__)
_T = TypeVar("_T")


class LiveCalls:
    """A workspace's direct gateway calls. Background ones (fan refreshes) are kept in
    ``background``, which the workspace cancels when it stops."""

    def __init__(
        self, store: Store, accounts: AccountSet, background: set[asyncio.Task[None]]
    ) -> None:
        self.store = store
        self.accounts = accounts
        self.background = background

    def online_client(self, account_id: str) -> FanslyClient:
        """The account's client while its gateway answers; ``GatewayUnreachable`` otherwise
        (rules and lists are changed live, so the chatter sees the provider's verdict)."""
        engine = self.accounts.engines.get(account_id)
        if engine is None or engine.client is None or not engine.online:
            raise GatewayUnreachable("offline: try again when the gateway is back")
        return engine.client

    async def _live(self, account_id: str, call: Awaitable[_T]) -> _T:
        try:
            return await call
        except GatewayUnreachable as exc:
            self.accounts.engine(account_id).connection.lost(str(exc))
            raise

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
        engine = self.accounts.engines.get(account_id)
        if engine is None:
            return await History.cached(self.store, chat_id, before, limit)
        return await engine.load_older(chat_id, before, limit)

    def refresh_fan(self, account_id: str, fan_id: str) -> asyncio.Task[None] | None:
        """Refresh a fan's profile, lists and spend in the background (``FanChanged`` when
        done). Returns the task, or ``None`` when offline."""
        engine = self.accounts.engines.get(account_id)
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
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

    # -- changes made live ---------------------------------------------------------------------

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
        await self.accounts.engine(account_id).refresh_fan(fan_id, force=True)
