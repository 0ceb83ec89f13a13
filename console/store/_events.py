"""Applying webhook events: log and effect in one transaction, exactly once, in any order.

The rules are plain functions over a connection (:func:`apply_batch` and what it calls), so the
store's :class:`EventLog` (group commit on the writer's thread) and the ingest worker's
:class:`~console.store.ingest.EventWriter` (its own connection, no thread) run the same code.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import sqlite3
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from console.changes import (
    ChatChanged,
    EventApplied,
    FanChanged,
    MessageAdded,
    MessageChanged,
    Update,
)
from console.store._core import (
    KnownAccounts,
    Part,
    StoreCore,
    dumps,
    ensure_chat,
    ms,
    now_ms,
    one,
    preview,
    settle_future,
)
from console.store._fts import pending_count
from console.store._media import record_purchase
from console.store._retention import first_event_seq
from console.store._usage import UsageRow, add_usage
from console.store._writes import ensure_fan, refresh_chat, set_subscription, write_message
from console.store.rows import AppliedEvent
from console.store.text import clean_stored

if TYPE_CHECKING:
    from console.events import Event

# EventType values (a StrEnum in console.events, which imports pydantic: compared by value,
# `import console.store` stays light; an event's type is equal to its value).
_MESSAGE_RECEIVED = "message.received"
_MESSAGE_SENT = "message.sent"
_TIP_RECEIVED = "tip.received"
_SALE_COMPLETED = "sale.completed"
_CHAT_REACTION = "chat.reaction"


def _settle(
    future: asyncio.Future[AppliedEvent | None],
    result: AppliedEvent | None,
    error: BaseException | None,
) -> None:
    """Answer one caller, on its own loop if that is not the running one."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    loop = future.get_loop()
    if loop is running:
        settle_future(future, result, error)
    else:
        with contextlib.suppress(RuntimeError):  # its loop is closed: nobody is waiting
            loop.call_soon_threadsafe(settle_future, future, result, error)


#: Event type → the SubscriptionStatus value it states.
_SUBSCRIPTION_STATUS = {
    "subscription.new": "active",
    "subscription.renewed": "active",
    "subscription.expired": "expired",
}


_NO_SEQ = {"seq"}  # never changed

log = logging.getLogger("console.store")

#: Most events committed in one transaction: bounds how long one commit holds the writer.
MAX_BATCH = 256


def _event_type() -> type[Event]:
    from console.events import Event

    return Event


class KeyConflicts:
    """Deliveries that reuse a recorded idempotency key with a different body.

    The first one recorded is kept (a retry must never change what was applied), and the
    conflict is logged once per (key, body), with the SHA-256 of both bodies, so an operator can
    find the two deliveries. A body is its parsed document (``Event.raw``) in canonical JSON:
    a retry that only re-serialises the same document is no conflict.
    """

    #: (key, body hash) pairs logged already; cleared when full (a later repeat logs again).
    MAX_REMEMBERED = 4096

    def __init__(self) -> None:
        self._logged: set[tuple[str, str]] = set()

    def check(self, db: sqlite3.Connection, event: Event, event_json: str) -> None:
        """Log ``event`` if its key was recorded with another body (a duplicate's path only)."""
        row = one(
            db,
            "SELECT event_json FROM event_log WHERE idempotency_key = ?",
            (event.idempotency_key,),
        )
        if row is None:
            return  # recorded by this batch's undone part, or pruned meanwhile
        first, now = body_hash(row[0]), body_hash(event_json)
        if first == now or (event.idempotency_key, now) in self._logged:
            return
        if len(self._logged) >= self.MAX_REMEMBERED:
            self._logged.clear()
        self._logged.add((event.idempotency_key, now))
        log.warning(
            "delivery %s: idempotency key %s was recorded before with a different body "
            "(sha256 first %s, this one %s); the first is kept, this one is dropped",
            event.name[:64].encode("unicode_escape").decode(),
            event.idempotency_key[:64].encode("unicode_escape").decode(),
            first,
            now,
        )


