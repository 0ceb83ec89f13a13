"""The creators' vaults (§15): albums of photos, videos and audio, and their two routes.

Shapes are ASSUMED (the reference has the routes only, [A2]); docs/gateway-contract.md rows
24-25 are the decision. A vault item is Fansly's ``accountMedia``: its ``id`` is what a send's
``mediaIds`` names, what the sent message's attachment carries as ``contentId``, and what a
purchase's ``sale.completed`` carries as ``accountMediaId`` (§10.2, §16.1).

Vault ids never come from :meth:`World.new_id`: that would move the sequence every later id
of the world is minted with, and the seed's world would change. They are snowflakes of the
creator's sign-up millisecond with sequence numbers from ``0x80000`` up, which nothing else
uses.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from console.sandbox.world import CreatorState

_EPOCH_MS = 1_420_070_400_000
_SEQ_BASE = 0x80000
#: Items per vault: a few hundred; the first creator of the large world has the bench's 10,000.
DEFAULT_ITEMS = (240, 360)
LARGE_ITEMS = 10_000

_ALBUMS: tuple[tuple[str, str], ...] = (
    # (title, kind of media it mostly holds)
    ("Beach", "photo"),
    ("Gym & fitness", "video"),
    ("Behind the scenes", "video"),
    ("Selfies", "photo"),
    ("Voice notes", "audio"),
    ("Cosplay", "photo"),
    ("Travel", "photo"),
    ("Customs", "video"),
)
_SUBJECTS: dict[str, tuple[str, ...]] = {
    "photo": (
        "beach set",
        "mirror selfie",
        "red dress",
        "sunset",
        "golden hour",
        "bikini set",
        "morning coffee",
        "poolside",
        "studio shoot",
        "city lights",
    ),
    "video": (
        "workout clip",
        "dance",
        "behind the scenes",
        "try-on haul",
        "shower tease",
        "vlog",
        "q&a",
        "stretching",
    ),
    "audio": ("good morning", "bedtime story", "voice note", "thank you", "asmr"),
}
_MIME = {"photo": "image/jpeg", "video": "video/mp4", "audio": "audio/mpeg"}


def _vault_id(created_ms: int, n: int) -> str:
    return str(((created_ms - _EPOCH_MS) << 20) | (_SEQ_BASE + n))


def build_vault(creator: CreatorState, seed_key: str, large: bool, ref_ms: int) -> None:
    """Fill ``creator``'s vault: a few hundred items over a few albums, or ``LARGE_ITEMS``
    (deterministic: its own random stream, so the rest of the world is unchanged)."""
    rng = random.Random(f"{seed_key}:vault")
    count = LARGE_ITEMS if large else rng.randint(*DEFAULT_ITEMS)
    created_ms = int(creator.account.get("createdAt") or ref_ms - 400 * 86_400_000)
    albums = list(_ALBUMS)
    rng.shuffle(albums)
    albums = albums[: rng.randint(5, len(albums))]
    n = 0
    for title, _kind in albums:
        album_id = _vault_id(created_ms, n)
        n += 1
        creator.vault_albums[album_id] = {
            "id": album_id,
            "title": title,
            "type": "custom",
            "itemCount": 0,
            "createdAt": created_ms + n * 1000,
        }
        creator.album_media[album_id] = []
    album_ids = list(creator.vault_albums)
    counters: dict[str, int] = {}
    span = max(1, ref_ms - created_ms)
    for i in range(count):
        album_id = album_ids[i % len(album_ids)]
        kind = next(k for t, k in albums if creator.vault_albums[album_id]["title"] == t)
        if rng.random() < 0.25:  # albums are mostly one kind, not only
            kind = rng.choice(("photo", "photo", "video", "audio"))
        subject = rng.choice(_SUBJECTS[kind])
        counters[subject] = counters.get(subject, 0) + 1
        media_id = _vault_id(created_ms, n)
        n += 1
        width, height = rng.choice(((1080, 1350), (1920, 1080), (1080, 1920)))
        duration = 0
        if kind == "video":
            duration = rng.randint(8, 600)
        elif kind == "audio":
            duration = rng.randint(5, 180)
        size = {
            "photo": rng.randint(300_000, 6_000_000),
            "video": duration * rng.randint(300_000, 1_200_000),
            "audio": duration * 16_000,
        }[kind]
        item = {
            "id": media_id,
            "albumId": album_id,
            "title": f"{subject} {counters[subject]}",
            "mimetype": _MIME[kind],
            "type": {"photo": 1, "video": 2, "audio": 3}[kind],
            "duration": duration,
            "size": size,
            "width": 0 if kind == "audio" else width,
            "height": 0 if kind == "audio" else height,
            "createdAt": created_ms + (i + 1) * span // (count + 1),
        }
        creator.vault[media_id] = item
        creator.album_media[album_id].append(media_id)
    for album_id, ids in creator.album_media.items():
        ids.reverse()  # newest first, as the route pages them
        creator.vault_albums[album_id]["itemCount"] = len(ids)


def photo_ids(creator: CreatorState) -> list[str]:
    """The vault's photos, oldest first (generated history's PPVs pick among them)."""
    return [mid for mid, item in creator.vault.items() if item["type"] == 1]
