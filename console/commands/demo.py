"""``fansly-console demo [--print]``: the console on the embedded sandbox.

For now both forms print a short view: the sandbox is started on a free loopback port and read
back through the real client, so the demo exercises the same path as a real gateway.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime

from console.output import terminal_text

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
    """Cut to ``width`` terminal cells (emoji take two) and pad to exactly that."""
    from rich.cells import cell_len, set_cell_size

    text = terminal_text(" ".join(text.split()))  # a one-line preview
    if cell_len(text) > width:
        text = set_cell_size(text, width - 1) + "…"
    return set_cell_size(text, width)


async def _view(args: argparse.Namespace, chats_per_account: int) -> list[str]:
    from console.api.client import FanslyClient
    from console.sandbox.server import SandboxServer

    # The view is read once: no reason to hold it to a plan's budget.
    sandbox = SandboxServer(seed=args.seed, size=args.size, requests_per_minute=100_000)
    lines: list[str] = []
    async with sandbox:
        base = sandbox.base_url
        async with FanslyClient(base, sandbox.api_key, requests_per_minute=100_000) as client:
            accounts = await client.list_accounts()
            count = f"{len(accounts)} account" + ("" if len(accounts) == 1 else "s")
            lines.append(f"Sandbox gateway at {base} — {count} (seed {args.seed})")
            for account in accounts:
                page = await client.chats_page(account.account_id, limit=chats_per_account)
                handle = f" @{terminal_text(account.username)}" if account.username else ""
                lines.append("")
                name, account_id = terminal_text(account.name), terminal_text(account.account_id)
                lines.append(f"■ {name}{handle}  [{account_id}]")
                now = datetime.now(UTC)
                for chat in page.items:
                    last = chat.last_message
                    badge = f"({chat.unread_count})" if chat.unread_count else ""
                    lines.append(
                        f"  {badge:>5} {_clip(chat.fan.name, _NAME)} "
                        f"{_age(last.created_at if last else None, now):>4}  "
                        f"{_clip(last.content if last else '', _PREVIEW).rstrip()}"
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
    if args.print:
        return print_demo(args)
    from console.tui.launch import run_demo

    return run_demo(args)