def body_hash(event_json: str) -> str:
    """SHA-256 of a stored event's delivery document (``raw``), in canonical JSON."""
    raw = json.loads(event_json).get("raw", {})
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class EventLog(Part):
    """The store's event log: each event recorded and applied once (group commit)."""

    def __init__(self, core: StoreCore) -> None:
        super().__init__(core)
        self._conflicts = KeyConflicts()
        #: Events waiting for the next group commit, each with its caller's future.
        self._pending_events: list[tuple[Event, asyncio.Future[AppliedEvent | None]]] = []
        self._committing = False
        # Callers may live on different event loops (threads): the queue and the flag change
        # together under this lock.
        self._pending_lock = threading.Lock()
        core.events_waiting = self._events_waiting

    async def apply_event(self, event: Event) -> AppliedEvent | None:
        """Record ``event`` in the event log and apply it, atomically.

        ``None`` when its idempotency key was seen before (nothing else happens). Older events
        never overwrite newer state: the last message is derived from the cached messages and
        subscriptions compare their times. Returns only once the event is committed.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[AppliedEvent | None] = loop.create_future()
        with self._pending_lock:
            self._pending_events.append((event, future))
            start = not self._committing
            self._committing = True
        if start:
            # One loop turn first: deliveries parsed in the same turn join this commit.
            loop.call_soon(self._commit_pending)
        return await future

    def _commit_pending(self) -> None:
        """Group commit: everything that arrived while the last batch ran goes in one
        transaction (each event in its own savepoint, so one failure spoils only itself)."""
        with self._pending_lock:
            batch = self._pending_events[:MAX_BATCH]
            del self._pending_events[:MAX_BATCH]
        try:
            job = self._core._writer.submit(
                apply_batch, [event for event, _ in batch], self._known, self._conflicts
            )
        except BaseException as exc:  # the store is closed: nobody waiting gets an answer
            with self._pending_lock:
                batch += self._pending_events
                self._pending_events = []
                self._committing = False
            for _, future in batch:
                _settle(future, None, exc)
            return
        job.add_done_callback(lambda done: self._batch_done(batch, done))

    def _events_waiting(self) -> bool:
        with self._pending_lock:
            return self._committing

    def _batch_done(
        self,
        batch: list[tuple[Event, asyncio.Future[AppliedEvent | None]]],
        job: asyncio.Future[tuple[list[AppliedEvent | Exception | None], int]],
    ) -> None:
        error = job.exception() if not job.cancelled() else asyncio.CancelledError()
        backlog = -1
        outcomes: list[AppliedEvent | BaseException | None]
        if error is None:
            self._core._committed()
            applied, backlog = job.result()
            outcomes = list(applied)
            for (event, _), outcome in zip(batch, outcomes, strict=True):
                # Its account row is committed (not so for a duplicate: its key may have come
                # with another account, whose row then was never written).
                if isinstance(outcome, AppliedEvent):
                    self._known.stored.add(event.account_id)
        else:
            outcomes = [error] * len(batch)
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                _settle(future, None, outcome)
            else:
                _settle(future, outcome, None)
        with self._pending_lock:
            more = bool(self._pending_events)
            self._committing = more
        if backlog > 0:
            # Before the next batch is queued: a chunk of indexing goes first only when the
            # backlog is large (catch-up); otherwise only once no event waits.
            self._core._index_soon(backlog, events_waiting=more)
        if more:
            self._commit_pending()

    async def events_since(self, seq: int, limit: int = 500) -> list[Event]:
        """Logged events after ``seq``, oldest first (the hub's resume)."""
        rows = await self._read(
            "SELECT seq, event_json FROM event_log WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, limit),
        )
        events = []
        for row in rows:
            event = _event_type().model_validate_json(row[1])
            event.seq = row[0]
            events.append(event)
        return events

    async def last_event_seq(self) -> int:
        row = await self._read_one("SELECT COALESCE(MAX(seq), 0) FROM event_log")
        return int(row[0])

    async def first_event_seq(self) -> int:
        """The oldest seq the log still holds: 1 unless events were pruned (retention)."""
        return int(await self._reader.run(first_event_seq))


def apply_batch(
    db: sqlite3.Connection,
    events: list[Event],
    known: KnownAccounts,
    conflicts: KeyConflicts,
    usage: Sequence[UsageRow] = (),
) -> tuple[list[AppliedEvent | Exception | None], int]:
    """Every event of a batch, then one COMMIT; the outcomes and how many messages are left
    to index. ``known`` is the writer's knowledge of accounts (it learns the stored ones only
    once the caller saw the commit succeed); ``conflicts`` logs reused idempotency keys.

    Optimistic: the events run one after the other without savepoints. If one raises,
    the transaction is rolled back and the batch runs again with a savepoint per event,
    so the failing event is undone alone (and its caller gets the exception). ``usage``: the
    credits the batch's deliveries cost (``listen``'s ingest worker), added in its transaction.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        try:
            outcomes: list[AppliedEvent | Exception | None] = [
                apply_one(db, event, known, conflicts) for event in events
            ]
        except Exception:
            if db.in_transaction:
                db.execute("ROLLBACK")
            db.execute("BEGIN IMMEDIATE")
            outcomes = _apply_each(db, events, known, conflicts)
        if usage:
            add_usage(db, usage)
        backlog = pending_count(db)
        db.execute("COMMIT")
    except BaseException:
        # Nothing of the batch is kept, so no caller may be told its event was stored.
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return outcomes, backlog


def _apply_each(
    db: sqlite3.Connection, events: list[Event], known: KnownAccounts, conflicts: KeyConflicts
) -> list[AppliedEvent | Exception | None]:
    """Every event in its own savepoint (one failure spoils only itself)."""
    outcomes: list[AppliedEvent | Exception | None] = []
    for event in events:
        db.execute("SAVEPOINT event")
        try:
            outcomes.append(apply_one(db, event, known, conflicts))
        except Exception as exc:
            db.execute("ROLLBACK TO event")
            outcomes.append(exc)
        db.execute("RELEASE event")
    return outcomes


def apply_one(
    db: sqlite3.Connection, event: Event, known: KnownAccounts, conflicts: KeyConflicts
) -> AppliedEvent | None:
    """Record ``event`` and apply it (``None``: its key was recorded before, nothing done)."""
    # The serializer itself: model_dump_json's wrapper doubled the cost (~7 µs).
    event_json = event.__pydantic_serializer__.to_json(event, exclude=_NO_SEQ).decode()
    # The seq is the row's key, not part of the stored JSON: one statement, no update.
    cursor = db.execute(
        """INSERT INTO event_log(idempotency_key, type, account_id, event_json,
            received_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT(idempotency_key) DO NOTHING""",
        (event.idempotency_key, event.type.value, event.account_id, event_json, now_ms()),
    )
    if cursor.rowcount == 0:
        conflicts.check(db, event, event_json)
        return None
    seq = cursor.lastrowid
    assert seq is not None
    stored = event.model_copy(update={"seq": seq})
    known.ensure(db, event.account_id)
    updates = _apply(db, stored, known)
    updates.append(EventApplied(stored))
    return AppliedEvent(seq=seq, event=stored, updates=updates)


def _apply(db: sqlite3.Connection, event: Event, known: KnownAccounts) -> list[Update]:
    kind = event.type
    if kind == _MESSAGE_RECEIVED or kind == _MESSAGE_SENT:
        return _apply_message(db, event, known)
    if kind == _TIP_RECEIVED or kind == _SALE_COMPLETED:
        return _apply_purchase(db, event, known)
    if kind in _SUBSCRIPTION_STATUS:
        return _apply_subscription(db, event, known)
    if kind == _CHAT_REACTION:
        return _apply_reaction(db, event, known)
    return []


def _apply_message(db: sqlite3.Connection, event: Event, known: KnownAccounts) -> list[Update]:
    message = event.message
    if message is None:
        return []
    account_id = event.account_id
    chat_id = event.chat_id or message.chat_id
    # One statement: the chat's newest message (time, position), whether the message and
    # the chat's fan are known, and the account's creator id (unless known in memory).
    before = one(
        db,
        "SELECT EXISTS(SELECT 1 FROM messages WHERE message_id = ?), "
        "EXISTS(SELECT 1 FROM chats WHERE chat_id = ? AND fan_id IS NOT NULL), "
        "(SELECT fansly_account_id FROM accounts WHERE account_id = ?), "
        "newest.created_at, newest.pos "
        "FROM (SELECT 1) LEFT JOIN (SELECT created_at, pos FROM messages WHERE chat_id = ? "
        "ORDER BY created_at DESC, pos DESC LIMIT 1) AS newest",
        (message.id, chat_id, account_id, chat_id),
    )
    newest_at = -(1 << 62) if before[3] is None else before[3]
    creator_id = known.creators[account_id] if account_id in known.creators else before[2]
    sent = event.type == _MESSAGE_SENT or (
        creator_id is not None and message.sender_id == creator_id
    )
    fan_id = event.fan_id or (None if sent else message.sender_id)
    if not before[1]:
        ensure_chat(db, account_id, chat_id, fan_id)
    change = write_message(
        db,
        account_id,
        chat_id,
        message,
        creator_id=creator_id,
        from_creator=sent,
        exists=bool(before[0]),
    )
    if change is None:
        return []
    created = ms(message.created_at) or 0
    if not sent and isinstance(change, MessageAdded):
        from console.store._queue import cancel_follow_ups  # (issue 16)

        cancel_follow_ups(db, chat_id, created)
    if isinstance(change, MessageAdded) and created > newest_at:
        # The usual live case: a new message after everything cached (a message of the
        # same millisecond takes the exact path below). The summary follows
        # from the message alone (what refresh_chat would derive, without its scans).
        db.execute(
            """UPDATE chats SET last_message_id = ?, last_message_at = ?, last_preview = ?,
                last_from_creator = ?,
                waiting_since = CASE WHEN ? THEN NULL ELSE COALESCE(waiting_since, ?) END,
                unread_count = CASE WHEN ? THEN 0 ELSE unread_count + 1 END
            WHERE chat_id = ?""",
            (
                message.id,
                created,
                preview(clean_stored(message.content), len(message.attachments)),
                sent,
                sent,
                created,
                sent,
                chat_id,
            ),
        )
        return [change, ChatChanged(account_id, chat_id)]
    unread = 1 if isinstance(change, MessageAdded) and not sent else 0
    refresh_chat(db, chat_id, unread_delta=unread)
    if sent:
        # The creator answered from somewhere: what came before is read, unless this
        # event is older than something already cached.
        row = one(db, "SELECT created_at, pos FROM messages WHERE message_id = ?", (message.id,))
        if row is not None and (row[0], row[1]) > (newest_at, before[4] or 0):
            db.execute("UPDATE chats SET unread_count = 0 WHERE chat_id = ?", (chat_id,))
    return [change, ChatChanged(account_id, chat_id)]


def _apply_purchase(db: sqlite3.Connection, event: Event, known: KnownAccounts) -> list[Update]:
    fan_id = event.fan_id
    amount = event.amount_millis or 0
    if fan_id is None:
        return []
    at = ms(event.occurred_at)
    ensure_fan(db, event.account_id, fan_id)
    row = one(
        db,
        "SELECT spend_history_json FROM fans WHERE account_id = ? AND fan_id = ?",
        (event.account_id, fan_id),
    )
    history = sorted([*json.loads(row[0]), [at, amount]], key=lambda point: point[0])
    tip = amount if event.type == _TIP_RECEIVED else 0
    db.execute(
        """UPDATE fans SET lifetime_spend_millis = COALESCE(lifetime_spend_millis, 0) + ?,
            tips_millis = COALESCE(tips_millis, 0) + ?, spend_history_json = ?,
            last_purchase_millis = CASE WHEN last_purchase_at IS NULL
                OR last_purchase_at <= ? THEN ? ELSE last_purchase_millis END,
            last_purchase_at = MAX(COALESCE(last_purchase_at, 0), ?), updated_at = ?
        WHERE account_id = ? AND fan_id = ?""",
        (amount, tip, dumps(history), at, amount, at, now_ms(), event.account_id, fan_id),
    )
    updates: list[Update] = [FanChanged(event.account_id, fan_id)]
    if event.type == _SALE_COMPLETED and event.media_id:
        updates += record_purchase(
            db,
            event.account_id,
            fan_id,
            event.chat_id,
            event.media_id,
            event.idempotency_key,
            event.amount_millis,
            at or now_ms(),
        )
    if event.chat_id:
        updates.append(ChatChanged(event.account_id, event.chat_id))
    return updates


def _apply_subscription(db: sqlite3.Connection, event: Event, known: KnownAccounts) -> list[Update]:
    sub = event.subscription
    fan_id = (sub.fan_id if sub else None) or event.fan_id
    if sub is None or fan_id is None:
        return []
    # The event's name is the provider's statement of the new state.
    from console.api.models import SubscriptionStatus

    sub = sub.model_copy(update={"status": SubscriptionStatus(_SUBSCRIPTION_STATUS[event.type])})
    if sub.updated_at is None:
        sub = sub.model_copy(update={"updated_at": event.occurred_at})
    ensure_fan(db, event.account_id, fan_id)
    if not set_subscription(db, event.account_id, fan_id, sub):
        return []
    rows = db.execute(
        "SELECT chat_id FROM chats WHERE account_id = ? AND fan_id = ?",
        (event.account_id, fan_id),
    ).fetchall()
    updates: list[Update] = [FanChanged(event.account_id, fan_id)]
    updates.extend(ChatChanged(event.account_id, row[0]) for row in rows)
    return updates


def _apply_reaction(db: sqlite3.Connection, event: Event, known: KnownAccounts) -> list[Update]:
    reaction = event.reaction
    if reaction is None:
        return []
    user = reaction.user_id or event.fan_id or ""
    at = ms(event.occurred_at) or 0
    newer = one(
        db,
        "SELECT 1 FROM reactions WHERE message_id = ? AND user_id = ? AND at > ?",
        (reaction.message_id, user, at),
    )
    if newer is not None:
        return []  # a later reaction of this user to this message was applied already
    db.execute(
        """INSERT INTO reactions(message_id, user_id, at, added) VALUES (?, ?, ?, ?)
        ON CONFLICT(message_id, user_id) DO UPDATE SET at = excluded.at,
            added = excluded.added""",
        (reaction.message_id, user, at, reaction.added),
    )
    row = one(
        db,
        "SELECT pos, chat_id, likes_json FROM messages WHERE message_id = ?",
        (reaction.message_id,),
    )
    if row is None:
        return []
    likes = [like for like in json.loads(row[2]) if like.get("user_id") != user]
    if reaction.added:
        likes.append({"user_id": user, "type": reaction.type})
    creator_id = known.creator_id(db, event.account_id)
    db.execute(
        "UPDATE messages SET likes_json = ?, liked_by_creator = ? WHERE pos = ?",
        (
            dumps(likes),
            any(like.get("user_id") == creator_id for like in likes),
            row[0],
        ),
    )
    return [MessageChanged(event.account_id, row[1], reaction.message_id)]
