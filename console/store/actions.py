"""Every action a chatter can queue, as data: one :class:`ActionSpec` per outbox kind.

A spec says what the action carries (its payload), what it shows in the cache at once and how
that is undone when the gateway refuses it for good (its :class:`Effect`), which client call
delivers it, what changed once it settled (:class:`Settles`, published by the sender), and
whether the thread shows it as queued. The store, the outbox sender, the workspace and the TUI
source read :data:`ACTIONS` instead of switching on the kind, so a new action is one spec here,
one route, one client method and one binding.

The table lives in the store package because the store is the lowest layer that reads it: an
effect is shown and undone in the same transaction as the outbox write (crash safety). It never
imports the API at run time (``import console.store`` stays free of pydantic); the client call
is a function given the client by the sender.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

from console.store._core import (
    NEXT_POS,
    KnownAccounts,
    at_free_pos,
    dumps,
    ensure_chat,
    ms,
    now_ms,
    one,
    pos_params,
)
from console.store._media import merge_attachments, pending_attachments
from console.store._writes import adopt, refresh_chat, write_message
from console.store.rows import OutboxItem, OutboxKind
from console.store.text import clean_stored

if TYPE_CHECKING:
    from console.api.client import FanslyClient
    from console.api.models import Message


class Settles(StrEnum):
    """What changed once an action settled (sent or failed for good): the sender publishes it,
    then always the chat itself."""

    #: The message named by ``payload["message_id"]``.
    MESSAGE = "message"
    #: Only the chat (its list row, its title).
    CHAT = "chat"
    #: The new message: the server's id once sent, the client id while it is only local.
    NEW_MESSAGE = "new_message"


class Effect:
    """What an action shows in the cache at once, and how that is undone. The default shows
    nothing. Every method runs inside the store's write transaction, given what the writer
    knows of the accounts (``known.creator_id``) and the connection."""

    def done_here(self, known: KnownAccounts, db: sqlite3.Connection, item: OutboxItem) -> bool:
        """Just queued: ``True`` when the action needs no delivery (it is settled at once and
        never reaches the gateway). Raise ``ValueError`` to refuse it."""
        return False

    def show(self, known: KnownAccounts, db: sqlite3.Connection, item: OutboxItem) -> None:
        """Just queued: show the action as done."""

    def undo(
        self, known: KnownAccounts, db: sqlite3.Connection, item: OutboxItem, error: str
    ) -> None:
        """Failed for good: take the shown effect back."""

    def again(self, known: KnownAccounts, db: sqlite3.Connection, item: OutboxItem) -> None:
        """A failed action queued again by the chatter: show it again."""
        self.show(known, db, item)

    def settle(
        self, known: KnownAccounts, db: sqlite3.Connection, item: OutboxItem, server: Message | None
    ) -> None:
        """The gateway accepted it (``server`` is what it answered, for a send)."""


@dataclass(frozen=True, slots=True)
class Flag(Effect):
    """A 0/1 column set at once; undone by setting it back."""

    table: Literal["messages", "chats"]
    column: str
    value: int

    def show(self, known: KnownAccounts, db: sqlite3.Connection, item: OutboxItem) -> None:
        self._set(db, item, self.value)

    def undo(
        self, known: KnownAccounts, db: sqlite3.Connection, item: OutboxItem, error: str
    ) -> None:
        self._set(db, item, 1 - self.value)

    def _set(self, db: sqlite3.Connection, item: OutboxItem, value: int) -> None:
        if self.table == "chats":
            db.execute(
                f"UPDATE chats SET {self.column} = ? WHERE chat_id = ?", (value, item.chat_id)
            )
        elif item.payload.get("message_id"):
            db.execute(
                f"UPDATE messages SET {self.column} = ? WHERE message_id = ?",
                (value, str(item.payload["message_id"])),
            )


class PendingMessage(Effect):
    """A send: a pending message with the client id shows at once; it becomes the server's
    message once sent (never a duplicate), and shows as failed if refused."""

    def show(self, known: KnownAccounts, db: sqlite3.Connection, item: OutboxItem) -> None:
        ensure_chat(db, item.account_id, item.chat_id, None)
        creator_id = known.creator_id(db, item.account_id)
        created = ms(item.created_at) or now_ms()
        at_free_pos(
            db,
            f"""INSERT INTO messages(pos, client_id, chat_id, account_id, sender_id,
                from_creator, text, created_at, reply_to_id, attachments_json, state)
            VALUES ({NEXT_POS}, :client_id, :chat_id, :account_id, :sender_id, 1, :text,
                :created_at, :reply_to_id, :attachments_json, 'pending')""",
            {
                **pos_params(created),
                "client_id": item.client_id,
                "chat_id": item.chat_id,
                "account_id": item.account_id,
                "sender_id": creator_id or "",
                "text": clean_stored(str(item.payload.get("content", ""))),
                "created_at": created,
                "reply_to_id": item.payload.get("in_reply_to"),
                "attachments_json": pending_attachments(
                    db, item.account_id, _media_ids(item), _price_millis(item)
                ),
            },
        )
        refresh_chat(db, item.chat_id)

    def undo(
        self, known: KnownAccounts, db: sqlite3.Connection, item: OutboxItem, error: str
    ) -> None:
        db.execute(
            "UPDATE messages SET state = 'failed', error = ? WHERE client_id = ? "
            "AND message_id IS NULL",
            (error, item.client_id),
        )
        refresh_chat(db, item.chat_id)

    def again(self, known: KnownAccounts, db: sqlite3.Connection, item: OutboxItem) -> None:
        db.execute(
            "UPDATE messages SET state = 'pending', error = NULL WHERE client_id = ? "
            "AND message_id IS NULL",
            (item.client_id,),
        )
        refresh_chat(db, item.chat_id)

    def settle(
        self, known: KnownAccounts, db: sqlite3.Connection, item: OutboxItem, server: Message | None
    ) -> None:
        local = one(
            db, "SELECT pos, message_id FROM messages WHERE client_id = ?", (item.client_id,)
        )
        if server is None:
            db.execute(
                "UPDATE messages SET state = 'sent', error = NULL WHERE client_id = ?",
                (item.client_id,),
            )
        else:
            twin = one(db, "SELECT pos FROM messages WHERE message_id = ?", (server.id,))
            if local is not None and twin is not None and twin[0] != local[0]:
                # The webhook copy won the race: keep it, drop the local row, remember the id
                # (and what the local row knew of its media: labels, the price).
                labels = one(
                    db,
                    "SELECT l.attachments_json, t.attachments_json FROM messages l, messages t "
                    "WHERE l.pos = ? AND t.pos = ?",
                    (local[0], twin[0]),
                )
                db.execute("DELETE FROM messages WHERE pos = ?", (local[0],))
                db.execute(
                    "UPDATE messages SET client_id = ?, attachments_json = ? WHERE pos = ?",
                    (item.client_id, merge_attachments(labels[0], labels[1]), twin[0]),
                )
            elif local is not None and local[1] is None:
                creator_id = known.creator_id(db, item.account_id)
                params = {
                    "message_id": server.id,
                    "sender_id": server.sender_id or creator_id or "",
                    "text": clean_stored(server.content),
                    "created_at": ms(server.created_at),
                    "reply_to_id": server.in_reply_to,
                    "attachments_json": dumps([a.model_dump() for a in server.attachments]),
                    "likes_json": dumps([like.model_dump() for like in server.likes]),
                    "pinned": server.pinned,
                    **pos_params(ms(server.created_at) or now_ms()),
                }
                adopt(db, local[0], server, params)
            elif local is None:
                write_message(
                    db, item.account_id, item.chat_id, server, creator_id=None, from_creator=True
                )
        refresh_chat(db, item.chat_id)


class FollowUpMessage(Effect):
    """A follow-up (issue 16) shows nothing until it is sent: the fan still waits for an
    answer, and the thread lists it apart ("follow-up at 14:30 unless they reply"). Once sent,
    the server's message is stored like any send's."""

    def settle(
        self, known: KnownAccounts, db: sqlite3.Connection, item: OutboxItem, server: Message | None
    ) -> None:
        PendingMessage().settle(known, db, item, server)


class Unsent(Effect):
    """The creator's message shows as unsent at once; a refusal shows it sent again. A message
    not yet sent (its send still queued, or failed) is never sent instead: its send is taken
    out of the outbox and nothing goes to the gateway."""

    def done_here(self, known: KnownAccounts, db: sqlite3.Connection, item: OutboxItem) -> bool:
        key = str(item.payload.get("message_id", ""))
        send = one(
            db,
            "SELECT state FROM outbox WHERE client_id = ? AND kind IN ('send', 'ppv')",
            (key,),
        )
        if send is None or one(db, "SELECT 1 FROM messages WHERE message_id = ?", (key,)):
            return False
        if send[0] not in ("queued", "failed"):
            # On its way: whether it arrived is not known yet, so it cannot be taken back.
            raise ValueError("this message is being sent: unsend it once it shows as sent")
        db.execute("DELETE FROM outbox WHERE client_id = ?", (key,))
        db.execute(
            "UPDATE messages SET state = 'unsent', error = NULL WHERE client_id = ? "
            "AND message_id IS NULL",
            (key,),
        )
        refresh_chat(db, item.chat_id)
        return True

    def show(self, known: KnownAccounts, db: sqlite3.Connection, item: OutboxItem) -> None:
        self._set(db, item, "unsent")

    def undo(
        self, known: KnownAccounts, db: sqlite3.Connection, item: OutboxItem, error: str
    ) -> None:
        self._set(db, item, "sent")

    def _set(self, db: sqlite3.Connection, item: OutboxItem, state: str) -> None:
        db.execute(
            "UPDATE messages SET state = ? WHERE message_id = ?",
            (state, str(item.payload.get("message_id", ""))),
        )


#: The client call that delivers an item: ``(client, account_id, item)``; a send answers the
#: server's message, every other action ``None``.
Call = Callable[["FanslyClient", str, OutboxItem], Awaitable["Message | None"]]


@dataclass(frozen=True, slots=True)
class ActionSpec:
    kind: OutboxKind
    #: The payload's keys (documentation and the queued marker's target): ``message_id`` names
    #: the message the action is about, ``fan_id`` the fan.
    payload: tuple[str, ...]
    effect: Effect
    call: Call
    settles: Settles
    #: Safe to repeat after a lost answer (a timeout): a second copy changes nothing. A lost
    #: non-idempotent action (a send) is looked for on the gateway before it is sent again.
    idempotent: bool = True
    #: The thread marks the target message "⧗ <kind> queued" while the action waits.
    shows_queued: bool = False

    def target(self, item: OutboxItem) -> str | None:
        """The message this waiting action is about, when it names one."""
        value = item.payload.get("message_id")
        return str(value) if value else None


def _media_ids(item: OutboxItem) -> list[str]:
    return [str(m) for m in item.payload.get("media_ids") or []]


def _price_millis(item: OutboxItem) -> int | None:
    price = item.payload.get("price")
    return round(float(price) * 1000) if price is not None else None


async def _send(client: FanslyClient, account: str, item: OutboxItem) -> Message | None:
    """A send and a PPV alike: the payload's ``price`` (dollars) makes it paid."""
    payload = item.payload
    price = payload.get("price")
    return await client.send_message(
        account,
        item.chat_id,
        str(payload.get("content", "")),
        media_ids=_media_ids(item) or None,
        reply_to=payload.get("in_reply_to") or None,
        price_dollars=float(price) if price is not None else None,
        preview_id=payload.get("preview_id") or None,
    )


