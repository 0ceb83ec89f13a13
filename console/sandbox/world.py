"""A deterministic Fansly world: creators, fans, chats, messages, money — built from a seed.

Everything is stored as Fansly-shaped dicts (§7 of the reference: ids are 18-digit snowflake
strings, message ``createdAt`` in unix seconds, account/subscription times in unix ms, money in
thousandths) so the routes can hand them out as they are. Generated history is spread over the
~60 days before :attr:`World.reference_time`, which depends on the seed only; whatever happens
later (sends, simulated fans) uses the real clock.

The generated ids never depend on ``reference_time``: they are minted at the seed's own time
(:attr:`World.seed_time`), so a sandbox restarted with the same seed a minute or a day later is
the same world, ids and all, only with its history moved to end at the new start (issue 11: a
console's cache and its queued replies point at those ids).

The world mutates for real: the routes and the simulator call the methods below.
"""

from __future__ import annotations

import random
import time
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any, Literal

from console.sandbox import hostile, text
from console.sandbox.vault import build_vault, photo_ids

Size = Literal["small", "default", "large", "agency"]

#: (accounts, chats per account, messages in all)
SIZES: dict[str, tuple[int, int, int]] = {
    "small": (1, 40, 1_500),
    "default": (3, 300, 20_000),
    "large": (5, 2_000, 200_000),
    # An agency's shift: 25 creator accounts (issue 16: the queue across accounts, the
    # scrolling tab bar, the account switcher).
    "agency": (25, 40, 6_000),
}

# Snowflakes: (ms since this epoch) << 20 | sequence. 18 digits from 2018 until ~2045, and
# ordered by time, which is what message cursors rely on.
_EPOCH_MS = 1_420_070_400_000
_REFERENCE_BASE = 1_795_197_600  # 2026-11-20T18:00:00Z
DAY = 86_400
#: A generated chat whose fan wrote last longer ago than this was answered (``_answered``):
#: the chats waiting for an answer are the recent ones, minutes to hours old (a day's shift).
#: All sizes but "small" (the tests' world, unchanged).
ANSWERED_AFTER = 24 * 3600

ACTIVE, EXPIRED = 3, 4
TX_SUBSCRIPTION, TX_MEDIA, TX_TIP = 1100, 2110, 3100
NET_SHARE = 0.8  # the creator keeps 80% (Fansly's published split)


@dataclass
class ChatState:
    """One messaging group: a creator and one fan."""

    id: str
    fan_id: str
    created_at_ms: int
    messages: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    message_ids: list[int] = field(default_factory=list)  # parallel, for cursor bisection
    unread_count: int = 0
    read_receipts: bool = True

    @property
    def last_message(self) -> dict[str, Any] | None:
        return self.messages[-1] if self.messages else None


@dataclass
class CreatorState:
    """A connected creator account and everything the gateway knows about it."""

    account_id: str  # the gateway's connected-account id, ``fansly_acc_…``
    label: str
    country: str
    account: dict[str, Any]  # the creator's Fansly account object
    tiers: dict[str, dict[str, Any]] = field(default_factory=dict)
    fans: dict[str, dict[str, Any]] = field(default_factory=dict)  # fan id → account object
    chats: dict[str, ChatState] = field(default_factory=dict)  # group id → chat
    chat_by_fan: dict[str, str] = field(default_factory=dict)
    message_chat: dict[str, str] = field(default_factory=dict)  # message id → group id
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)  # fan id → sub
    transactions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # fan id → txs
    tips: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # fan id → tips
    lists: dict[str, dict[str, Any]] = field(default_factory=dict)  # list id → {id,label,type}
    list_members: dict[str, set[str]] = field(default_factory=dict)
    muted: set[str] = field(default_factory=set)
    automated: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: (fan id, accountMediaId) → the PPV price offered to that fan, in thousandths: one
    #: vault item may be offered to many fans at different prices.
    offers: dict[tuple[str, str], int] = field(default_factory=dict)
    purchases: set[tuple[str, str]] = field(default_factory=set)  # (fan id, accountMediaId)
    vault_albums: dict[str, dict[str, Any]] = field(default_factory=dict)  # album id → album
    album_media: dict[str, list[str]] = field(default_factory=dict)  # album id → ids, newest 1st
    vault: dict[str, dict[str, Any]] = field(default_factory=dict)  # accountMediaId → item

    @property
    def native_id(self) -> str:
        return str(self.account["id"])

    @property
    def username(self) -> str:
        return str(self.account["username"])

    def list_id(self, label: str) -> str:
        return next(lid for lid, row in self.lists.items() if row["label"] == label)

    def chat_order(self) -> list[ChatState]:
        """Chats, newest activity first (the order of ``sort=newest``)."""
        return sorted(self.chats.values(), key=_last_id, reverse=True)


