"""The vault and PPV sends over real HTTP: the sandbox's vault routes, the client's calls, a PPV
with the exact media ids, access type and price, and a simulated purchase's signed
``sale.completed`` naming the vault item (docs/gateway-contract.md rows 7, 24, 25)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from support.api import Sandbox, start_sandbox

from console.api.errors import InvalidRequestError, NotFoundError
from console.api.models import duration_text, media_label, ppv_price_problem
from console.sandbox.world import build_world


@pytest.fixture
async def live() -> AsyncIterator[Sandbox]:
    async for running in start_sandbox():
        yield running


def test_vaults_are_deterministic_and_large_for_the_bench() -> None:
    a, b = build_world(7, "small"), build_world(7, "small")
    creator = a.first_account()
    assert 240 <= len(creator.vault) <= 360
    assert creator.vault == b.first_account().vault
    kinds = {item["type"] for item in creator.vault.values()}
    assert kinds == {1, 2, 3}
    assert sum(len(ids) for ids in creator.album_media.values()) == len(creator.vault)
    # Generated history's PPVs are vault photos, so their labels resolve.
    offered = {media for _fan, media in creator.offers}
    assert offered and offered <= set(creator.vault)
    assert len(build_world(7, "large").first_account().vault) == 10_000


async def test_albums_and_media_page_to_the_end(live: Sandbox) -> None:
    creator = live.creator
    acc = creator.account_id
    async with live.client() as client:
        albums = await client.vault_albums(acc)
        assert {a.id for a in albums} == set(creator.vault_albums)
        album = max(albums, key=lambda a: a.item_count)
        items = [m async for m in client.iter_vault_media(acc, album.id, limit=10)]
        first = await client.vault_media_page(acc, album.id, limit=7)
        with pytest.raises(NotFoundError):
            await client.vault_media_page(acc, "404")
    assert album.item_count == len(items) == len(creator.album_media[album.id]) > 7
    assert [m.id for m in items] == creator.album_media[album.id]  # newest first, no repeats
    assert len(first.items) == 7 and first.next_cursor is not None
    raw = creator.vault[items[0].id]
    assert items[0].title == raw["title"] and items[0].album_id == album.id
    assert items[0].kind == {1: "photo", 2: "video", 3: "audio"}[raw["type"]]
    assert items[0].duration_s == raw["duration"] and items[0].size_bytes == raw["size"]


async def test_a_ppv_arrives_with_the_exact_media_and_price_and_is_bought(live: Sandbox) -> None:
    creator = live.creator
    acc = creator.account_id
    chat = creator.chat_order()[3]
    photos = [m for m, item in creator.vault.items() if item["type"] == 1][-2:]
    preview = next(m for m, item in creator.vault.items() if item["type"] == 2)
    async with live.client() as client:
        sent = await client.send_message(
            acc, chat.id, "new set 🌊", media_ids=photos, price_dollars=15, preview_id=preview
        )
        earned_before = (await client.fan_earnings(acc, chat.fan_id)).total_gross_millis
        event = live.server.simulator.buy(creator, chat)
        earned_after = (await client.fan_earnings(acc, chat.fan_id)).total_gross_millis
        page = (await client.messages_page(acc, chat.id, limit=1)).items[0]
        free = await client.send_message(acc, chat.id, "a gift 🎁", media_ids=photos[:1])
    message = chat.messages[-2]
    assert message["id"] == sent.id
    assert [a["contentId"] for a in message["attachments"]] == photos
    assert [a.content_id for a in sent.attachments] == photos
    assert {a.price_millis for a in sent.attachments} == {15_000}
    assert all(creator.offers[(chat.fan_id, m)] == 15_000 for m in photos)
    # The fan buys the newest unsold PPV: a signed sale naming the vault id, and earnings follow.
    assert event is not None and event["event"] == "sale.completed"
    data = event["data"]
    assert data["accountMediaId"] == photos[0] and data["accountId"] == chat.fan_id
    assert data["orderMetadata"]["accountMediaPrice"] == 15_000
    assert earned_after - earned_before == 15_000
    # A page's accountMedia labels the attachments and says what was bought.
    assert page.id == sent.id
    by_id = {a.content_id: a for a in page.attachments}
    assert by_id[photos[0]].bought and by_id[photos[-1]].bought  # a PPV is bought whole
    assert by_id[photos[0]].kind == "photo"
    assert by_id[photos[0]].title == creator.vault[photos[0]]["title"]
    assert by_id[photos[0]].price_millis == 15_000
    assert free.attachments[0].price_millis is None


async def test_ppv_requests_are_checked_on_both_sides(live: Sandbox) -> None:
    creator = live.creator
    acc, chat = creator.account_id, creator.chat_order()[0]
    photo = next(iter(creator.vault))
    async with live.client() as client:
        for price in (0.5, 501, 12.345, float("nan")):
            with pytest.raises(InvalidRequestError):
                await client.send_message(acc, chat.id, "x", media_ids=[photo], price_dollars=price)
        with pytest.raises(InvalidRequestError, match="needs media"):
            await client.send_message(acc, chat.id, "x", price_dollars=10)
        with pytest.raises(InvalidRequestError, match="vault"):
            await client.send_message(acc, chat.id, "x", media_ids=["123"], price_dollars=10)
    assert ppv_price_problem(1) is None and ppv_price_problem(500) is None
    assert ppv_price_problem(14.99) is None


def test_media_labels() -> None:
    assert media_label("photo", "beach set 3", 0) == "📷 photo · 'beach set 3'"
    assert media_label("video", None, 42) == "🎬 video 0:42"
    assert media_label("audio", "hi", 3725) == "🎧 audio 1:02:05 · 'hi'"
    assert duration_text(0) == "0:00"
