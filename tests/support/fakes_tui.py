"""An in-memory :class:`~console.tui.source.ConsoleSource`: a small deterministic world.

A test fake (it lives under tests/, not in the product). Used by widget tests, snapshot tests
and the benches' baselines, where a network and a cache would only add noise. Its rows are
the store's own (``console.store.rows``); actions change the world and publish the same
updates the sync engine publishes, so the console reacts to them the same way. The contract
suite (``tests/tui/test_source_contract.py``) runs the same tests against it and the real source.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from console.api.errors import GatewayUnreachable
from console.api.models import (
    Account,
    AutomatedMessage,
    Fan,
    Like,
    Message,
    RateBudget,
    Subscription,
    TriggerType,
)
from console.changes import (
    ChatChanged,
    ConnectionChanged,
    ConnectionState,
    EventApplied,
    FanChanged,
    MessageAdded,
    MessageChanged,
    OutboxChanged,
    UpdateBus,
)
from console.events import Event, EventType, Provider
from console.store.actions import Settles, spec
from console.store.queue import QueueRow
from console.store.rows import (
    ChatFilter,
    ChatRow,
    MessageRow,
    MessageState,
    PurchaseRow,
    VaultAlbumRow,
    VaultItem,
)
from console.store.text import one_line
from console.tui.followup import FollowUpRow
from console.tui.source import FanCard, ListChoice, MessagePage, SearchResult
from support.fakes_vault import MemoryVault

FIXED_NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
_FIRST = ["Ava", "Mia", "Leo", "Kai", "Zoe", "Max", "Ivy", "Sam", "Eli", "Noa", "Ray", "Lux"]
_LAST = ["Stone", "Rivers", "Park", "Quinn", "Hale", "Moss", "Vale", "Reed", "Cruz", "Frost"]
_LINES = [
    "hey, how was your day?",
    "loved the last post!!",
    "are you doing a stream this week?",
    "good morning ☀️",
    "that outfit though 🔥",
    "can I ask you something?",
    "thanks for the reply 😊",
    "just renewed, see you around",
]


@dataclass
class _Chat:
    account_id: str
    chat_id: str
    fan: Fan
    messages: list[MessageRow] = field(default_factory=list)
    unread: int = 0
    pinned: bool = False
    muted: bool = False
    vip: bool = False


class MemorySource(MemoryVault):
    """A deterministic in-memory world of accounts, fans, chats and messages."""

    def __init__(
        self,
        *,
        accounts: int = 2,
        chats_per_account: int = 40,
        messages_per_chat: int = 30,
        seed: int = 7,
        now: datetime = FIXED_NOW,
        vault_size: int = 120,
    ) -> None:
        self.bus = UpdateBus()
        #: Items per account's vault (built when first read), and the fans' purchases.
        self.vault_size = vault_size
        self.vaults: dict[str, tuple[list[VaultAlbumRow], list[VaultItem]]] = {}
        self.purchases: dict[str, list[PurchaseRow]] = {}
        self.now = now
        self.calls: list[tuple[str, tuple[object, ...]]] = []
        self.drafts: dict[tuple[str, str], str] = {}
        self.notes: dict[str, str] = {}
        #: Set to ``"offline"``/``"reconnecting"`` to play an outage (live calls then fail).
        self.state: ConnectionState = "live"
        self.lists = {"l1": "VIP", "l2": "Whales", "l3": "Birthday this month"}
        self.rules: dict[str, list[AutomatedMessage]] = {}
        self.spend: dict[str, list[tuple[datetime, int]]] = {}
        self.reminders: dict[tuple[str, str], datetime] = {}
        self.follow_up_rows: list[FollowUpRow] = []
        self._ids = itertools.count(10**17)
        self._positions = itertools.count(1)
        self._accounts: list[Account] = []
        self._chats: dict[str, list[_Chat]] = {}
        self._by_id: dict[tuple[str, str], _Chat] = {}
        rng = random.Random(seed)
        for a in range(accounts):
            account = Account(account_id=f"fansly_acc_{a + 1:04d}", name=f"Creator {a + 1}")
            account.fansly_account_id = str(900 + a)
            self._accounts.append(account)
            chats: list[_Chat] = []
            for c in range(chats_per_account):
                fan_id = str(next(self._ids))
                name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
                sub = Subscription(
                    id=str(next(self._ids)),
                    fan_id=fan_id,
                    tier_name=rng.choice(["Basic", "VIP", "Gold"]),
                    status=rng.choice(["active", "active", "expired"]),
                    renew_date=now + timedelta(days=rng.randint(1, 30)),
                )
                fan = Fan(
                    id=fan_id,
                    username=name.lower().replace(" ", "_") + str(c),
                    display_name=name,
                    subscription=sub,
                    lifetime_spend_millis=rng.randint(0, 900_000),
                    tips_millis=rng.randint(0, 200_000),
                    lists=["VIP"] if c % 7 == 0 else [],
                )
                chat = _Chat(account.account_id, str(next(self._ids)), fan, vip=c % 7 == 0)
                chat.pinned = c in (3, 11)
                chat.muted = c % 13 == 5
                start = now - timedelta(minutes=7 * c + 3, days=messages_per_chat // 8)
                for m in range(messages_per_chat):
                    outgoing = m % 3 == 2
                    created = start + timedelta(hours=3 * m)
                    created = min(
                        created, now - timedelta(minutes=7 * c + 3 + messages_per_chat - m)
                    )
                    msg = Message(
                        id=str(next(self._ids)),
                        chat_id=chat.chat_id,
                        sender_id=account.fansly_account_id if outgoing else fan_id,
                        content=rng.choice(_LINES),
                        created_at=created,
                    )
                    chat.messages.append(self._message(chat, msg, outgoing))
                chat.unread = 0 if c % 3 else rng.randint(1, 4)
                self.spend[fan_id] = [
                    (now - timedelta(days=9 * k + rng.randint(0, 8)), rng.randint(4_000, 60_000))
                    for k in range(rng.randint(0, 10), 0, -1)
                ]
                chats.append(chat)
                self._by_id[(account.account_id, chat.chat_id)] = chat
            self._chats[account.account_id] = chats
            self.rules[account.account_id] = [
                AutomatedMessage(
                    id=str(next(self._ids)),
                    trigger_type=TriggerType.NEW_SUBSCRIBER,
                    content="Welcome! So happy to have you here 💕",
                    delay_seconds=60,
                ),
                AutomatedMessage(
                    id=str(next(self._ids)),
                    trigger_type=TriggerType.NEW_TIP,
                    content="Thank you for the tip!",
                    tip_amount_dollars=10,
                    keywords=["thanks", "love"],
                    cooldown_seconds=3600,
                ),
            ]

    # -- reading -------------------------------------------------------------------------

    def accounts(self) -> Sequence[Account]:
        return list(self._accounts)

    def connection(self) -> ConnectionChanged:
        if self.state == "live":
            return ConnectionChanged("live", self.now)
        return ConnectionChanged(self.state, self.now, "in-memory world")

    def go(self, state: ConnectionState) -> None:
        """Play a connection change (``live``, ``reconnecting``, ``offline``)."""
        self.state = state
        self.bus.publish(self.connection())

    def budget(self) -> RateBudget | None:
        return RateBudget(limit=600, remaining=600 - len(self.calls), plan="sandbox")

    def credits(self) -> None:
        return None  # an in-memory world spends nothing

    @staticmethod
    def _waiting(chat: _Chat) -> datetime | None:
        if chat.unread and chat.messages:
            return chat.messages[-chat.unread].created_at
        return None

    def _message(
        self,
        chat: _Chat,
        msg: Message,
        from_creator: bool,
        state: MessageState = MessageState.SENT,
    ) -> MessageRow:
        """The store's row for a message of this world."""
        return MessageRow(
            pos=next(self._positions),
            account_id=chat.account_id,
            chat_id=chat.chat_id,
            message_id=msg.id,
            client_id=None,
            sender_id=msg.sender_id,
            from_creator=from_creator,
            text=msg.content,
            created_at=msg.created_at,
            reply_to_id=msg.in_reply_to,
            reply_to_text=None,
            attachments=list(msg.attachments),
            likes=list(msg.likes),
            liked_by_creator=False,
            pinned=msg.pinned,
            state=state,
            error=None,
            tip_millis=msg.tip_millis,
        )

    def _row(self, chat: _Chat) -> ChatRow:
        last = chat.messages[-1] if chat.messages else None
        waiting = self._waiting(chat)
        return ChatRow(
            account_id=chat.account_id,
            chat_id=chat.chat_id,
            fan_id=chat.fan.id,
            fan_name=chat.fan.name,
            fan_username=chat.fan.username,
            unread=chat.unread,
            preview=last.text if last else "",
            last_from_creator=last.from_creator if last else False,
            last_activity=last.created_at if last else None,
            waiting_since=waiting,
            pinned=chat.pinned,
            muted=chat.muted,
            vip=chat.vip,
            subscriber=bool(chat.fan.subscription and chat.fan.subscription.status == "active"),
        )

    def _ordered(self, account_id: str, filter: ChatFilter, search: str) -> list[_Chat]:
        chats = self._chats.get(account_id, [])
        needle = search.casefold()
        rows = [
            c
            for c in chats
            if (not needle or needle in c.fan.name.casefold())
            and (
                filter == "all"
                or (filter == "unread" and c.unread)
                or (filter == "unanswered" and self._waiting(c) is not None)
                or (filter == "vip" and c.vip)
                or (filter == "pinned" and c.pinned)
                or (filter == "muted" and c.muted)
                or (
                    filter == "subscribers"
                    and c.fan.subscription is not None
                    and c.fan.subscription.status == "active"
                )
            )
        ]
        epoch = datetime.min.replace(tzinfo=UTC)

        def key(c: _Chat) -> tuple[bool, datetime]:
            last = c.messages[-1].created_at if c.messages else epoch
            return (c.pinned, last)

        return sorted(rows, key=key, reverse=True)

    async def chats(
        self, account_id: str, filter: ChatFilter, search: str, offset: int, limit: int
    ) -> list[ChatRow]:
        ordered = self._ordered(account_id, filter, search)
        return [self._row(c) for c in ordered[offset : offset + limit]]

    async def count_chats(self, account_id: str, filter: ChatFilter, search: str) -> int:
        return len(self._ordered(account_id, filter, search))

    async def chat_window(
        self, account_id: str, filter: ChatFilter, search: str, offset: int, limit: int
    ) -> tuple[int, list[ChatRow]]:
        ordered = self._ordered(account_id, filter, search)
        return len(ordered), [self._row(c) for c in ordered[offset : offset + limit]]

    def preloaded_chats(self, account_id: str) -> tuple[int, list[ChatRow]] | None:
        return None  # the in-memory list answers at once anyway

    async def chat(self, account_id: str, chat_id: str) -> ChatRow | None:
        chat = self._by_id.get((account_id, chat_id))
        return self._row(chat) if chat else None

    async def queue(
        self, account_ids: Sequence[str], sort: str, offset: int, limit: int, now: datetime
    ) -> list[QueueRow]:
        due = sorted(
            (at, key) for key, at in self.reminders.items() if at <= now and key[0] in account_ids
        )
        rows = [QueueRow(self._row(self._by_id[key]), at) for at, key in due]
        waiting = [
            c
            for a in account_ids
            for c in self._chats.get(a, [])
            if self._waiting(c) is not None
            and not c.muted
            and (c.account_id, c.chat_id) not in self.reminders
        ]
        if sort == "newest":
            waiting.sort(key=lambda c: (c.messages[-1].created_at, c.chat_id))
            waiting.reverse()
        else:
            waiting.sort(key=lambda c: (self._waiting(c), c.chat_id))
        rows += [QueueRow(self._row(c)) for c in waiting]
        return rows[offset : offset + limit]

    async def queue_count(self, account_ids: Sequence[str], now: datetime) -> int:
        return len(await self.queue(account_ids, "waiting", 0, 1_000_000, now))

    async def queue_spend_known(self, account_ids: Sequence[str]) -> tuple[int, int]:
        waiting = [
            c
            for a in account_ids
            for c in self._chats.get(a, [])
            if self._waiting(c) is not None and not c.muted
        ]
        return sum(1 for c in waiting if c.fan.lifetime_spend_millis is not None), len(waiting)

    async def set_reminder(self, account_id: str, chat_id: str, due: datetime) -> None:
        self.reminders[(account_id, chat_id)] = due
        self.bus.publish(ChatChanged(account_id, chat_id))

    async def clear_reminder(self, account_id: str, chat_id: str) -> bool:
        return self.reminders.pop((account_id, chat_id), None) is not None

    async def reminder(self, account_id: str, chat_id: str) -> datetime | None:
        return self.reminders.get((account_id, chat_id))

    async def follow_up(self, account_id: str, chat_id: str, text: str, due: datetime) -> str:
        from console.tui.followup import FollowUpRow

        client_id = f"f{next(self._ids)}"
        self.follow_up_rows.append(FollowUpRow(account_id, chat_id, client_id, due, text))
        self.bus.publish(ChatChanged(account_id, chat_id))
        return client_id

    async def follow_ups(self, account_id: str, chat_id: str) -> list[FollowUpRow]:
        return [r for r in self.follow_up_rows if r.chat_id == chat_id]

    async def cancel_follow_up(self, account_id: str, client_id: str) -> bool:
        before = len(self.follow_up_rows)
        self.follow_up_rows = [r for r in self.follow_up_rows if r.client_id != client_id]
        return len(self.follow_up_rows) < before

    async def missed_follow_ups(self, account_ids: Sequence[str]) -> list[FollowUpRow]:
        return []  # the in-memory world has no outbox sender to miss one

    async def settle_missed_follow_up(self, account_id: str, client_id: str, send: bool) -> None:
        return None

    async def find_chats(self, name: str, limit: int) -> list[ChatRow]:
        needle = name.casefold()
        found = [
            self._row(c)
            for chats in self._chats.values()
            for c in chats
            if needle in c.fan.name.casefold()
        ]
        return found[:limit]

    async def latest_messages(self, account_id: str, chat_id: str, limit: int) -> MessagePage:
        chat = self._by_id[(account_id, chat_id)]
        rows = [self._quoted(chat, r) for r in chat.messages[-limit:]]
        return MessagePage(rows, at_start=len(rows) < limit)

    async def messages_before(
        self, account_id: str, chat_id: str, before_id: str, limit: int
    ) -> MessagePage:
        chat = self._by_id[(account_id, chat_id)]
        index = next((i for i, r in enumerate(chat.messages) if r.key == before_id), 0)
        rows = [self._quoted(chat, r) for r in chat.messages[max(0, index - limit) : index]]
        return MessagePage(rows, at_start=len(rows) < limit)

    async def message(self, account_id: str, chat_id: str, message_id: str) -> MessageRow | None:
        chat = self._by_id[(account_id, chat_id)]
        row = next((r for r in chat.messages if r.key == message_id), None)
        return self._quoted(chat, row) if row else None

    def _quoted(self, chat: _Chat, row: MessageRow) -> MessageRow:
        target = row.reply_to_id
        if not target:
            return row
        quoted = next((one_line(r.text) for r in chat.messages if r.key == target), None)
        return row._replace(reply_to_text=quoted)

    async def pinned_messages(self, account_id: str, chat_id: str) -> list[MessageRow]:
        chat = self._by_id[(account_id, chat_id)]
        return [r for r in chat.messages if r.pinned]

    async def fan_card(self, account_id: str, chat_id: str) -> FanCard | None:
        chat = self._by_id.get((account_id, chat_id))
        if chat is None:
            return None
        return FanCard(
            account_id,
            chat.fan,
            muted=chat.muted,
            note=self.notes.get(chat.fan.id, ""),
            spend_history=self.spend.get(chat.fan.id, []),
            purchases=list(self.purchases.get(chat.fan.id, [])),
        )

    def refresh_fan(self, account_id: str, fan_id: str) -> None:
        self.calls.append(("refresh_fan", (account_id, fan_id)))

    async def unread_counts(self) -> dict[str, int]:
        return {a: sum(c.unread for c in chats) for a, chats in self._chats.items()}

    async def next_unread_chat(self, after: tuple[str, str] | None) -> tuple[str, str] | None:
        order = [
            (a.account_id, c.chat_id)
            for a in self._accounts
            for c in self._ordered(a.account_id, ChatFilter.UNREAD, "")
        ]
        if not order:
            return None
        if after in order:
            return order[(order.index(after) + 1) % len(order)]
        return order[0]

    async def draft(self, account_id: str, chat_id: str) -> str:
        return self.drafts.get((account_id, chat_id), "")

    async def save_draft(self, account_id: str, chat_id: str, text: str) -> None:
        self.drafts[(account_id, chat_id)] = text

    # -- actions ---------------------------------------------------------------------------

    def _me(self, account_id: str) -> str:
        account = next(a for a in self._accounts if a.account_id == account_id)
        return account.fansly_account_id or account_id

    async def send(self, account_id: str, chat_id: str, text: str, reply_to: str | None) -> str:
        self.calls.append(("send", (account_id, chat_id, text, reply_to)))
        chat = self._by_id[(account_id, chat_id)]
        msg = Message(
            id=str(next(self._ids)),
            chat_id=chat_id,
            sender_id=self._me(account_id),
            content=text,
            created_at=self.now,
            in_reply_to=reply_to,
        )
        chat.messages.append(self._message(chat, msg, True, MessageState.PENDING))
        chat.unread = 0
        self.bus.publish(MessageAdded(account_id, chat_id, msg.id))
        self.bus.publish(ChatChanged(account_id, chat_id))
        self.bus.publish(OutboxChanged(account_id, 1, 0))
        return msg.id

    def settle(self, account_id: str, chat_id: str, message_id: str, error: str = "") -> None:
        """Turn a pending message sent (or failed with ``error``), as the outbox would."""
        chat = self._by_id[(account_id, chat_id)]
        for i, row in enumerate(chat.messages):
            if row.key == message_id:
                state = MessageState.FAILED if error else MessageState.SENT
                chat.messages[i] = row._replace(state=state, error=error or None)
        self.bus.publish(MessageChanged(account_id, chat_id, message_id))
        self.bus.publish(OutboxChanged(account_id, 0, 1 if error else 0))

    def receive(self, account_id: str, chat_id: str, text: str, at: datetime | None = None) -> str:
        """A fan writes (what a webhook would do), now or ``at`` (an event delivered late)."""
        chat = self._by_id[(account_id, chat_id)]
        msg = Message(
            id=str(next(self._ids)),
            chat_id=chat_id,
            sender_id=chat.fan.id,
            content=text,
            created_at=at or self.now,
        )
        chat.messages.append(self._message(chat, msg, False))
        chat.unread += 1
        self.bus.publish(MessageAdded(account_id, chat_id, msg.id))
        self.bus.publish(ChatChanged(account_id, chat_id))
        event = Event(
            type=EventType.MESSAGE_RECEIVED,
            provider=Provider.FANSLY_API,
            name="message.received",
            idempotency_key=f"mem_{msg.id}",
            account_id=account_id,
            occurred_at=at or self.now,
            chat_id=chat_id,
            fan_id=chat.fan.id,
            message=msg,
        )
        self.bus.publish(EventApplied(event))
        return msg.id

    def set_reply(self, account_id: str, chat_id: str, message_id: str, reply_to: str) -> None:
        chat = self._by_id[(account_id, chat_id)]
        for i, row in enumerate(chat.messages):
            if row.key == message_id:
                chat.messages[i] = row._replace(reply_to_id=reply_to)

    def _edit(self, account_id: str, chat_id: str, message_id: str, **changes: Any) -> None:
        chat = self._by_id[(account_id, chat_id)]
        for i, row in enumerate(chat.messages):
            if row.key == message_id:
                chat.messages[i] = row._replace(**changes)
        self.bus.publish(MessageChanged(account_id, chat_id, message_id))

    async def set_like(self, account_id: str, chat_id: str, message_id: str, liked: bool) -> None:
        self.calls.append(("like" if liked else "unlike", (account_id, message_id)))
        chat = self._by_id[(account_id, chat_id)]
        row = next(r for r in chat.messages if r.key == message_id)
        me = self._me(account_id)
        likes = [lk for lk in row.likes if lk.user_id != me]
        if liked:
            likes.append(Like(user_id=me))
        self._edit(account_id, chat_id, message_id, likes=likes, liked_by_creator=liked)

    async def set_pin(self, account_id: str, chat_id: str, message_id: str, pinned: bool) -> None:
        self.calls.append(("pin" if pinned else "unpin", (account_id, message_id)))
        self._edit(account_id, chat_id, message_id, pinned=pinned)

    async def set_mute(self, account_id: str, fan_id: str, muted: bool) -> None:
        self.calls.append(("mute" if muted else "unmute", (account_id, fan_id)))
        for chat in self._chats.get(account_id, []):
            if chat.fan.id == fan_id:
                chat.muted = muted
                self.bus.publish(ChatChanged(account_id, chat.chat_id))
        self.bus.publish(FanChanged(account_id, fan_id))

    async def act(
        self, account_id: str, chat_id: str, kind: str, payload: dict[str, object]
    ) -> None:
        """Records the action and publishes what its spec says changes (no effect is shown:
        the world here is not the store's cache)."""
        self.calls.append((kind, (account_id, chat_id, dict(payload))))
        action = spec(kind)
        if action.settles is Settles.MESSAGE and payload.get("message_id"):
            self.bus.publish(MessageChanged(account_id, chat_id, str(payload["message_id"])))
        self.bus.publish(ChatChanged(account_id, chat_id))

    async def typing(self, account_id: str, chat_id: str) -> None:
        self.calls.append(("typing", (account_id, chat_id)))

    async def retry(self, account_id: str, message_id: str) -> None:
        self.calls.append(("retry", (account_id, message_id)))
        for (acc, chat_id), chat in self._by_id.items():
            if acc == account_id and any(r.key == message_id for r in chat.messages):
                self._edit(acc, chat_id, message_id, state=MessageState.PENDING, error=None)

    async def mark_read(self, account_id: str, chat_id: str) -> None:
        chat = self._by_id[(account_id, chat_id)]
        if chat.unread:
            chat.unread = 0
            self.bus.publish(ChatChanged(account_id, chat_id))

    # -- issue 6 ---------------------------------------------------------------------------

    async def messages_around(
        self, account_id: str, chat_id: str, message_id: str, limit: int
    ) -> list[MessageRow]:
        chat = self._by_id[(account_id, chat_id)]
        index = next((i for i, r in enumerate(chat.messages) if r.key == message_id), None)
        if index is None:
            return []
        start = max(0, index - (limit - 1) // 2)
        return [self._quoted(chat, r) for r in chat.messages[start : start + limit]]

    async def messages_after(
        self, account_id: str, chat_id: str, after_id: str, limit: int
    ) -> list[MessageRow]:
        chat = self._by_id[(account_id, chat_id)]
        index = next((i for i, r in enumerate(chat.messages) if r.key == after_id), None)
        if index is None:
            return []
        return [self._quoted(chat, r) for r in chat.messages[index + 1 : index + 1 + limit]]

    async def search(self, query: str, limit: int) -> list[SearchResult]:
        words = query.casefold().split()
        if not words:
            return []
        found: list[SearchResult] = []
        for chat in self._by_id.values():
            for row in chat.messages:
                text = row.text
                folded = text.casefold()
                if all(w in folded for w in words):
                    start = folded.index(words[0])
                    found.append(
                        SearchResult(
                            chat.account_id,
                            chat.chat_id,
                            chat.fan.name,
                            row.key,
                            row.created_at,
                            row.from_creator,
                            text,
                            ((start, start + len(words[0])),),
                        )
                    )
        found.sort(key=lambda r: r.created_at, reverse=True)
        return found[:limit]

    async def queued_counts(self) -> dict[str, OutboxChanged]:
        return {a.account_id: OutboxChanged(a.account_id, 0, 0) for a in self._accounts}

    async def save_note(self, account_id: str, fan_id: str, text: str) -> None:
        self.calls.append(("note", (account_id, fan_id, text)))
        if text.strip():
            self.notes[fan_id] = text
        else:
            self.notes.pop(fan_id, None)

    def _live(self) -> None:
        if self.state != "live":
            raise GatewayUnreachable("offline: try again when the gateway is back")

    def _fan(self, account_id: str, fan_id: str) -> Fan:
        return next(c.fan for c in self._chats[account_id] if c.fan.id == fan_id)

    async def fan_lists(self, account_id: str, fan_id: str) -> list[ListChoice]:
        self._live()
        on = set(self._fan(account_id, fan_id).lists)
        return [ListChoice(i, label, label in on) for i, label in self.lists.items()]

    async def set_fan_list(self, account_id: str, fan_id: str, list_id: str, member: bool) -> None:
        self._live()
        self.calls.append(("list", (account_id, fan_id, list_id, member)))
        fan = self._fan(account_id, fan_id)
        label = self.lists[list_id]
        fan.lists = [x for x in fan.lists if x != label] + ([label] if member else [])
        self.bus.publish(FanChanged(account_id, fan_id))

    async def automations(self, account_id: str) -> list[AutomatedMessage]:
        return list(self.rules.get(account_id, []))

    async def refresh_automations(self, account_id: str) -> list[AutomatedMessage]:
        self._live()
        return list(self.rules.get(account_id, []))

    async def create_automation(self, account_id: str, rule: AutomatedMessage) -> AutomatedMessage:
        self._live()
        self.calls.append(("create_automation", (account_id, rule)))
        created = rule.model_copy(update={"id": str(next(self._ids)), "created_at": self.now})
        self.rules.setdefault(account_id, []).append(created)
        return created

    async def delete_automation(self, account_id: str, rule_id: str) -> None:
        self._live()
        self.calls.append(("delete_automation", (account_id, rule_id)))
        self.rules[account_id] = [r for r in self.rules.get(account_id, []) if r.id != rule_id]


def hostile_source(strings: Sequence[str], **options: Any) -> MemorySource:
    """A world whose first chats carry ``strings`` as fan names, usernames, notes and messages."""
    source = MemorySource(**options)
    account = source.accounts()[0].account_id
    chats = source._chats[account]
    for i, text in enumerate(strings):
        chat = chats[i % len(chats)]
        chat.fan.display_name = text
        chat.fan.username = text
        chat.fan.lists = [text]
        if chat.fan.subscription is not None:
            chat.fan.subscription.tier_name = text
        source.notes[chat.fan.id] = text
        source.receive(account, chat.chat_id, text)
    first = chats[0]
    for i, text in enumerate(strings):
        msg_id = source.receive(account, first.chat_id, text)
        if i % 2:
            source.set_reply(account, first.chat_id, msg_id, first.messages[-2].key)
    return source
