"""``fansly-console usage [--json] [--profile NAME] [--team [URL] | --database URL]``: the credits
spent with the gateway.

The Credits table of the gateway's dashboard (console/credit_report.py): a row per feature, a
column pair per account (today, this month), the month's total against ``[budget]
monthly_credits``. The figures are the console's own count by the rule of
console/credit_rule.py (the gateway publishes none); another program on the same API key spends
credits this table cannot see.

- Solo: from the cache alone (no request, so it costs nothing and works offline).
- ``--team [URL]``: the team's table, asked of the team server (``GET /team/usage``) with the
  chatter's token, as the team console reaches everything else: a chatter needs no database
  access. The rows are the accounts the chatter works (an admin's: all); the month's total and
  the budget are the whole team's (the server's ``[budget]``).
- ``--database URL``: the same table read straight from the team database, for an operator on
  the server's host (no server or token needed; the budget is this config's ``[budget]``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from console.credit_report import build_report, empty_report, table
from console.output import terminal_text


def run(args: argparse.Namespace) -> int:
    from console.config import load_settings

    settings = load_settings()
    team = getattr(args, "team", None)
    database = getattr(args, "database", None)
    if team is not None or database:
        report = asyncio.run(_team_report(settings, team, database))
    else:
        report = asyncio.run(_report(settings, getattr(args, "profile", None)))
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(terminal_text(table(report), newlines=True) + "\n")
    return 0


async def _team_report(settings: Any, team: str | None, database: str | None) -> dict[str, Any]:
    from console.problems import Problem

    if database:
        from console.team.credits import usage_report
        from console.team.pg import connect, database_url, safe_url

        url = database_url(database)
        conn = await connect(url)
        try:
            budget = settings.budget
            report = await usage_report(conn, budget=budget.monthly_credits, reserve=budget.reserve)
        finally:
            await conn.close()
        report["team"] = safe_url(url)
        return report
    import httpx

    from console.team.cache import team_token
    from console.team.client import TeamAuthError, TeamClient, TeamRefused
    from console.team.pg import safe_url

    url = team or settings.team.url
    if not url:
        raise Problem("usage --team: give the team server's URL (or url under [team])")
    async with TeamClient(url, team_token(settings.team)) as client:
        try:
            report = await client.usage()
        except TeamAuthError as exc:
            raise Problem(f"usage --team: {exc}") from None
        except TeamRefused as exc:
            raise Problem(f"usage --team: the team server says {exc.reason}") from None
        except (OSError, ValueError, httpx.HTTPError) as exc:
            raise Problem(
                f"usage --team: cannot read the team's usage from {url} ({type(exc).__name__})"
            ) from None
    report["team"] = safe_url(url)  # never a password in a URL
    return report


async def _report(settings: Any, profile: str | None) -> dict[str, Any]:
    from console.api.credits import cycle_of, day_of
    from console.config import Settings
    from console.store import Store, store_path

    assert isinstance(settings, Settings)
    name = profile or settings.default_profile
    settings.profile(name)  # a ConfigError for an unknown name
    path = store_path(name)
    now = time.time()
    month, today = cycle_of(now), day_of(now)
    budget = settings.budget
    report = empty_report(month, today, budget.monthly_credits, budget.reserve)
    if not path.exists():
        return report
    async with await Store.open(path) as store:  # migrated: an older cache has no table yet
        names = {row.account_id: row.username or row.name for row in await store.accounts()}
        monthly = await store.usage.totals(f"{month}-01", f"{month}-31")
        daily = await store.usage.totals(today, today)
    return build_report(report, monthly, daily, names)
