"""The in-memory source's vault (tests, snapshots and the bench): generated albums and items,
PPVs sent from the picker, and purchases that mark them bought, as the cache would."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from console.api.models import Attachment, Message
from console.changes import (
    ChatChanged,
    FanChanged,
    MessageAdded,
    MessageChanged,
    OutboxChanged,
    UpdateBus,
)
from console.store.rows import (
    MediaMarks,
    MessageRow,
    MessageState,
    PurchaseRow,
    VaultAlbumRow,
    VaultItem,
)

_ALBUMS = ("Beach", "Selfies", "Gym", "Behind the scenes", "Voice notes")
_SUBJECTS = {
    "photo": ("beach set", "mirror selfie", "red dress", "sunset", "golden hour"),
    "video": ("workout clip", "dance", "try-on haul", "vlog"),
    "audio": ("good morning", "voice note"),
}


def make_vault(count: int, seed: int, now: datetime) -> tuple[list[VaultAlbumRow], list[VaultItem]]:
    """``count`` items over five albums, newest first (deterministic)."""
    rng = random.Random(f"{seed}:vault")
    albums = [VaultAlbumRow(f"alb{n}", title, 0) for n, title in enumerate(_ALBUMS)]
    items: list[VaultItem] = []
    counters: dict[str, int] = {}
    for i in range(count):
        kind = rng.choice(("photo", "photo", "photo", "video", "audio"))
        subject = rng.choice(_SUBJECTS[kind])
        counters[subject] = counters.get(subject, 0) + 1
        items.append(
            VaultItem(
                media_id=f"m{i:05d}",
                album_id=albums[i % len(albums)].album_id,
                kind=kind,
                title=f"{subject} {counters[subject]}",
                duration_s=0 if kind == "photo" else rng.randint(5, 300),
                size_bytes=rng.randint(200_000, 9_000_000),
                created_at=now - timedelta(hours=count - i),
            )
        )
    items.reverse()
    sizes = {a.album_id: 0 for a in albums}
    for item in items:
        sizes[item.album_id or ""] = sizes.get(item.album_id or "", 0) + 1
    return [a._replace(item_count=sizes[a.album_id]) for a in albums], items


class MemoryVault:
    """Mixed into :class:`fakes_tui.MemorySource` (which provides what is declared
    here)."""

    bus: UpdateBus
    now: datetime
    calls: list[tuple[str, tuple[object, ...]]]
    vault_size: int
    vaults: dict[str, tuple[list[VaultAlbumRow], list[VaultItem]]]
    purchases: dict[str, list[PurchaseRow]]
    _by_id: dict[tuple[str, str], Any]
    _ids: Iterator[int]

    def _me(self, account_id: str) -> str:
        raise NotImplementedError

    def _live(self) -> None:
        raise NotImplementedError

    def _message(
        self, chat: Any, msg: Message, from_creator: bool, state: MessageState = MessageState.SENT
    ) -> MessageRow:
        raise NotImplementedError

    def _vault_of(self, account_id: str) -> tuple[list[VaultAlbumRow], list[VaultItem]]:
        if account_id not in self.vaults:
            self.vaults[account_id] = make_vault(self.vault_size, len(self.vaults) + 7, self.now)
        return self.vaults[account_id]

    async def vault(self, account_id: str) -> tuple[list[VaultAlbumRow], list[VaultItem]]:
        return self._vault_of(account_id)

    async def refresh_vault(self, account_id: str) -> int:
        self._live()
        return len(self._vault_of(account_id)[1])

    async def media_marks(self, account_id: str, chat_id: str) -> MediaMarks:
        chat = self._by_id[(account_id, chat_id)]
        sent: set[str] = set()
        bought: dict[str, int | None] = {}
        for row in chat.messages:
            if not row.from_creator or row.state in (MessageState.FAILED, MessageState.UNSENT):
                continue
            for a in row.attachments:
                sent.add(a.content_id)
                if a.bought:
                    bought[a.content_id] = a.bought_at_ms
        return MediaMarks(frozenset(sent), bought)

    async def send_media(
        self,
        account_id: str,
        chat_id: str,
        text: str,
        media_ids: Sequence[str],
        price_dollars: float | None,
        preview_id: str | None,
        reply_to: str | None,
    ) -> str:
        self.calls.append(
            ("send_media", (account_id, chat_id, text, tuple(media_ids), price_dollars, preview_id))
        )
        known = {item.media_id: item for item in self._vault_of(account_id)[1]}
        price = round(price_dollars * 1000) if price_dollars is not None else None
        attachments = []
        for pos, media_id in enumerate(media_ids):
            item = known.get(media_id)
            attachments.append(
                Attachment(
                    content_id=media_id,
                    pos=pos,
                    kind=item.kind if item else None,
                    title=item.title if item else None,
                    duration_s=item.duration_s if item else None,
                    price_millis=price,
                )
            )
        chat = self._by_id[(account_id, chat_id)]
        msg = Message(
            id=str(next(self._ids)),
            chat_id=chat_id,
            sender_id=self._me(account_id),
            content=text,
            created_at=self.now,
            in_reply_to=reply_to,
            attachments=attachments,
        )
        chat.messages.append(self._message(chat, msg, True, MessageState.PENDING))
        chat.unread = 0
        self.bus.publish(MessageAdded(account_id, chat_id, msg.id))
        self.bus.publish(ChatChanged(account_id, chat_id))
        self.bus.publish(OutboxChanged(account_id, 1, 0))
        return msg.id

    def buy(self, account_id: str, chat_id: str, message_id: str, at: datetime) -> None:
        """The fan buys the PPV ``message_id`` (what a ``sale.completed`` does to the cache)."""
        chat = self._by_id[(account_id, chat_id)]
        at_ms = int(at.timestamp() * 1000)
        for i, row in enumerate(chat.messages):
            if row.key != message_id:
                continue
            items = [
                a.model_copy(update={"bought": True, "bought_at_ms": at_ms})
                for a in row.attachments
            ]
            chat.messages[i] = row._replace(attachments=items)
            price = items[0].price_millis if items else None
            known = {v.media_id: v for v in self._vault_of(account_id)[1]}
            first = known.get(items[0].content_id) if items else None
            self.purchases.setdefault(chat.fan.id, []).insert(
                0,
                PurchaseRow(
                    items[0].content_id if items else "",
                    price,
                    at,
                    first.kind if first else None,
                    first.title if first else None,
                    first.duration_s if first else None,
                ),
            )
        self.bus.publish(MessageChanged(account_id, chat_id, message_id))
        self.bus.publish(FanChanged(account_id, chat.fan.id))
