"""The creator's vault in the cache, the fans' purchases, and what each item is to one fan.

The vault is cached whole per account (a few hundred items, 10,000 at most in practice): the
picker reads it from here at once, offline too, while a fresh copy is fetched. A purchase
(``sale.completed`` naming a vault item) is kept per (account, fan, item) and marks every
message of that fan carrying the item as bought: a PPV is bought whole, so all of the
message's items are.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING

from console.changes import MessageChanged, Update
from console.store._core import StoreCore, dt, dumps, ms, now_ms
from console.store.rows import MediaMarks, PurchaseRow, VaultAlbumRow, VaultItem

if TYPE_CHECKING:
    from console.api.models import VaultAlbum, VaultMedia

#: The keys of a stored attachment that say what the item is and what happened to it.
_DETAILS = ("kind", "title", "duration_s", "price_millis", "bought", "bought_at_ms")


def merge_attachments(stored: str | None, incoming: str) -> str:
    """``incoming`` attachments (JSON), with what ``stored`` knew of the same items kept: a
    webhook's copy of a message carries bare ids, the page's or the send's copy carries the
    title, the price and whether it was bought (never taken back)."""
    if not stored or stored == "[]" or incoming == "[]":
        return incoming
    known = {a.get("content_id"): a for a in json.loads(stored)}
    merged = []
    for item in json.loads(incoming):
        before = known.get(item.get("content_id"))
        if before:
            for key in _DETAILS:
                if item.get(key) in (None, False) and before.get(key) not in (None, False):
                    item[key] = before[key]
        merged.append(item)
    return dumps(merged)


def labelled(db: sqlite3.Connection, account_id: str, attachments_json: str) -> str:
    """Attachments (JSON) with what the cached vault says of items that came bare (a webhook's
    copy of a message carries ids only): kind, title, duration."""
    if attachments_json == "[]" or (
        '"kind":null' not in attachments_json and '"kind"' in attachments_json
    ):
        return attachments_json  # nothing bare (items cached before v8 have no "kind" key)
    items = json.loads(attachments_json)
    bare = [a["content_id"] for a in items if a.get("kind") is None and a.get("content_id")]
    if not bare:
        return attachments_json
    marks = ",".join("?" * len(bare))
    known = {
        row[0]: row
        for row in db.execute(
            f"SELECT media_id, kind, title, duration_s FROM vault_media "
            f"WHERE account_id = ? AND media_id IN ({marks})",
            (account_id, *bare),
        )
    }
    if not known:
        return attachments_json
    for item in items:
        row = known.get(item.get("content_id"))
        if row is not None and item.get("kind") is None:
            item["kind"], item["title"], item["duration_s"] = row[1], row[2], row[3] or None
    return dumps(items)


def pending_attachments(
    db: sqlite3.Connection, account_id: str, media_ids: Sequence[str], price_millis: int | None
) -> str:
    """The attachments a queued send shows at once: its vault items, labelled from the cached
    vault, with the PPV price."""
    if not media_ids:
        return "[]"
    marks = ",".join("?" * len(media_ids))
    known = {
        row[0]: row
        for row in db.execute(
            f"SELECT media_id, kind, title, duration_s FROM vault_media "
            f"WHERE account_id = ? AND media_id IN ({marks})",
            (account_id, *media_ids),
        )
    }
    items = []
    for pos, media_id in enumerate(media_ids):
        row = known.get(media_id)
        items.append(
            {
                "content_type": 1,
                "content_id": media_id,
                "pos": pos,
                "kind": row[1] if row else None,
                "title": row[2] if row else None,
                "duration_s": row[3] if row else None,
                "price_millis": price_millis,
                "bought": False,
                "bought_at_ms": None,
            }
        )
    return dumps(items)


def record_purchase(
    db: sqlite3.Connection,
    account_id: str,
    fan_id: str,
    chat_id: str | None,
    media_id: str,
    order_id: str,
    price_millis: int | None,
    at_ms: int,
) -> list[Update]:
    """Keep one purchase and mark the fan's messages carrying the item as bought (all of each
    such message's items: a PPV is bought whole)."""
    if chat_id:
        # A chat first seen through our own send does not know its fan yet: the sale says.
        db.execute(
            "UPDATE chats SET fan_id = ? WHERE chat_id = ? AND account_id = ? AND fan_id IS NULL",
            (fan_id, chat_id, account_id),
        )
    db.execute(
        """INSERT INTO purchases(account_id, fan_id, media_id, order_id, price_millis, bought_at)
        VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT(account_id, fan_id, media_id) DO UPDATE SET
            bought_at = MIN(purchases.bought_at, excluded.bought_at)""",
        (account_id, fan_id, media_id, order_id, price_millis, at_ms),
    )
    updates: list[Update] = []
    rows = db.execute(
        """SELECT m.pos, m.message_id, m.client_id, m.chat_id, m.attachments_json
        FROM chats c JOIN messages m ON m.chat_id = c.chat_id
        WHERE c.account_id = ? AND (c.fan_id = ? OR c.chat_id = ?) AND m.from_creator = 1
            AND m.attachments_json != '[]' AND instr(m.attachments_json, ?) > 0""",
        (account_id, fan_id, chat_id or "", f'"{media_id}"'),
    ).fetchall()
    for pos, message_id, client_id, chat_id, attachments_json in rows:
        items = json.loads(attachments_json)
        if not any(a.get("content_id") == media_id for a in items):
            continue
        for item in items:
            item["bought"] = True
            if item.get("bought_at_ms") is None or item["bought_at_ms"] > at_ms:
                item["bought_at_ms"] = at_ms
        db.execute("UPDATE messages SET attachments_json = ? WHERE pos = ?", (dumps(items), pos))
        updates.append(MessageChanged(account_id, chat_id, message_id or client_id))
    return updates