def _message_id(item: OutboxItem) -> str:
    return str(item.payload.get("message_id", ""))


async def _like(client: FanslyClient, account: str, item: OutboxItem) -> None:
    await client.like_message(account, _message_id(item), int(item.payload.get("type", 1)))


async def _unlike(client: FanslyClient, account: str, item: OutboxItem) -> None:
    await client.unlike_message(account, _message_id(item), int(item.payload.get("type", 1)))


async def _pin(client: FanslyClient, account: str, item: OutboxItem) -> None:
    await client.pin_message(account, item.chat_id, _message_id(item))


async def _unpin(client: FanslyClient, account: str, item: OutboxItem) -> None:
    await client.unpin_message(account, item.chat_id, _message_id(item))


async def _mute(client: FanslyClient, account: str, item: OutboxItem) -> None:
    await client.mute(account, str(item.payload["fan_id"]))


async def _unmute(client: FanslyClient, account: str, item: OutboxItem) -> None:
    await client.unmute(account, str(item.payload["fan_id"]))


async def _unsend(client: FanslyClient, account: str, item: OutboxItem) -> None:
    await client.unsend_message(account, _message_id(item))


_K, _S = OutboxKind, Settles

#: kind → spec: every action the outbox delivers.
ACTIONS: dict[OutboxKind, ActionSpec] = {
    spec.kind: spec
    for spec in (
        ActionSpec(
            _K.SEND,
            ("content", "in_reply_to", "media_ids"),
            PendingMessage(),
            _send,
            _S.NEW_MESSAGE,
            idempotent=False,
        ),
        # A paid message (§10.2): vault media, a price in dollars, an optional free preview.
        # Shown at once like a send (its items labelled from the cached vault), never resent
        # blind: a lost answer is looked for on the gateway by its text and media.
        ActionSpec(
            _K.PPV,
            ("content", "media_ids", "price", "preview_id", "in_reply_to"),
            PendingMessage(),
            _send,
            _S.NEW_MESSAGE,
            idempotent=False,
        ),
        ActionSpec(
            _K.LIKE,
            ("message_id", "type"),
            Flag("messages", "liked_by_creator", 1),
            _like,
            _S.MESSAGE,
            shows_queued=True,
        ),
        ActionSpec(
            _K.UNLIKE,
            ("message_id", "type"),
            Flag("messages", "liked_by_creator", 0),
            _unlike,
            _S.MESSAGE,
            shows_queued=True,
        ),
        ActionSpec(
            _K.PIN,
            ("message_id",),
            Flag("messages", "pinned", 1),
            _pin,
            _S.MESSAGE,
            shows_queued=True,
        ),
        ActionSpec(
            _K.UNPIN,
            ("message_id",),
            Flag("messages", "pinned", 0),
            _unpin,
            _S.MESSAGE,
            shows_queued=True,
        ),
        ActionSpec(_K.MUTE, ("fan_id",), Flag("chats", "muted", 1), _mute, _S.CHAT),
        ActionSpec(_K.UNMUTE, ("fan_id",), Flag("chats", "muted", 0), _unmute, _S.CHAT),
        ActionSpec(_K.UNSEND, ("message_id",), Unsent(), _unsend, _S.MESSAGE),
        ActionSpec(
            _K.FOLLOW_UP,
            ("content", "confirmed"),
            FollowUpMessage(),
            _send,
            _S.NEW_MESSAGE,
            idempotent=False,
        ),
    )
}


def spec(kind: OutboxKind | str) -> ActionSpec:
    return ACTIONS[OutboxKind(kind)]


__all__ = [
    "ACTIONS",
    "ActionSpec",
    "Call",
    "Effect",
    "Flag",
    "FollowUpMessage",
    "PendingMessage",
    "Settles",
    "Unsent",
    "spec",
]
