"""What the store hands back to the UI and the sync layer: small frozen rows.

These are the console's one set of row types: the TUI shows a ``ChatRow`` and a ``MessageRow``
as the store built them (its in-memory test source builds the same ones). Every text a fan
controls (names, previews, message text, snippets) is plain text; the caller renders it as
such. Times are aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # `import console.store` stays free of pydantic (start-up time)
    from console.api.models import Attachment, Like, Subscription
    from console.changes import Update
    from console.events import Event


class ChatFilter(StrEnum):
    """Which chats of an account a list shows."""

    ALL = "all"
    UNREAD = "unread"
    #: The fan's last message has no answer yet (the fan is waiting).
    UNANSWERED = "unanswered"
    VIP = "vip"
    SUBSCRIBERS = "subscribers"
    PINNED = "pinned"
    MUTED = "muted"


class MessageState(StrEnum):
    SENT = "sent"
    PENDING = "pending"
    FAILED = "failed"
    #: The creator took it back (or cancelled it before it was sent).
    UNSENT = "unsent"


class OutboxKind(StrEnum):
    SEND = "send"
    LIKE = "like"
    UNLIKE = "unlike"
    PIN = "pin"
    UNPIN = "unpin"
    MUTE = "mute"
    UNMUTE = "unmute"
    UNSEND = "unsend"
    #: A paid message: vault media at a price (§10.2).
    PPV = "ppv"
    #: A message sent at a due time unless the fan writes first (issue 16).
    FOLLOW_UP = "follow_up"


class OutboxState(StrEnum):
    QUEUED = "queued"
    IN_FLIGHT = "in_flight"
    #: Sent, but no answer came back (timeout, connection lost): reconcile before resending.
    UNKNOWN = "unknown"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class AccountRow:
    account_id: str
    name: str
    username: str | None
    fansly_account_id: str | None
    status: str | None


class ChatRow(NamedTuple):
    """One line of the chat list (a named tuple: immutable and cheap to build by thousands)."""

    account_id: str
    chat_id: str
    fan_id: str | None
    fan_name: str
    fan_username: str
    unread: int
    #: The last message as one plain line (control characters and newlines removed).
    preview: str
    last_from_creator: bool
    last_activity: datetime | None
    #: When the fan's oldest unanswered message arrived; ``None`` when nothing waits.
    waiting_since: datetime | None
    pinned: bool
    muted: bool
    vip: bool
    subscriber: bool
    # What the badges are made of (issue 16; see ``console.store.queue.badges``): the fan's
    # lifetime spend, their last tip or purchase, and their subscription.
    #: ``None`` while the fan's profile was never fetched (the console fetches it for the
    #: chats the queue shows).
    spend_millis: int | None = None
    last_purchase_at: datetime | None = None
    sub_status: str | None = None
    sub_started: datetime | None = None
    #: When the subscription ends unless renewed (its end, else its renewal date).
    sub_ends: datetime | None = None
    auto_renew: bool = False


class Maintenance(NamedTuple):
    """What one idle maintenance did: events pruned past the retention, WAL truncated."""

    pruned: int
    wal_truncated: bool


class MessageRow(NamedTuple):
    """One message of a thread, sent or local (pending/failed); an immutable named tuple,
    because a page of them is built every time a thread opens or scrolls."""

    #: Position in time order (unique); the paging cursor.
    pos: int
    account_id: str
    chat_id: str
    #: The server id; ``None`` while the message only exists locally.
    message_id: str | None
    client_id: str | None
    sender_id: str
    from_creator: bool
    text: str
    created_at: datetime
    reply_to_id: str | None
    #: The quoted message's text (plain, one line), when it is in the cache.
    reply_to_text: str | None
    attachments: list[Attachment]
    likes: list[Like]
    liked_by_creator: bool
    pinned: bool
    state: MessageState
    error: str | None
    tip_millis: int = 0
    #: Actions on this message waiting in the outbox ("like", "pin", ...), shown as queued.
    #: The store's queries leave it empty; the UI's source, which reads the outbox, fills it.
    queued: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """A stable id for the UI: the server id, or the client id while pending."""
        return self.message_id or self.client_id or f"pos:{self.pos}"

    def known_as(self, key: str) -> bool:
        """Whether ``key`` names this message: its key, or the client id it was sent with."""
        return key == self.key or (self.client_id is not None and key == self.client_id)


@dataclass(frozen=True, slots=True)
class FanRow:
    """The fan profile shown beside a thread."""

    account_id: str
    fan_id: str
    username: str
    display_name: str | None
    avatar_url: str | None
    subscription: Subscription | None
    lifetime_spend_millis: int | None
    tips_millis: int | None
    last_purchase_at: datetime | None
    last_purchase_millis: int | None
    lists: list[str]
    #: (time, gross thousandths) per transaction, oldest first.
    spend_history: list[tuple[datetime, int]]

    @property
    def name(self) -> str:
        return self.display_name or self.username


@dataclass(frozen=True, slots=True)
class Note:
    text: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Snippet:
    """Plain text around a search match; ``highlights`` are ``[start, end)`` offsets in it."""

    text: str
    highlights: list[tuple[int, int]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SearchHit:
    account_id: str
    chat_id: str
    fan_name: str
    #: The server id (``None`` for a local message: use ``pos``).
    message_id: str | None
    pos: int
    created_at: datetime
    from_creator: bool
    snippet: Snippet


class SearchHits(list[SearchHit]):
    """The hits of a search, newest first. ``since`` is ``None`` when every match was
    considered; otherwise the search stopped early (a 1-character or account- or chat-scoped
    query, see ``_queries.SCAN_BUDGET``) and read only the messages from ``since`` on: an
    older match may exist, and the reader is told so."""

    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    client_id: str
    account_id: str
    chat_id: str
    kind: OutboxKind
    payload: dict[str, Any]
    state: OutboxState
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AppliedEvent:
    """An event stored for the first time: its log position and the updates to publish."""

    seq: int
    event: Event
    updates: list[Update]


@dataclass(frozen=True, slots=True)
class BackfillState:
    """How far backfill got for an account's chat list (``chat_id`` None) or one chat."""

    account_id: str
    chat_id: str | None
    cursor: str | None
    done: bool
    fetched: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Gap:
    """Messages known to be missing between two cached messages of a chat."""

    id: int
    account_id: str
    chat_id: str
    #: The newer cached message id (fetch older than this) ...
    from_message_id: str
    #: ... down to this older cached one (``None``: down to the start).
    to_message_id: str | None
    created_at: datetime


class VaultAlbumRow(NamedTuple):
    album_id: str
    title: str
    item_count: int


class VaultItem(NamedTuple):
    """One cached vault item (the title is the creator's text: plain)."""

    media_id: str
    album_id: str | None
    kind: str
    title: str
    duration_s: int
    size_bytes: int
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class MediaMarks:
    """What one chat's fan already has: vault items sent to them, and bought (when, unix ms,
    ``None`` if only the gateway's ``purchased`` flag said so)."""

    sent: frozenset[str] = frozenset()
    bought: dict[str, int | None] = field(default_factory=dict)


class PurchaseRow(NamedTuple):
    media_id: str
    price_millis: int | None
    bought_at: datetime | None
    kind: str | None
    title: str | None
    duration_s: int | None