def _last_id(chat: ChatState) -> int:
    return chat.message_ids[-1] if chat.message_ids else 0


class World:
    """The sandbox's whole state. Build with :func:`build_world`."""

    def __init__(self, seed: int, size: str, reference_time: int | None = None) -> None:
        self.seed = seed
        self.size = size
        #: Unix seconds; generated history ends here. Depends on the seed, not the clock, unless
        #: given (the demo anchors it to now so "waiting 2d" reads as minutes, as in a shift).
        self.seed_time = _REFERENCE_BASE - (seed % 97) * 3600
        self.reference_time = reference_time if reference_time is not None else self.seed_time
        self.accounts: dict[str, CreatorState] = {}
        self._seq = 0
        #: Added to the time of each id minted while the history is generated (see the module).
        self._id_shift_ms = 0

    # ids -----------------------------------------------------------------------------------

    def new_id(self, at_ms: int | None = None) -> str:
        """A fresh snowflake for ``at_ms`` (default: now)."""
        if at_ms is None:
            at_ms = int(time.time() * 1000)
        self._seq += 1
        return str(((at_ms + self._id_shift_ms - _EPOCH_MS) << 20) | (self._seq & 0xFFFFF))

    # lookups -------------------------------------------------------------------------------

    def account(self, account_id: str) -> CreatorState | None:
        return self.accounts.get(account_id)

    def first_account(self) -> CreatorState:
        return next(iter(self.accounts.values()))

    def find_profile(self, native_id: str) -> dict[str, Any] | None:
        """A Fansly account object (creator or fan) by native id."""
        for creator in self.accounts.values():
            if creator.native_id == native_id:
                return creator.account
            fan = creator.fans.get(native_id)
            if fan is not None:
                return fan
        return None

    def message(self, creator: CreatorState, message_id: str) -> dict[str, Any] | None:
        chat_id = creator.message_chat.get(message_id)
        if chat_id is None:
            return None
        chat = creator.chats[chat_id]
        index = bisect_left(chat.message_ids, int(message_id))
        if index < len(chat.messages) and chat.messages[index]["id"] == message_id:
            return chat.messages[index]
        return None

    def remove_message(self, creator: CreatorState, message_id: str) -> None:
        """Delete a message (the creator unsent it): gone from its chat's pages."""
        chat_id = creator.message_chat.pop(message_id, None)
        if chat_id is None:
            return
        chat = creator.chats[chat_id]
        index = bisect_left(chat.message_ids, int(message_id))
        if index < len(chat.messages) and chat.messages[index]["id"] == message_id:
            del chat.messages[index]
            del chat.message_ids[index]

    @property
    def message_count(self) -> int:
        return sum(len(c.messages) for a in self.accounts.values() for c in a.chats.values())

    @property
    def chat_count(self) -> int:
        return sum(len(a.chats) for a in self.accounts.values())

    def hostile_chat(self, index: int = 2) -> ChatState:
        """The chat at ``index`` (newest-first) of the first account; see :mod:`hostile`."""
        return self.first_account().chat_order()[index]

    # mutations -----------------------------------------------------------------------------

    def add_message(
        self,
        creator: CreatorState,
        chat: ChatState,
        *,
        sender_id: str,
        content: str,
        created_at: float | None = None,
        attachments: list[dict[str, Any]] | None = None,
        in_reply_to: str | None = None,
        tip_millis: int = 0,
    ) -> dict[str, Any]:
        """Append a message to a chat (live: ``created_at`` defaults to now, fractional)."""
        now = time.time() if created_at is None else created_at
        last = chat.message_ids[-1] if chat.message_ids else 0
        message_id = self.new_id(int(now * 1000))
        if int(message_id) <= last:  # the clock went back: keep ids ordered anyway
            self._seq += 1
            message_id = str(last + 1)
        from_fan = sender_id == chat.fan_id
        recipient = creator.native_id if from_fan else chat.fan_id
        root = None
        if in_reply_to is not None:
            parent = self.message(creator, in_reply_to)
            root = (parent or {}).get("inReplyToRoot") or in_reply_to
        message: dict[str, Any] = {
            "id": message_id,
            "type": 1,
            "dataVersion": 1,
            "content": content,
            "groupId": chat.id,
            "senderId": sender_id,
            "correlationId": "0",
            "inReplyTo": in_reply_to,
            "inReplyToRoot": root,
            "createdAt": now,
            "attachments": [
                {**a, "messageId": message_id, "pos": i} for i, a in enumerate(attachments or [])
            ],
            "embeds": [],
            "interactions": [{"userId": recipient, "readAt": 0, "deliveredAt": int(now)}],
            "likes": [],
            "totalTipAmount": tip_millis,
            "pinned": False,
        }
        chat.messages.append(message)
        chat.message_ids.append(int(message_id))
        creator.message_chat[message_id] = chat.id
        if from_fan:
            chat.unread_count += 1
        else:
            # Answering a chat means the creator has read it.
            self.mark_read(creator, chat, at=int(now))
        return message

    def add_fan(self, creator: CreatorState, username: str, display_name: str) -> ChatState:
        """A brand-new fan and their (still empty) chat, created now."""
        now_ms = int(time.time() * 1000)
        fan_id = self.new_id(now_ms)
        creator.fans[fan_id] = _profile(
            fan_id, username, display_name, now_ms, now_ms, creator=False
        )
        chat = ChatState(id=self.new_id(now_ms), fan_id=fan_id, created_at_ms=now_ms)
        creator.chats[chat.id] = chat
        creator.chat_by_fan[fan_id] = chat.id
        return chat

    def mark_read(self, creator: CreatorState, chat: ChatState, *, at: int | None = None) -> None:
        at = int(time.time()) if at is None else at
        for message in reversed(chat.messages):
            if message["senderId"] != chat.fan_id:
                continue
            interaction = message["interactions"][0]
            if interaction["readAt"]:
                break
            interaction["readAt"] = at
        chat.unread_count = 0

    def set_like(self, message: dict[str, Any], user_id: str, like_type: int, *, on: bool) -> None:
        likes = [like for like in message["likes"] if like["userId"] != user_id]
        if on:
            likes.append({"userId": user_id, "type": like_type})
        message["likes"] = likes

    def add_transaction(
        self, creator: CreatorState, fan_id: str, kind: int, gross: int, at_ms: int
    ) -> dict[str, Any]:
        tx = {
            "id": self.new_id(at_ms),
            "type": kind,
            "totalGross": gross,
            "totalNet": int(gross * NET_SHARE),
            "createdAt": at_ms,
        }
        creator.transactions.setdefault(fan_id, []).append(tx)
        return tx

    def add_tip(
        self, creator: CreatorState, fan_id: str, amount: int, message: str, at_ms: int
    ) -> dict[str, Any]:
        tip = {"id": self.new_id(at_ms), "amount": amount, "message": message, "createdAt": at_ms}
        creator.tips.setdefault(fan_id, []).append(tip)
        self.add_transaction(creator, fan_id, TX_TIP, amount, at_ms)
        return tip