class VaultData(StoreCore):
    """The cached vault and purchases (mixed into :class:`~console.store.Store`)."""

    async def save_vault(
        self, account_id: str, albums: Sequence[VaultAlbum], items: Sequence[VaultMedia]
    ) -> None:
        """Replace the account's cached vault with what the gateway listed (newest first)."""

        def work(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM vault_albums WHERE account_id = ?", (account_id,))
            db.execute("DELETE FROM vault_media WHERE account_id = ?", (account_id,))
            db.executemany(
                "INSERT OR REPLACE INTO vault_albums(account_id, album_id, title, item_count, "
                "position) VALUES (?, ?, ?, ?, ?)",
                [(account_id, a.id, a.title, a.item_count, n) for n, a in enumerate(albums)],
            )
            db.executemany(
                "INSERT OR REPLACE INTO vault_media(account_id, media_id, album_id, kind, title, "
                "duration_s, size_bytes, created_at, position) VALUES (?,?,?,?,?,?,?,?,?)",
                [
                    (
                        account_id,
                        m.id,
                        m.album_id,
                        m.kind,
                        m.title,
                        m.duration_s,
                        m.size_bytes,
                        ms(m.created_at),
                        n,
                    )
                    for n, m in enumerate(items)
                ],
            )

            # Messages cached before the vault was: their bare items get their labels now.
            rows = db.execute(
                "SELECT pos, attachments_json FROM messages WHERE account_id = ? "
                "AND from_creator = 1 AND attachments_json != '[]' "
                "AND (instr(attachments_json, '\"kind\":null') > 0 "
                "OR instr(attachments_json, '\"kind\"') = 0)",
                (account_id,),
            ).fetchall()
            for pos, attachments_json in rows:
                fresh = labelled(db, account_id, attachments_json)
                if fresh != attachments_json:
                    db.execute(
                        "UPDATE messages SET attachments_json = ? WHERE pos = ?", (fresh, pos)
                    )

        await self._write(work)

    async def vault(self, account_id: str) -> tuple[list[VaultAlbumRow], list[VaultItem]]:
        """The cached albums and items of an account (items newest first)."""
        albums = await self._read(
            "SELECT album_id, title, item_count FROM vault_albums WHERE account_id = ? "
            "ORDER BY position",
            (account_id,),
        )
        items = await self._read(
            "SELECT media_id, album_id, kind, title, duration_s, size_bytes, created_at "
            "FROM vault_media WHERE account_id = ? ORDER BY position",
            (account_id,),
        )
        return (
            [VaultAlbumRow(*row) for row in albums],
            [VaultItem(r[0], r[1], r[2], r[3], r[4], r[5], dt(r[6])) for r in items],
        )

    async def media_marks(self, account_id: str, chat_id: str) -> MediaMarks:
        """What this chat's fan already has: items sent to them (not failed or unsent) and
        items they bought (with when, if known)."""
        rows = await self._read(
            "SELECT attachments_json FROM messages WHERE chat_id = ? AND from_creator = 1 "
            "AND attachments_json != '[]' AND state IN ('sent', 'pending')",
            (chat_id,),
        )
        sent: set[str] = set()
        bought: dict[str, int | None] = {}
        for (attachments_json,) in rows:
            for item in json.loads(attachments_json):
                media_id = str(item.get("content_id"))
                sent.add(media_id)
                if item.get("bought"):
                    bought[media_id] = item.get("bought_at_ms") or bought.get(media_id)
        purchases = await self._read(
            "SELECT p.media_id, p.bought_at FROM purchases p JOIN chats c "
            "ON c.account_id = p.account_id AND c.fan_id = p.fan_id WHERE c.chat_id = ?",
            (chat_id,),
        )
        for media_id, at in purchases:
            bought[media_id] = at
        return MediaMarks(frozenset(sent), bought)

    async def purchases(self, account_id: str, fan_id: str, limit: int = 50) -> list[PurchaseRow]:
        """The fan's purchases (from sale events), newest first, labelled from the vault."""
        rows = await self._read(
            """SELECT p.media_id, p.price_millis, p.bought_at, v.kind, v.title, v.duration_s
            FROM purchases p LEFT JOIN vault_media v
                ON v.account_id = p.account_id AND v.media_id = p.media_id
            WHERE p.account_id = ? AND p.fan_id = ? ORDER BY p.bought_at DESC LIMIT ?""",
            (account_id, fan_id, limit),
        )
        return [PurchaseRow(r[0], r[1], dt(r[2]), r[3], r[4], r[5]) for r in rows]


__all__ = ["VaultData", "merge_attachments", "now_ms", "pending_attachments", "record_purchase"]
