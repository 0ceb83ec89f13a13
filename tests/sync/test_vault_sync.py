"""PPVs through the outbox and the cache: the vault cached from the gateway, a PPV shown at once
with its items' labels and price, delivered exactly once across faults, and bought when the
fan's ``sale.completed`` arrives (marks for the picker, purchases for the profile)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from support.sync import chat_of, creator_of, open_workspace, set_faults

from console.sandbox.server import SandboxServer
from console.sandbox.simulator import sign_delivery
from console.store.rows import MessageState, OutboxState
from console.sync.engine import Workspace
from console.webhooks.normalise import event_from_delivery


async def _started(server: SandboxServer, path: Path, **options: object) -> Workspace:
    workspace = await open_workspace(server, path, **options)  # type: ignore[arg-type]
    await workspace.start(backfill=False)
    await workspace.wait_attached()
    return workspace


async def _drained(workspace: Workspace) -> None:
    async with asyncio.timeout(15):
        await workspace.drain_outbox()


def _photos(server: SandboxServer, n: int) -> list[str]:
    creator = creator_of(server)
    return [m for m, item in creator.vault.items() if item["type"] == 1][-n:]


async def _deliver(workspace: Workspace, server: SandboxServer, body: dict[str, object]) -> None:
    """A signed delivery, verified and normalised as the listener does, applied."""
    raw, headers = sign_delivery(body, server.webhook_secret)
    await workspace.apply_event(event_from_delivery(raw, headers))


@pytest.mark.parametrize(
    "faults",
    [
        [{"route": "send_message", "status": 500}, {"route": "send_message", "status": 503}],
        [{"route": "send_message", "delay_after_apply": 2.0}],
        [{"route": "send_message", "status": 429}],
    ],
    ids=["5xx", "lost-answer", "429"],
)
async def test_a_ppv_is_delivered_exactly_once_across_faults(
    sandbox_async: SandboxServer, tmp_path: Path, faults: list[dict[str, object]]
) -> None:
    creator, chat = creator_of(sandbox_async), chat_of(sandbox_async, 4)
    photos = _photos(sandbox_async, 2)
    await set_faults(sandbox_async, *faults)
    async with await _started(sandbox_async, tmp_path / "c.sqlite3", timeout=0.5) as workspace:
        client_id = await workspace.send_media(
            creator.account_id, chat.id, "just for you 🌊", photos, price_dollars=15
        )
        await _drained(workspace)
        item = await workspace.store.outbox.item(client_id)
        assert item is not None and item.state is OutboxState.SENT
        copies = [m for m in chat.messages if m["content"] == "just for you 🌊"]
        assert len(copies) == 1
        assert [a["contentId"] for a in copies[0]["attachments"]] == photos
        assert all(creator.offers[(chat.fan_id, p)] == 15_000 for p in photos)
        row = await workspace.store.message(client_id)
        assert row is not None and row.state is MessageState.SENT
        assert row.message_id == copies[0]["id"]
        assert [a.price_millis for a in row.attachments] == [15_000, 15_000]


async def test_vault_labels_marks_and_a_purchase_in_the_cache(
    sandbox_async: SandboxServer, tmp_path: Path
) -> None:
    creator, chat = creator_of(sandbox_async), chat_of(sandbox_async, 1)
    photos = _photos(sandbox_async, 2)
    async with await _started(sandbox_async, tmp_path / "c.sqlite3") as workspace:
        acc = creator.account_id
        assert await workspace.refresh_vault(acc) == len(creator.vault)
        albums, items = await workspace.store.vault.contents(acc)
        assert {a.album_id for a in albums} == set(creator.vault_albums)
        assert {i.media_id for i in items} == set(creator.vault)
        assert [i.created_at for i in items] == sorted((i.created_at for i in items), reverse=True)

        client_id = await workspace.send_media(acc, chat.id, "new set", photos, price_dollars=15)
        pending = await workspace.store.message(client_id)
        assert pending is not None
        # Shown at once, labelled from the cached vault, with its price.
        assert [a.title for a in pending.attachments] == [creator.vault[p]["title"] for p in photos]
        assert {a.kind for a in pending.attachments} == {"photo"}
        assert {a.price_millis for a in pending.attachments} == {15_000}
        await _drained(workspace)
        marks = await workspace.store.vault.media_marks(acc, chat.id)
        assert set(photos) <= marks.sent and not set(photos) & set(marks.bought)

        body = sandbox_async.simulator.buy(creator, chat)
        assert body is not None
        await _deliver(workspace, sandbox_async, body)
        row = await workspace.store.message(client_id)
        assert row is not None and all(a.bought and a.bought_at_ms for a in row.attachments)
        assert row.attachments[0].title == creator.vault[photos[0]]["title"]  # kept
        marks = await workspace.store.vault.media_marks(acc, chat.id)
        assert set(photos) <= set(marks.bought)
        purchases = await workspace.store.vault.purchases(acc, chat.fan_id)
        assert purchases[0].media_id == photos[0] and purchases[0].price_millis == 15_000
        assert purchases[0].title == creator.vault[photos[0]]["title"]
        # The fan bought it; the same delivery again changes nothing.
        await _deliver(workspace, sandbox_async, body)
        assert len(await workspace.store.vault.purchases(acc, chat.fan_id)) == len(purchases)


async def test_media_refused_before_queueing(sandbox_async: SandboxServer, tmp_path: Path) -> None:
    creator, chat = creator_of(sandbox_async), chat_of(sandbox_async)
    photos = _photos(sandbox_async, 1)
    async with await _started(sandbox_async, tmp_path / "c.sqlite3") as workspace:
        acc = creator.account_id
        for price in (0, 0.99, 500.01, 20.001):
            with pytest.raises(ValueError, match="PPV price"):
                await workspace.send_media(acc, chat.id, "x", photos, price_dollars=price)
        with pytest.raises(ValueError, match="no media"):
            await workspace.send_media(acc, chat.id, "x", [], price_dollars=5)
        free = await workspace.send_media(acc, chat.id, "a gift", photos)
        await _drained(workspace)
        row = await workspace.store.message(free)
        assert row is not None and row.state is MessageState.SENT
        assert row.attachments[0].price_millis is None
        assert chat.messages[-1]["attachments"][0]["contentId"] == photos[0]


async def test_bare_media_of_a_webhook_copy_are_labelled_from_the_vault(
    sandbox_async: SandboxServer, tmp_path: Path
) -> None:
    """A ``message.sent`` webhook carries attachment ids only: cached before the vault, the
    item is labelled once the vault is fetched; after it, at once."""
    creator, chat = creator_of(sandbox_async), chat_of(sandbox_async, 2)
    before, after = _photos(sandbox_async, 2)
    async with await _started(sandbox_async, tmp_path / "c.sqlite3") as workspace:
        acc = creator.account_id

        async def sent_elsewhere(media_id: str) -> str:
            message = sandbox_async.world.add_message(
                creator,
                chat,
                sender_id=creator.native_id,
                content="from the web console",
                attachments=[{"contentType": 1, "contentId": media_id}],
            )
            body = {
                "event": "message.sent",
                "idempotencyKey": f"evt_{message['id']}",
                "accountId": acc,
                "timestamp": "2026-12-06T12:00:00Z",
                "data": message,
            }
            await _deliver(workspace, sandbox_async, body)
            return str(message["id"])

        first = await sent_elsewhere(before)
        row = await workspace.store.message(first)
        assert row is not None and row.attachments[0].kind is None
        await workspace.refresh_vault(acc)
        row = await workspace.store.message(first)
        assert row is not None and row.attachments[0].title == creator.vault[before]["title"]
        second = await sent_elsewhere(after)
        row = await workspace.store.message(second)
        assert row is not None and row.attachments[0].label == (
            f"📷 photo · '{creator.vault[after]['title']}'"
        )