def build_world(
    seed: int = 7, size: str = "default", *, reference_time: int | None = None
) -> World:
    """Generate the world for ``(seed, size)``; the same pair always gives the same world.

    ``reference_time`` (unix seconds) shifts the whole history to end then; content is unchanged.
    """
    if size not in SIZES:
        raise ValueError(f"unknown world size {size!r} ({', '.join(SIZES)})")
    world = World(seed, size, reference_time)
    n_accounts, n_chats, n_messages = SIZES[size]
    # Ids as if the history ended at the seed's own time; live ids (sends, simulated fans) are
    # minted now, which is later, so they still sort after every generated one.
    world._id_shift_ms = (world.seed_time - world.reference_time) * 1000
    try:
        for index in range(n_accounts):
            rng = random.Random(f"{seed}:{size}:{index}")
            _Builder(world, rng, index, n_chats, n_messages // n_accounts).build()
    finally:
        world._id_shift_ms = 0
    return world


class _Builder:
    """Generates one creator account; split out to keep the steps readable."""

    def __init__(
        self, world: World, rng: random.Random, index: int, n_chats: int, n_messages: int
    ) -> None:
        self.world = world
        self.rng = rng
        self.index = index
        self.n_chats = n_chats
        self.n_messages = n_messages
        self.ref = world.reference_time
        self.ref_ms = self.ref * 1000
        self.id = world.new_id
        #: Draws the replies to older chats (``_answered``) apart from the world's own rng.
        self.answer_rng = random.Random(f"{world.seed}:answered:{index}")

    def build(self) -> None:
        rng = self.rng
        label, username, display, country = text.creator(self.index)
        created_ms = self.ref_ms - rng.randint(400, 1200) * DAY * 1000
        native = self.id(created_ms)
        creator = CreatorState(
            account_id=f"fansly_acc_{rng.getrandbits(64):016x}",
            label=label,
            country=country,
            account=_profile(native, username, display, created_ms, self.ref_ms, creator=True),
        )
        self.creator = creator
        large = self.world.size == "large" and self.index == 0
        build_vault(
            creator, f"{self.world.seed}:{self.world.size}:{self.index}", large, self.ref_ms
        )
        self.photos = photo_ids(creator)
        for name, colour, price in text.TIERS:
            tier_id = self.id(created_ms + 1000)
            creator.tiers[tier_id] = {"id": tier_id, "name": name, "color": colour, "price": price}
        for number, list_label in enumerate(text.LISTS):
            list_id = self.id(created_ms + 2000)
            creator.lists[list_id] = {"id": list_id, "label": list_label, "type": number}
            creator.list_members[list_id] = set()
        self._chats()
        if self.world.size == "agency":
            self._whales()
        self._automated()
        creator.account["subscriberCount"] = sum(
            1 for s in creator.subscriptions.values() if s["status"] == ACTIVE
        )
        creator.account["followCount"] = len(creator.fans)
        self.world.accounts[creator.account_id] = creator

    def _whales(self) -> None:
        """An agency's accounts have a few big spenders (issue 16: the queue's $$$ badge):
        about one fan in twenty tipped $300 to $2,500 over the last weeks. Drawn from an rng
        of their own, so the rest of the world is the same as without them."""
        rng = random.Random(f"{self.world.seed}:whales:{self.index}")
        creator = self.creator
        for fan_id in sorted(creator.fans):
            if rng.random() < 0.05:
                at_ms = self.ref_ms - rng.randint(1, 40) * DAY * 1000
                amount = rng.randint(300, 2500) * 1000
                self.world.add_tip(creator, fan_id, amount, rng.choice(text.TIP_MESSAGES), at_ms)

    def _chats(self) -> None:
        rng = self.rng
        n = self.n_chats
        window = 60 * DAY
        # Newest chat first: chat i's last activity is older than chat i-1's. Squared draws
        # crowd activity near the reference time, as in a real inbox.
        ages = sorted(int(rng.random() ** 2 * window) + 30 * i for i in range(n))
        weights = [min(rng.paretovariate(1.2), 25.0) for _ in range(n)]
        scale = self.n_messages / sum(weights)
        for i in range(n):
            count = max(2, round(weights[i] * scale))
            self._chat(i, self.ref - ages[i], count, self.ref - ages[i - 1] if i else self.ref)

    def _chat(self, i: int, last_at: int, count: int, newer_at: int) -> None:
        """Chat ``i`` (0 is the newest), its last message at ``last_at``; the next newer
        chat's is at ``newer_at``."""
        rng, creator = self.rng, self.creator
        span = min(int(rng.uniform(0.2, 1.0) * 55 * DAY), max(count * 600, 3600))
        start = last_at - span
        fan_created_ms = (start - rng.randint(1, 300) * DAY) * 1000
        fan_id = self.id(fan_created_ms)
        name, uname = self._fan_name(i)
        fan = _profile(fan_id, uname, name, fan_created_ms, last_at * 1000, creator=False)
        creator.fans[fan_id] = fan
        chat = ChatState(id=self.id(start * 1000 - 1000), fan_id=fan_id, created_at_ms=start * 1000)
        creator.chats[chat.id] = chat
        creator.chat_by_fan[fan_id] = chat.id
        self._subscription(fan_id, fan_created_ms, start)
        self._membership(fan_id, i)

        hostile_msgs = self._hostile_messages(i)
        count = max(count, len(hostile_msgs) + 2)
        # Distinct seconds, so ids (ms + random sub-second) keep the chat's order.
        times = sorted(rng.sample(range(start, last_at), count - 1))
        times.append(last_at)
        unread_tail = rng.randint(1, 3) if rng.random() < 0.35 else 0
        from_fan = True
        turn_left = rng.randint(1, 3)
        pins = 0
        for position, at in enumerate(times):
            remaining = count - position
            if remaining <= unread_tail:
                from_fan = True
            elif turn_left == 0:
                from_fan = not from_fan
                turn_left = rng.randint(1, 3) if from_fan else rng.randint(1, 2)
            turn_left = max(0, turn_left - 1)
            if position >= count - len(hostile_msgs):
                content = hostile_msgs[position - (count - len(hostile_msgs))]
                from_fan = True
                message = self._message(chat, fan_id, content, at, from_fan=True)
            else:
                message = self._generated(chat, fan_id, at, from_fan, position)
            if from_fan and remaining > unread_tail:
                message["interactions"][0]["readAt"] = at + rng.randint(5, 3600)
            elif not from_fan and (remaining > 2 or rng.random() < 0.6):
                message["interactions"][0]["readAt"] = at + rng.randint(30, 7200)
            if pins < 2 and rng.random() < 0.02:
                message["pinned"] = True
                pins += 1
        # The world's hostile chat (``World.hostile_chat``) keeps a hostile last message. The
        # small world (the tests' own, 40 chats) keeps its months of unanswered chats: tests
        # rely on its many unread ones.
        if self.world.size == "small":
            pass
        elif self.ref - last_at > ANSWERED_AFTER and not (self.index == 0 and i == 2):
            self._answered(chat, fan_id, newer_at)
        else:
            _unread_since_answer(chat, fan_id)
        chat.unread_count = sum(
            1
            for m in chat.messages
            if m["senderId"] == fan_id and not m["interactions"][0]["readAt"]
        )

    def _answered(self, chat: ChatState, fan_id: str, newer_at: int) -> None:
        """An older chat the fan had the last word in was answered then: the creator read the
        fan's messages and replied within minutes to hours. So only recent chats wait, as in a
        live inbox worked by a shift (the queue's top reads "40m", not "8w"). The reply's time
        and words come from an rng of their own, so the rest of the world is drawn as before
        (its ids move by one per reply: still the same world for a given seed). The reply comes
        before the next newer chat's last message (``newer_at``), so the chats keep their order
        by last activity (the hostile rows sit at fixed places in it)."""
        last = chat.messages[-1]
        rng = self.answer_rng
        at = min(last["createdAt"] + rng.randint(120, 4 * 3600), newer_at - 1)
        if last["senderId"] != fan_id or at <= last["createdAt"]:
            return
        for message in chat.messages:
            if message["senderId"] == fan_id and not message["interactions"][0]["readAt"]:
                message["interactions"][0]["readAt"] = at
        self._message(chat, fan_id, rng.choice(text.CREATOR_LINES), at, from_fan=False, rng=rng)

    def _message(
        self,
        chat: ChatState,
        fan_id: str,
        content: str,
        at: int,
        *,
        from_fan: bool,
        attachments: list[dict[str, Any]] | None = None,
        in_reply_to: str | None = None,
        tip: int = 0,
        rng: random.Random | None = None,
    ) -> dict[str, Any]:
        creator = self.creator
        at_ms = at * 1000 + (rng or self.rng).randint(0, 999)
        message_id = self.id(at_ms)
        sender = fan_id if from_fan else creator.native_id
        recipient = creator.native_id if from_fan else fan_id
        root = None
        if in_reply_to is not None:
            index = bisect_left(chat.message_ids, int(in_reply_to))
            root = chat.messages[index]["inReplyToRoot"] or in_reply_to
        message = {
            "id": message_id,
            "type": 1,
            "dataVersion": 1,
            "content": content,
            "groupId": chat.id,
            "senderId": sender,
            "correlationId": "0",
            "inReplyTo": in_reply_to,
            "inReplyToRoot": root,
            "createdAt": at,
            "attachments": (
                [{**a, "messageId": message_id, "pos": n} for n, a in enumerate(attachments)]
                if attachments
                else []
            ),
            "embeds": [],
            "interactions": [{"userId": recipient, "readAt": 0, "deliveredAt": at}],
            "likes": [],
            "totalTipAmount": tip,
            "pinned": False,
        }
        chat.messages.append(message)
        chat.message_ids.append(int(message_id))
        creator.message_chat[message_id] = chat.id
        return message

    def _generated(
        self, chat: ChatState, fan_id: str, at: int, from_fan: bool, position: int
    ) -> dict[str, Any]:
        rng, creator = self.rng, self.creator
        reply_to = None
        if position > 2 and rng.random() < 0.08:
            reply_to = chat.messages[-rng.randint(1, min(6, len(chat.messages)))]["id"]
        if from_fan:
            roll = rng.random()
            if position == 0:
                content = rng.choice(text.FAN_OPENERS)
            elif roll < 0.04:
                content = rng.choice(text.FAN_LONG_LINES)
            else:
                content = rng.choice(text.FAN_LINES)
            tip = 0
            if rng.random() < 0.05:
                tip = rng.choice((2000, 5000, 5000, 10000, 20000, 50000))
                content = rng.choice(text.TIP_MESSAGES) or content
                self.world.add_tip(creator, fan_id, tip, content, at * 1000)
            message = self._message(
                chat, fan_id, content, at, from_fan=True, in_reply_to=reply_to, tip=tip
            )
            if rng.random() < 0.15:
                message["likes"].append({"userId": creator.native_id, "type": 1})
            return message
        attachments = None
        if rng.random() < 0.06:
            # The id is still minted (every later id of the world depends on the sequence),
            # but the PPV is one of the vault's photos, so its label and marks resolve.
            minted = self.id(at * 1000)
            media_id = self.photos[int(minted) % len(self.photos)]
            price = rng.choice((5000, 9990, 14990, 25000))
            creator.offers[(fan_id, media_id)] = price
            attachments = [{"contentType": 1, "contentId": media_id}]
            content = rng.choice(text.PPV_CAPTIONS)
            if rng.random() < 0.4:
                creator.purchases.add((fan_id, media_id))
                when = (at + rng.randint(60, 7200)) * 1000
                self.world.add_transaction(creator, fan_id, TX_MEDIA, price, when)
        else:
            content = rng.choice(text.CREATOR_LINES)
        message = self._message(
            chat, fan_id, content, at, from_fan=False, attachments=attachments, in_reply_to=reply_to
        )
        if rng.random() < 0.2:
            message["likes"].append({"userId": fan_id, "type": rng.randint(1, 7)})
        return message

    def _fan_name(self, i: int) -> tuple[str, str]:
        rng = self.rng
        first = rng.choice(text.FIRST_NAMES)
        name = first + rng.choice(text.NAME_SUFFIXES)
        username = first.lower() + rng.choice(text.USERNAME_TAILS) + str(rng.randint(1, 999))
        username = username.encode("ascii", "ignore").decode() or f"fan{i}"
        if self.index == 0:
            if i in hostile.HOSTILE_NAME_CHATS:
                name = hostile.HOSTILE_STRINGS[hostile.HOSTILE_NAME_CHATS.index(i)]
            if i in hostile.HOSTILE_USERNAME_CHATS:
                username = hostile.HOSTILE_USERNAME_CHATS[i]
        elif i == 2:
            name = hostile.HOSTILE_STRINGS[(self.index * 3) % len(hostile.HOSTILE_STRINGS)]
        return name, username

    def _hostile_messages(self, i: int) -> tuple[str, ...]:
        if self.index == 0 and i in hostile.HOSTILE_MESSAGE_CHATS:
            return hostile.HOSTILE_STRINGS
        if i == 2:
            return (hostile.HOSTILE_STRINGS[(self.index * 7) % len(hostile.HOSTILE_STRINGS)],)
        return ()

    def _subscription(self, fan_id: str, fan_created_ms: int, chat_start: int) -> None:
        rng, creator, world = self.rng, self.creator, self.world
        if rng.random() < 0.25:
            return  # a follower only
        tier = rng.choices(list(creator.tiers.values()), weights=(6, 3, 1))[0]
        created_ms = max(fan_created_ms, chat_start * 1000 - rng.randint(0, 30) * DAY * 1000)
        active = rng.random() < 0.75
        period_ms = 30 * DAY * 1000
        if active:
            renew_ms = self.ref_ms + rng.randint(1, 30) * DAY * 1000
            ends_ms = renew_ms
        else:
            ends_ms = self.ref_ms - rng.randint(1, 40) * DAY * 1000
            ends_ms = max(ends_ms, created_ms + period_ms)
            renew_ms = ends_ms
        sub = {
            "id": self.id(created_ms),
            "historyId": self.id(created_ms),
            "subscriberId": fan_id,
            "subscriptionTierId": tier["id"],
            "subscriptionTierName": tier["name"],
            "subscriptionTierColor": tier["color"],
            "planId": self.id(created_ms),
            "promoId": "0",
            "giftCodeId": None,
            "status": ACTIVE if active else EXPIRED,
            "price": tier["price"],
            "renewPrice": tier["price"],
            "autoRenew": 1 if active else 0,
            "billingCycle": 30,
            "duration": 30,
            "renewDate": renew_ms,
            "createdAt": created_ms,
            "updatedAt": created_ms,
            "endsAt": ends_ms,
            "promoPrice": None,
            "promoStatus": None,
        }
        creator.subscriptions[fan_id] = sub
        paid_at = created_ms
        while paid_at < min(ends_ms, self.ref_ms):
            world.add_transaction(creator, fan_id, TX_SUBSCRIPTION, tier["price"], paid_at)
            sub["updatedAt"] = paid_at
            paid_at += period_ms

    def _membership(self, fan_id: str, i: int) -> None:
        rng, creator = self.rng, self.creator
        for label, chance in (("VIP", 0.1), ("Big spenders", 0.08), ("Needs follow-up", 0.12)):
            if rng.random() < chance or (i == 0 and label == "VIP"):
                creator.list_members[creator.list_id(label)].add(fan_id)
        if rng.random() < 0.3:
            creator.list_members[creator.list_id("Regulars")].add(fan_id)

    def _automated(self) -> None:
        creator = self.creator
        for number, (trigger, content, extra) in enumerate(text.AUTOMATED):
            if self.index % 2 == 1 and number == 2:
                continue
            created_ms = self.ref_ms - (20 - number) * DAY * 1000
            rule_id = self.world.new_id(created_ms)
            creator.automated[rule_id] = automated_rule(
                rule_id, {"triggerType": trigger, "content": content, **extra}, created_ms
            )


def _unread_since_answer(chat: ChatState, fan_id: str) -> None:
    """A recent chat waiting for an answer: the fan's messages since the creator's last one
    are unread (nobody on the shift has opened it yet). So the chat's unread count says how
    many wait, and a console's lean sync fetches the history of a chat with several (its
    wait is then known from the first of them, not the last)."""
    for message in reversed(chat.messages):
        if message["senderId"] != fan_id:
            break
        message["interactions"][0]["readAt"] = 0


def automated_rule(rule_id: str, body: dict[str, Any], created_ms: int) -> dict[str, Any]:
    """The stored/returned rule for a validated create body (contract row 21)."""
    import json

    keywords = body.get("keywords")
    if isinstance(keywords, str):
        keywords = [word.strip() for word in keywords.split(",") if word.strip()]
    rule = {
        "id": rule_id,
        "triggerType": body["triggerType"],
        "content": body["content"],
        "delay": int(body.get("delay") or 0),
        "cooldown": int(body.get("cooldown") or 0),
        "subscriptionStreak": body.get("subscriptionStreak"),
        "tipAmount": body.get("tipAmount"),
        "keywords": keywords or [],
        "subscriptionTierId": body.get("subscriptionTierId"),
        "createdAt": created_ms,
    }
    template = {"content": rule["content"], "mediaIds": body.get("mediaIds") or []}
    rule["messageTemplate"] = json.dumps(template, ensure_ascii=False)
    return rule


def _profile(
    native_id: str, username: str, display: str, created_ms: int, seen_ms: int, *, creator: bool
) -> dict[str, Any]:
    """A Fansly account object (§8.2)."""
    return {
        "id": native_id,
        "username": username,
        "displayName": display,
        "flags": 0,
        "version": 1,
        "followCount": 0,
        "subscriberCount": 0,
        "about": "Creator on Fansly ✨" if creator else "",
        "location": "",
        "avatar": {
            "id": native_id,
            "type": 1,
            "mimetype": "image/jpeg",
            "locations": [
                {"locationId": "1", "location": f"https://cdn3.fansly.com/sandbox/{native_id}.jpg"}
            ],
        },
        "statusId": 1,
        "lastSeenAt": seen_ms,
        "createdAt": created_ms,
        "walls": [],
        "timelineStats": {"imageCount": 0, "videoCount": 0} if creator else {},
    }
