"""``fansly-console demo [--print]``: the console on the embedded sandbox.

For now both forms print a short view: the sandbox is started on a free loopback port and read
back through the real client, so the demo exercises the same path as a real gateway.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
from datetime import UTC, datetime

from console.commands.accounts import plain

_PREVIEW = 48
_NAME = 22


def _age(when: datetime | None, now: datetime) -> str:
    if when is None:
        return ""
    seconds = max(int((now - when).total_seconds()), 0)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return "now"


def _clip(text: str, width: int) -> str:
    text = plain(text)
    return text if len(text) <= width else text[: width - 1] + "…"


async def _view(args: argparse.Namespace, chats_per_account: int) -> list[str]:
    from console.api.client import FanslyClient
    from console.sandbox.app import create_app
    from console.sandbox.world import build_world
    from console.serving import EmbeddedServer

    key = secrets.token_urlsafe(24)
    world = build_world(args.seed, args.size)
    # The view is read once: no reason to hold it to a plan's budget.
    app = create_app(world, api_key=key, requests_per_minute=100_000)
    lines: list[str] = []
    async with EmbeddedServer(app, "127.0.0.1", 0) as server:
        base = f"{server.url}/api/fansly"
        async with FanslyClient(base, key, requests_per_minute=100_000) as client:
            accounts = await client.list_accounts()
            lines.append(f"Sandbox gateway at {base} — {len(accounts)} accounts (seed {args.seed})")
            for account in accounts:
                page = await client.chats_page(account.account_id, limit=chats_per_account)
                handle = f" @{plain(account.username)}" if account.username else ""
                lines.append("")
                lines.append(f"■ {plain(account.name)}{handle}  [{plain(account.account_id)}]")
                now = datetime.now(UTC)
                for chat in page.items:
                    last = chat.last_message
                    badge = f"({chat.unread_count})" if chat.unread_count else ""
                    lines.append(
                        f"  {badge:>5} {_clip(chat.fan.name, _NAME):<{_NAME}} "
                        f"{_age(last.created_at if last else None, now):>4}  "
                        f"{_clip(last.content if last else '', _PREVIEW)}"
                    )
    return lines


def print_demo(args: argparse.Namespace, chats_per_account: int = 5) -> int:
    """Start the sandbox, print each account's latest chats through the client, stop."""
    from console.api.errors import ApiError

    try:
        lines = asyncio.run(_view(args, chats_per_account))
    except (ApiError, OSError) as exc:
        import sys

        print(f"fansly-console: the sandbox demo failed: {exc}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


def run(args: argparse.Namespace) -> int:
    return print_demo(args)
