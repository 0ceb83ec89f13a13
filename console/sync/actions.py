"""The chatter's actions: stored first, shown at once, delivered in the background.

Each action (a reply, a PPV, a like, a mute, …) is written to the store's outbox with a client
id, its effect is published at once (a pending message, a liked heart), and the account's
outbox sender (``console/sync/outbox.py``) delivers it. What an action is — its payload, its
call, what it settles — is the store's action table (``console/store/actions.py``); this module
builds the payloads the console asks for and keeps the outbox's counts on the status line.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime

from console.api.models import ppv_price_problem
from console.changes import ChatChanged, MessageAdded, MessageChanged, OutboxChanged, UpdateBus
from console.store import Store, is_set_aside
from console.store.actions import Settles, spec
from console.store.rows import OutboxItem, OutboxKind
from console.sync.account_set import AccountSet
from console.sync.outbox import OutboxSender


class ChatterActions:
    """Queues a workspace's actions for its accounts' outbox senders."""

    def __init__(self, store: Store, bus: UpdateBus, accounts: AccountSet) -> None:
        self.store = store
        self.bus = bus
        self.accounts = accounts

    def _sender(self, account_id: str) -> OutboxSender | None:
        """The account's outbox sender (none for an account not attached, or offline)."""
        engine = self.accounts.engines.get(account_id)
        return engine.sender if engine is not None else None

    async def enqueue(
        self,
        account_id: str,
        chat_id: str,
        kind: OutboxKind,
        payload: dict[str, object],
        not_before: datetime | None = None,
    ) -> OutboxItem:
        """Store an action, publish its effect, and wake the account's sender."""
        item = await self.store.outbox.add(
            account_id, chat_id, kind, payload, uuid.uuid4().hex, not_before=not_before
        )
        settles = spec(kind).settles
        if settles is Settles.NEW_MESSAGE:
            self.bus.publish(MessageAdded(account_id, chat_id, item.client_id))
        elif "message_id" in payload:
            self.bus.publish(MessageChanged(account_id, chat_id, str(payload["message_id"])))
        self.bus.publish(ChatChanged(account_id, chat_id))
        sender = self._sender(account_id)
        if sender is not None:
            await sender.publish_counts()
            sender.wake()
        else:
            pending, failed = await self.store.outbox.counts(account_id)
            self.bus.publish(OutboxChanged(account_id, pending, failed))
        return item

    async def act(
        self, account_id: str, chat_id: str, kind: OutboxKind | str, payload: dict[str, object]
    ) -> str:
        """Queue any action of :data:`console.store.actions.ACTIONS` (its effect shows at once);
        returns its client id."""
        return (await self.enqueue(account_id, chat_id, OutboxKind(kind), payload)).client_id

    async def send(
        self, account_id: str, chat_id: str, text: str, reply_to: str | None = None
    ) -> str:
        """Queue a message; returns its client id (the pending message shows at once)."""
        if not text.strip():
            raise ValueError("the message is empty")
        payload: dict[str, object] = {"content": text}
        if reply_to:
            payload["in_reply_to"] = reply_to
        item = await self.enqueue(account_id, chat_id, OutboxKind.SEND, payload)
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
        return (await self.enqueue(account_id, chat_id, kind, payload)).client_id

    async def follow_up(self, account_id: str, chat_id: str, text: str, due: datetime) -> str:
        """Queue a message for ``due`` unless the fan writes first (issue 16); its client id.
        It is sent by this process's outbox, so only while a console runs."""
        if not text.strip():
            raise ValueError("the follow-up is empty")
        payload: dict[str, object] = {"content": text, "due_ms": int(due.timestamp() * 1000)}
        item = await self.enqueue(account_id, chat_id, OutboxKind.FOLLOW_UP, payload, due)
        return item.client_id

    async def on_message(
        self, account_id: str, chat_id: str, kind: OutboxKind, message_id: str, **extra: object
    ) -> str:
        """Queue an action on one message (like, unlike, pin, unpin)."""
        return await self.act(account_id, chat_id, kind, {"message_id": message_id, **extra})

    async def on_fan(
        self, account_id: str, fan_id: str, chat_id: str | None, kind: OutboxKind
    ) -> str:
        """Queue an action on a fan (mute, unmute), in their chat (the cached one by default)."""
        chat_id = chat_id or await self._chat_of(account_id, fan_id)
        return await self.act(account_id, chat_id, kind, {"fan_id": fan_id})

    async def _chat_of(self, account_id: str, fan_id: str) -> str:
        chat_id = await self.store.queries.chat_of_fan(account_id, fan_id)
        if chat_id is None:
            raise KeyError(f"no cached chat with fan {fan_id!r}")
        return chat_id

    async def retry(self, client_id: str) -> None:
        """Queue a failed action again, now (never one of a set-aside account: its creator is
        not the one the gateway has now)."""
        before = await self.store.outbox.item(client_id)
        if before is not None and is_set_aside(self.accounts.known.get(before.account_id)):
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
        sender = self._sender(item.account_id)
        if sender is not None:
            await sender.publish_counts()
            sender.wake()

    async def discard(self, client_id: str) -> None:
        """Drop a failed action (and its failed message) for good."""
        item = await self.store.outbox.item(client_id)
        await self.store.outbox.discard(client_id)
        if item is not None:
            self.bus.publish(ChatChanged(item.account_id, item.chat_id))
            sender = self._sender(item.account_id)
            if sender is not None:
                await sender.publish_counts()

    async def drain(self, account_id: str | None = None) -> None:
        """Wait until the outbox holds nothing pending (bound it with ``asyncio.timeout``)."""
        engines = (
            [self.accounts.engine(account_id)]
            if account_id
            else list(self.accounts.engines.values())
        )
        await asyncio.gather(*(e.sender.drain() for e in engines if e.sender is not None))

    async def typing(self, account_id: str, chat_id: str) -> None:
        """Best effort, never queued: show the fan that someone is typing."""
        engine = self.accounts.engines.get(account_id)
        if engine is not None:
            await engine.typing(chat_id)

    async def mark_read(self, account_id: str, chat_id: str) -> None:
        await self.store.local.mark_read(chat_id)
        self.bus.publish(ChatChanged(account_id, chat_id))
