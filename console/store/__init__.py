"""The offline cache: one SQLite file per profile (see ``Store``)."""

from console.store._identity import SET_ASIDE, SetAside, is_set_aside
from console.store._outbox import OutboxNotFound
from console.store.rows import (
    AccountRow,
    AppliedEvent,
    BackfillState,
    ChatFilter,
    ChatRow,
    FanRow,
    Gap,
    Maintenance,
    MediaMarks,
    MessageRow,
    MessageState,
    Note,
    OutboxItem,
    OutboxKind,
    OutboxState,
    PurchaseRow,
    SearchHit,
    Snippet,
    VaultAlbumRow,
    VaultItem,
)
from console.store.schema import SCHEMA_VERSION, SchemaTooNew
from console.store.store import Store, store_path

__all__ = [
    "SCHEMA_VERSION",
    "SET_ASIDE",
    "AccountRow",
    "AppliedEvent",
    "BackfillState",
    "ChatFilter",
    "ChatRow",
    "FanRow",
    "Gap",
    "Maintenance",
    "MediaMarks",
    "MessageRow",
    "MessageState",
    "Note",
    "OutboxItem",
    "OutboxKind",
    "OutboxNotFound",
    "OutboxState",
    "PurchaseRow",
    "SchemaTooNew",
    "SearchHit",
    "SetAside",
    "Snippet",
    "Store",
    "VaultAlbumRow",
    "VaultItem",
    "is_set_aside",
    "store_path",
]
