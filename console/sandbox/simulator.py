"""Fans who write, tip, buy, subscribe and react — delivered as signed webhooks (§16.0).

Each event mutates the world first, then is queued as one delivery: fixed body bytes, an
``X-Fansly-Signature`` over exactly those bytes and an idempotency key (body and header).
Several workers POST deliveries with httpx; a non-2xx answer or a connection error is retried
with exponential backoff and jitter, with the same key and the same bytes, up to
``max_attempts`` times, while other events keep flowing. Duplicate and out-of-order delivery
are knobs (``duplicate_rate``, ``out_of_order_rate``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import random
import time
import uuid
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from console.sandbox import text
from console.sandbox.automation import Automations
from console.sandbox.world import (
    ACTIVE,
    DAY,
    EXPIRED,
    TX_MEDIA,
    TX_SUBSCRIPTION,
    ChatState,
    CreatorState,
    World,
)

EVENT_KINDS: dict[str, int] = {
    # event name → weight in the simulated mix
    "message.received": 60,
    "chat.reaction": 10,
    "tip.received": 10,
    "sale.completed": 6,
    "subscription.new": 5,
    "subscription.renewed": 5,
    "subscription.expired": 4,
}
SIGNATURE_HEADER = "X-Fansly-Signature"
IDEMPOTENCY_HEADER = "X-Fansly-Idempotency-Key"

T = TypeVar("T")


def signature(secret: str, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of the raw body."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def make_event(
    event: str,
    account_id: str,
    data: dict[str, Any],
    *,
    key: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """A §16.0 webhook body."""
    if timestamp is None:
        timestamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "event": event,
        "idempotencyKey": key or f"evt_{uuid.uuid4().hex}",
        "accountId": account_id,
        "timestamp": timestamp,
        "data": data,
    }


def sign_delivery(event: dict[str, Any], secret: str) -> tuple[bytes, dict[str, str]]:
    """The exact bytes and headers the sandbox POSTs for ``event`` (tests and benches reuse it)."""
    body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "fansly-console-sandbox/webhooks",
        SIGNATURE_HEADER: signature(secret, body),
        IDEMPOTENCY_HEADER: str(event["idempotencyKey"]),
    }
    return body, headers


@dataclass
class Delivery:
    key: str
    body: bytes
    headers: dict[str, str]
    attempts: int = 0
    duplicate: bool = False


class Simulator:
    """The fans' side of the world, and the webhook sender."""

    def __init__(
        self,
        world: World,
        *,
        webhook_secret: str,
        webhook_url: str | None = None,
        rate_per_minute: float = 0.0,
        workers: int = 8,
        max_attempts: int = 10,
        backoff_base: float = 0.1,
        backoff_cap: float = 5.0,
        timeout: float = 10.0,
        seed: int | None = None,
        keep_events: int = 10_000,
    ) -> None:
        self.world = world
        self.webhook_url = webhook_url
        self.rate_per_minute = rate_per_minute
        self.workers = workers
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.timeout = timeout
        self.duplicate_rate = 0.0
        self.out_of_order_rate = 0.0
        #: Share of simulated messages written by a brand-new fan (a new chat appears).
        self.new_fan_rate = 0.02
        #: Share of PPVs sent while fans are live that the fan buys, and after how long (s).
        self.ppv_buy_rate = 0.8
        self.ppv_buy_after = (8.0, 25.0)
        self.rng = random.Random(seed if seed is not None else world.seed * 7919 + 1)
        self._secret = webhook_secret
        #: The latest events emitted (bodies as dicts), newest last.
        self.events: deque[dict[str, Any]] = deque(maxlen=keep_events)
        self.emitted = 0
        self.delivered = 0
        self.retried = 0
        self.failed = 0
        self.duplicates = 0
        self._outstanding = 0
        self._queue: asyncio.Queue[Delivery] | None = None
        self._idle: asyncio.Event | None = None
        self._progress: asyncio.Condition | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._timers: set[asyncio.TimerHandle] = set()
        self._client: httpx.AsyncClient | None = None
        self._chat_ids: dict[str, list[str]] = {}
        #: The creators' automated-message rules, fired by the events simulated here.
        self.automations = Automations()
        self.automated_sent = 0

    def __repr__(self) -> str:  # the secret stays out of reprs
        return f"Simulator(url={self.webhook_url!r}, pending={self.pending})"

    # lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._idle = asyncio.Event()
        self._idle.set()
        self._progress = asyncio.Condition()
        self._tasks = [asyncio.create_task(self._worker()) for _ in range(self.workers)]
        self._tasks.append(asyncio.create_task(self._generate()))

    async def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # counters -----------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Deliveries queued, in flight or waiting to be retried."""
        return self._outstanding

    def counters(self) -> dict[str, int]:
        return {
            "emitted": self.emitted,
            "delivered": self.delivered,
            "retried": self.retried,
            "pending": self.pending,
            "failed": self.failed,
            "duplicates": self.duplicates,
        }

    async def drain(self) -> None:
        """Wait until every delivery succeeded or was given up (wrap in ``asyncio.timeout``)."""
        if self._loop is None or self._idle is None:
            return
        if asyncio.get_running_loop() is not self._loop:
            # The sandbox serves from another thread's loop: wait there.
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self.drain(), self._loop))
            return
        await self._idle.wait()

    async def wait_for(self, predicate: Callable[[Simulator], bool]) -> None:
        """Wait until ``predicate(self)`` holds; checked after every delivery attempt."""
        if self._loop is not None and asyncio.get_running_loop() is not self._loop:
            future = asyncio.run_coroutine_threadsafe(self.wait_for(predicate), self._loop)
            await asyncio.wrap_future(future)
            return
        if self._progress is None:
            if not predicate(self):
                raise RuntimeError("the simulator is not started")
            return
        async with self._progress:
            await self._progress.wait_for(lambda: predicate(self))

    def wait_delivered(self, timeout: float | None = None) -> bool:
        """``drain`` for a thread with no running loop; False on timeout."""
        if self._loop is None:
            return True
        future = asyncio.run_coroutine_threadsafe(self.drain(), self._loop)
        try:
            future.result(timeout)
        except TimeoutError:
            future.cancel()
            return False
        return True

    # emitting -----------------------------------------------------------------------------

    def emit(self, event: str, creator: CreatorState, data: dict[str, Any]) -> dict[str, Any]:
        """Queue one event for delivery (call from the sandbox's loop)."""
        body = make_event(event, creator.account_id, data)
        self.events.append(body)
        self.emitted += 1
        if self.webhook_url is None or self._queue is None:
            return body
        raw, headers = sign_delivery(body, self._secret)
        delivery = Delivery(str(body["idempotencyKey"]), raw, headers)
        self._add_outstanding(1)
        if self.out_of_order_rate and self.rng.random() < self.out_of_order_rate:
            # Held back a little, so events emitted after it overtake it.
            self._later(self.rng.uniform(0.05, 0.3), delivery)
        else:
            self._queue.put_nowait(delivery)
        return body

    def simulate(self, count: int = 1, kinds: list[str] | None = None) -> list[dict[str, Any]]:
        """Make ``count`` things happen now and emit them; safe to call from any thread."""
        for kind in kinds or []:
            if kind not in EVENT_KINDS:
                raise ValueError(f"unknown event kind {kind!r}")
        loop = self._loop
        if loop is not None and loop.is_running() and not _in_loop(loop):
            return _call_in(loop, self._simulate_now(count, kinds))
        return [self._one(kinds) for _ in range(count)]

    async def _simulate_now(self, count: int, kinds: list[str] | None) -> list[dict[str, Any]]:
        return [self._one(kinds) for _ in range(count)]

    # delivery -----------------------------------------------------------------------------

    def _add_outstanding(self, n: int) -> None:
        self._outstanding += n
        if self._idle is not None:
            if self._outstanding > 0:
                self._idle.clear()
            else:
                self._idle.set()

    def _later(self, delay: float, delivery: Delivery) -> None:
        assert self._queue is not None
        self._call_later(delay, self._queue.put_nowait, delivery)

    def _call_later(self, delay: float, callback: Callable[..., object], *args: Any) -> None:
        """``callback(*args)`` after ``delay`` seconds, cancelled if the simulator stops."""
        assert self._loop is not None

        def fire() -> None:
            self._timers.discard(handle)
            callback(*args)

        handle = self._loop.call_later(delay, fire)
        self._timers.add(handle)

    async def _worker(self) -> None:
        assert self._queue is not None
        while True:
            delivery = await self._queue.get()
            try:
                await self._deliver(delivery)
            except Exception:  # a bug here must not stop the other deliveries
                self.failed += 1
                self._add_outstanding(-1)
            if self._progress is not None:
                async with self._progress:
                    self._progress.notify_all()

    def _http(self) -> httpx.AsyncClient:
        # Made on first use: building one costs ~0.1 s (TLS context), most sandboxes never send.
        if self._client is None:
            limits = httpx.Limits(max_connections=self.workers * 2, max_keepalive_connections=64)
            self._client = httpx.AsyncClient(timeout=self.timeout, limits=limits)
        return self._client

    async def _deliver(self, delivery: Delivery) -> None:
        url = self.webhook_url
        delivery.attempts += 1
        ok = False
        if url is not None:
            try:
                response = await self._http().post(
                    url, content=delivery.body, headers=delivery.headers
                )
                ok = 200 <= response.status_code < 300
            except httpx.HTTPError:
                ok = False
        if ok:
            self.delivered += 1
            if (
                not delivery.duplicate
                and self.duplicate_rate
                and self.rng.random() < self.duplicate_rate
            ):
                self.duplicates += 1
                self._add_outstanding(1)
                copy = Delivery(delivery.key, delivery.body, dict(delivery.headers), duplicate=True)
                self._later(self.rng.uniform(0.0, 0.1), copy)
            self._add_outstanding(-1)
            return
        if delivery.attempts >= self.max_attempts:
            self.failed += 1
            self._add_outstanding(-1)
            return
        self.retried += 1
        backoff = min(self.backoff_cap, self.backoff_base * 2 ** (delivery.attempts - 1))
        self._later(backoff * self.rng.uniform(0.5, 1.5), delivery)

    async def _generate(self) -> None:
        while True:
            if self.rate_per_minute <= 0:
                await asyncio.sleep(0.5)
                continue
            await asyncio.sleep(self.rng.expovariate(self.rate_per_minute / 60))
            if self.rate_per_minute > 0:
                self._one(None)

    # the fans -----------------------------------------------------------------------------

    def _one(self, kinds: list[str] | None) -> dict[str, Any]:
        names = kinds or list(EVENT_KINDS)
        kind = self.rng.choices(names, weights=[EVENT_KINDS[n] for n in names])[0]
        creator = self.rng.choice(list(self.world.accounts.values()))
        chat = self._pick_chat(creator)
        maker = {
            "message.received": self._message,
            "chat.reaction": self._reaction,
            "tip.received": self._tip,
            "sale.completed": self._sale,
            "subscription.new": self._subscription_new,
            "subscription.renewed": self._renewed,
            "subscription.expired": self._expired,
        }[kind]
        name, data = maker(creator, chat)
        body = self.emit(name, creator, data)
        for rule, fan_id in self.automations.due(creator, name, data, _now_ms()):
            delay = int(rule.get("delay") or 0)
            if delay and self._loop is not None:
                self._call_later(delay, self._send_automated, creator, rule, fan_id)
            else:
                self._send_automated(creator, rule, fan_id)
        return body

    def _send_automated(self, creator: CreatorState, rule: dict[str, Any], fan_id: str) -> None:
        """The creator's automated message to the fan, as the provider would send it."""
        chat = creator.chats.get(creator.chat_by_fan.get(fan_id, ""))
        if chat is None or str(rule["id"]) not in creator.automated:  # deleted meanwhile
            return
        message = self.world.add_message(
            creator, chat, sender_id=creator.native_id, content=str(rule["content"])
        )
        self.automated_sent += 1
        self.emit("message.sent", creator, message)

    def _pick_chat(self, creator: CreatorState) -> ChatState:
        ids = self._chat_ids.get(creator.account_id)
        if ids is None or len(ids) != len(creator.chats):
            ids = self._chat_ids[creator.account_id] = list(creator.chats)
        # Mostly the busy top of the inbox, sometimes anyone.
        if self.rng.random() < 0.6:
            recent = creator.chat_order()[:30] if len(ids) <= 300 else None
            if recent:
                return self.rng.choice(recent)
        return creator.chats[self.rng.choice(ids)]

    def _message(self, creator: CreatorState, chat: ChatState) -> tuple[str, dict[str, Any]]:
        rng = self.rng
        if rng.random() < self.new_fan_rate:
            # Someone writes for the first time: a chat the console has never seen.
            first = rng.choice(text.FIRST_NAMES)
            username = f"{first.lower()}{rng.randint(1000, 9999)}".encode("ascii", "ignore")
            chat = self.world.add_fan(creator, username.decode(), first)
            message = self.world.add_message(
                creator, chat, sender_id=chat.fan_id, content=rng.choice(text.FAN_OPENERS)
            )
            return "message.received", message
        reply_to = None
        if rng.random() < 0.25:
            mine = [m for m in chat.messages[-10:] if m["senderId"] == creator.native_id]
            if mine:
                reply_to = rng.choice(mine)["id"]
        content = rng.choice(text.FAN_LONG_LINES if rng.random() < 0.05 else text.FAN_LINES)
        message = self.world.add_message(
            creator, chat, sender_id=chat.fan_id, content=content, in_reply_to=reply_to
        )
        return "message.received", message

    def _reaction(self, creator: CreatorState, chat: ChatState) -> tuple[str, dict[str, Any]]:
        mine = [m for m in chat.messages[-10:] if m["senderId"] == creator.native_id]
        if not mine:
            return self._message(creator, chat)
        message = self.rng.choice(mine)
        liked = any(like["userId"] == chat.fan_id for like in message["likes"])
        kind = self.rng.randint(1, 7)
        self.world.set_like(message, chat.fan_id, kind, on=not liked)
        data = {
            "id": self.world.new_id(),
            "messageId": message["id"],
            "groupId": chat.id,
            "accountId": chat.fan_id,
            "type": kind,
            "action": "removed" if liked else "added",
            "createdAt": _now_ms(),
        }
        return "chat.reaction", data

    def _tip(self, creator: CreatorState, chat: ChatState) -> tuple[str, dict[str, Any]]:
        amount = self.rng.choice((1000, 2000, 5000, 5000, 10000, 20000, 50000, 100000))
        note = self.rng.choice(text.TIP_MESSAGES)
        tip = self.world.add_tip(creator, chat.fan_id, amount, note, _now_ms())
        data = {
            "id": tip["id"],
            "accountId": chat.fan_id,
            "receiverId": creator.native_id,
            "amount": amount,
            "message": note,
            "chatGroupId": chat.id,
            "createdAt": tip["createdAt"],
        }
        return "tip.received", data

    def _sale(self, creator: CreatorState, chat: ChatState) -> tuple[str, dict[str, Any]]:
        for candidate in [chat] + [self._pick_chat(creator) for _ in range(20)]:
            found = self._unsold(creator, candidate)
            if found is not None:
                return self._bought(creator, candidate, *found)
        # No unsold PPV anywhere near: the creator sends one of the vault's photos, and the fan
        # buys it.
        media = self.rng.choice([m for m, item in creator.vault.items() if item["type"] == 1])
        price = self.rng.choice((5000, 9990, 14990))
        creator.offers[(chat.fan_id, media)] = price
        self.world.add_message(
            creator,
            chat,
            sender_id=creator.native_id,
            content=self.rng.choice(text.PPV_CAPTIONS),
            attachments=[{"contentType": 1, "contentId": media}],
        )
        return self._bought(creator, chat, [media], price)

    @staticmethod
    def _unsold(creator: CreatorState, chat: ChatState) -> tuple[list[str], int] | None:
        """The newest PPV offered in ``chat`` that its fan has not bought: its items and price.
        A PPV is bought whole (ASSUMED: one price for the message, one sale naming its first
        item)."""
        for message in reversed(chat.messages):
            items = [a["contentId"] for a in message["attachments"]]
            prices = [creator.offers.get((chat.fan_id, media)) for media in items]
            if items and prices[0] and (chat.fan_id, items[0]) not in creator.purchases:
                return items, prices[0]
        return None

    def buy(self, creator: CreatorState, chat: ChatState) -> dict[str, Any] | None:
        """The chat's fan buys the newest PPV offered to them and not bought yet (a signed
        ``sale.completed`` follows); ``None`` when there is nothing to buy."""
        found = self._unsold(creator, chat)
        if found is None:
            return None
        name, data = self._bought(creator, chat, *found)
        return self.emit(name, creator, data)

    def ppv_sent(self, creator: CreatorState, chat: ChatState, media_ids: list[str]) -> None:
        """While simulated fans are live (``rate_per_minute`` > 0), the fan opens a PPV just sent
        and buys it ``ppv_buy_after`` seconds later, ``ppv_buy_rate`` of the time: a chatter in
        training sees a sale land on what they sold."""
        if self.rate_per_minute <= 0 or self._loop is None or not media_ids:
            return
        if self.rng.random() >= self.ppv_buy_rate:
            return
        low, high = self.ppv_buy_after
        self._call_later(self.rng.uniform(low, high), self.buy, creator, chat)

    def _bought(
        self, creator: CreatorState, chat: ChatState, items: list[str], price: int
    ) -> tuple[str, dict[str, Any]]:
        now = _now_ms()
        media = items[0]
        creator.purchases.update((chat.fan_id, item) for item in items)
        tx = self.world.add_transaction(creator, chat.fan_id, TX_MEDIA, price, now)
        data = {
            "orderId": tx["id"],
            "accountMediaId": media,
            "accountId": chat.fan_id,
            "correlationAccountId": creator.native_id,
            "chatGroupId": chat.id,
            "orderMetadata": {"accountMediaPrice": price},
            "createdAt": now,
        }
        return "sale.completed", data

    def _subscription_new(
        self, creator: CreatorState, chat: ChatState
    ) -> tuple[str, dict[str, Any]]:
        fan_id = chat.fan_id
        current = creator.subscriptions.get(fan_id)
        if current is not None and current["status"] == ACTIVE:
            others = [f for f, s in creator.subscriptions.items() if s["status"] != ACTIVE]
            followers = [f for f in creator.fans if f not in creator.subscriptions]
            pool = followers or others
            if not pool:
                return self._renewed(creator, chat)
            fan_id = self.rng.choice(pool)
        tier = self.rng.choice(list(creator.tiers.values()))
        now = _now_ms()
        sub_id = self.world.new_id(now)
        sub = {
            "id": sub_id,
            "historyId": self.world.new_id(now),
            "subscriberId": fan_id,
            "subscriptionTierId": tier["id"],
            "subscriptionTierName": tier["name"],
            "subscriptionTierColor": tier["color"],
            "planId": self.world.new_id(now),
            "promoId": "0",
            "giftCodeId": None,
            "status": ACTIVE,
            "price": tier["price"],
            "renewPrice": tier["price"],
            "autoRenew": 1,
            "billingCycle": 30,
            "duration": 30,
            "renewDate": now + 30 * DAY * 1000,
            "createdAt": now,
            "updatedAt": now,
            "endsAt": now + 30 * DAY * 1000,
            "promoPrice": None,
            "promoStatus": None,
        }
        creator.subscriptions[fan_id] = sub
        self.world.add_transaction(creator, fan_id, TX_SUBSCRIPTION, tier["price"], now)
        return "subscription.new", dict(sub)

    def _active_sub(self, creator: CreatorState, chat: ChatState) -> dict[str, Any] | None:
        sub = creator.subscriptions.get(chat.fan_id)
        if sub is not None and sub["status"] == ACTIVE:
            return sub
        actives = [s for s in creator.subscriptions.values() if s["status"] == ACTIVE]
        return self.rng.choice(actives) if actives else None

    def _renewed(self, creator: CreatorState, chat: ChatState) -> tuple[str, dict[str, Any]]:
        sub = self._active_sub(creator, chat)
        if sub is None:
            return self._subscription_new(creator, chat)
        now = _now_ms()
        sub["renewDate"] = max(sub["renewDate"], now) + 30 * DAY * 1000
        sub["endsAt"] = sub["renewDate"]
        sub["updatedAt"] = now
        self.world.add_transaction(creator, sub["subscriberId"], TX_SUBSCRIPTION, sub["price"], now)
        return "subscription.renewed", dict(sub)

    def _expired(self, creator: CreatorState, chat: ChatState) -> tuple[str, dict[str, Any]]:
        sub = self._active_sub(creator, chat)
        if sub is None:
            return self._subscription_new(creator, chat)
        now = _now_ms()
        sub.update(status=EXPIRED, autoRenew=0, endsAt=now, updatedAt=now)
        return "subscription.expired", dict(sub)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _in_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def _call_in(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` in ``loop`` (another thread's) and wait for its result."""
    return asyncio.run_coroutine_threadsafe(coro, loop).result(30)
