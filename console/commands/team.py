"""``fansly-console team add|list|revoke|stats``: the team's chatters, on the team database.

``team add`` prints the new chatter's token once: it is stored only as a hash, so it cannot be
shown again (revoke and add again to replace a lost one).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncpg

EXIT_FAILED = 1


def run(args: argparse.Namespace) -> int:
    if args.team_verb == "demo":
        from console.commands import team_demo

        return team_demo.run(args)
    from console.config import load_settings
    from console.team.pg import database_url

    settings = load_settings()
    configured = settings.team.database_url
    url = database_url(args.database, configured.get_secret_value() if configured else None)
    return asyncio.run(_run(args, url))


async def _run(args: argparse.Namespace, url: str) -> int:
    from console.output import terminal_text
    from console.team.auth import TeamError, add_chatter, list_chatters, revoke_chatter
    from console.team.pg import connect, open_database

    await open_database(url)
    conn = await connect(url)
    try:
        if args.team_verb == "add":
            accounts = [a for a in (args.accounts or "").split(",") if a.strip()]
            try:
                token = await add_chatter(conn, args.name, accounts, admin=args.admin)
            except TeamError as exc:
                print(f"fansly-console team add: {exc}", file=sys.stderr)
                return EXIT_FAILED
            print(
                f"chatter {terminal_text(args.name)!r} added. Their token (shown once, "
                "never again; give it to them privately):"
            )
            print(token)
            return 0
        if args.team_verb == "revoke":
            try:
                await revoke_chatter(conn, args.name)
            except TeamError as exc:
                print(f"fansly-console team revoke: {exc}", file=sys.stderr)
                return EXIT_FAILED
            print(
                f"chatter {terminal_text(args.name)!r} revoked: their consoles are cut off "
                "within seconds"
            )
            return 0
        if args.team_verb == "list":
            chatters = await list_chatters(conn)
            if args.json:
                print(json.dumps(chatters, indent=2))
                return 0
            for c in chatters:
                names = c["accounts"]
                assert isinstance(names, list)
                scope = "every account (admin)" if c["admin"] else ", ".join(names)
                state = f"revoked {c['revoked_at']}" if c["revoked_at"] else "active"
                print(terminal_text(f"{c['name']:<20} {state:<10} {scope}"))
            if not chatters:
                print("no chatters yet: fansly-console team add NAME --accounts ID,…")
            return 0
        return await _stats(args, conn)
    finally:
        await conn.close()


async def _stats(args: argparse.Namespace, conn: asyncpg.Connection) -> int:
    from console.output import terminal_text
    from console.team.routes import parse_since
    from console.team.stats import team_stats

    try:
        since = parse_since(args.since) if args.since else None
    except ValueError as exc:
        print(f"fansly-console team stats: {exc}", file=sys.stderr)
        return EXIT_FAILED
    rows = await team_stats(conn, since=since)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(
        f"{'chatter':<20} {'replies':>7} {'median reply':>12} {'PPVs sent':>9} "
        f"{'bought':>6} {'revenue':>10}"
    )
    for row in rows:
        median = row["median_response_seconds"]
        shown = "-" if median is None else f"{median:.0f}s"
        print(
            terminal_text(
                f"{row['chatter']:<20} {row['replies']:>7} {shown:>12} {row['ppvs_sent']:>9} "
                f"{row['ppvs_bought']:>6} ${row['revenue_millis'] / 1000:>9.2f}"
            )
        )
    return 0
