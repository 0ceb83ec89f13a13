"""``fansly-console search QUERY``: search the offline cache, no network and no API key."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from console.store import SearchHit, SearchHits, Store

EXIT_NO_CACHE = 1
MATCH_STYLE = "bold reverse"


def cache_path(args: argparse.Namespace) -> tuple[str, Path]:
    """The profile named by ``--profile`` (or the default one) and its cache file."""
    from console.config import load_settings
    from console.store import store_path

    settings = load_settings()
    profile = getattr(args, "profile", None) or settings.default_profile
    return profile, store_path(profile)


def no_cache(profile: str, path: Path) -> int:
    hint = "fansly-console sync" + ("" if profile == "default" else f" --profile {profile}")
    print(
        f"fansly-console: there is no offline cache for profile {profile!r} yet ({path}).\n"
        f"Fill it with `{hint}`.",
        file=sys.stderr,
    )
    return EXIT_NO_CACHE


async def open_to_read(path: Path) -> Store:
    """The cache, for a verb that only reads it: opened as usual, or read-only when it cannot
    be written (a 0400 file, a read-only folder). A damaged one raises ``CacheDamaged``."""
    from console.store import Store
    from console.store.problems import CacheReadOnly

    try:
        return await Store.open(path)
    except CacheReadOnly:
        return await Store.open(path, read_only=True)


def hit_json(hit: SearchHit) -> dict[str, Any]:
    return {
        "account_id": hit.account_id,
        "chat_id": hit.chat_id,
        "fan_name": hit.fan_name,
        "message_id": hit.message_id,
        "pos": hit.pos,
        "created_at": hit.created_at.isoformat(),
        "from_creator": hit.from_creator,
        "snippet": hit.snippet.text,
        "highlights": [list(span) for span in hit.snippet.highlights],
    }


def print_hits(hits: list[SearchHit], zone: tzinfo | None = None) -> None:
    """Each hit as plain text; matches are styled ranges of a ``Text``, never markup. Times
    in ``zone`` (``[ui] timezone``; None: the machine's zone), like the console's."""
    from rich.console import Console
    from rich.text import Text

    from console.output import terminal_text
    from console.store.text import one_line

    console = Console(highlight=False, soft_wrap=False, emoji=False)
    for hit in hits:
        who = "you" if hit.from_creator else one_line(hit.fan_name, 60) or "(unknown fan)"
        when = hit.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        header = Text(f"{when}  {terminal_text(who)}  ", style="bold")
        header.append(
            Text(f"{terminal_text(hit.account_id)} / chat {terminal_text(hit.chat_id)}", "dim")
        )
        console.print(header)
        # Escaped piece by piece: an escape is longer than its character, and the highlights
        # are offsets into the snippet.
        body = Text("  ")
        text, at = hit.snippet.text, 0
        for start, end in hit.snippet.highlights:
            body.append(terminal_text(text[at:start]))
            body.append(terminal_text(text[start:end]), MATCH_STYLE)
            at = end
        body.append(terminal_text(text[at:]))
        console.print(body)
    if not hits:
        console.print(Text("no matches", style="dim"))


def run(args: argparse.Namespace) -> int:
    profile, path = cache_path(args)
    if not path.exists():
        return no_cache(profile, path)

    async def search() -> SearchHits:
        async with await open_to_read(path) as store:
            return await store.search(
                args.query, account_id=args.account, chat_id=args.chat, limit=max(0, args.limit)
            )

    hits = asyncio.run(search())
    if args.json:
        from console.output import terminal_json

        print(terminal_json([hit_json(hit) for hit in hits], indent=2))
    else:
        from console.config import load_settings
        from console.tui.zone import zone_named  # no Textual: plain datetime helpers

        print_hits(hits, zone_named(load_settings().ui.timezone))
    if hits.since is not None:
        # The JSON stays a plain list; the note goes beside it, never into it.
        print(
            f"note: searched the messages since {hits.since.isoformat()} only (a 1-letter or "
            "an --account/--chat search stops early); a longer query searches everything",
            file=sys.stderr,
        )
    return 0
