"""``fansly-console accounts [--json] [--profile NAME]``: the accounts the API key sees."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from console.output import terminal_json, terminal_text

EXIT_GATEWAY = 1


def columns(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    """Plain left-aligned columns (no markup; names come from the gateway and from fans, so
    an escape sequence in one is shown escaped, never acted on)."""
    table = [list(header), *[[terminal_text(cell) for cell in row] for row in rows]]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in table
    )


def gateway_failure(exc: Exception, base_url: str) -> str:
    """One line on what went wrong talking to the gateway, for stderr."""
    from console.api.errors import ApiError, GatewayUnreachable

    if isinstance(exc, GatewayUnreachable):
        return f"fansly-console: cannot reach the gateway at {base_url}; is it running?"
    if isinstance(exc, ApiError):
        return f"fansly-console: {terminal_text(exc)}"
    return f"fansly-console: {type(exc).__name__}: {terminal_text(exc)}"


def run(args: argparse.Namespace) -> int:
    from console.api.client import client_from_settings
    from console.api.errors import ApiError
    from console.api.models import Account
    from console.config import load_settings

    settings = load_settings()
    client = client_from_settings(settings, getattr(args, "profile", None))

    async def fetch() -> list[Account]:
        async with client:
            return await client.list_accounts()

    try:
        accounts = asyncio.run(fetch())
    except ApiError as exc:
        print(gateway_failure(exc, client.base_url), file=sys.stderr)
        return EXIT_GATEWAY

    found = accounts
    if args.json:
        print(terminal_json([a.model_dump(mode="json") for a in found], indent=2))
        return 0
    if not found:
        print("No accounts are connected to this API key.")
        return 0
    rows = [
        (a.account_id, a.name, a.username or "", a.country or "", a.status or "") for a in found
    ]
    print(columns(rows, ("ACCOUNT", "NAME", "USERNAME", "COUNTRY", "STATUS")))
    return 0
