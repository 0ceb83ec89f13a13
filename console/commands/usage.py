"""``fansly-console usage [--json] [--profile NAME]``: the credits the console spent.

The Credits table of the gateway's dashboard, from the cache alone (no request, so it costs
nothing and works offline): a row per feature, a column pair per account (today, this month),
the month's total against ``[budget] monthly_credits``. The figures are the console's own count
by the rule of console/api/credits.py (the gateway publishes none); another program on the same
API key spends credits this table cannot see.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
from typing import Any

from console.output import terminal_text


def run(args: argparse.Namespace) -> int:
    from console.config import load_settings

    settings = load_settings()
    report = asyncio.run(_report(settings, getattr(args, "profile", None)))
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(terminal_text(table(report), newlines=True) + "\n")
    return 0


async def _report(settings: Any, profile: str | None) -> dict[str, Any]:
    from console.api.credits import FEATURES, cycle_of, day_of
    from console.config import Settings
    from console.store import Store, store_path

    assert isinstance(settings, Settings)
    name = profile or settings.default_profile
    settings.profile(name)  # a ConfigError for an unknown name
    path = store_path(name)
    now = time.time()
    month, today = cycle_of(now), day_of(now)
    budget = settings.budget
    report: dict[str, Any] = {
        "month": month,
        "today": today,
        "budget": budget.monthly_credits,
        "reserve": budget.reserve if budget.monthly_credits else None,
        "used_today": 0,
        "used_this_month": 0,
        "accounts": [],
        "rows": [],
    }
    if not path.exists():
        return report
    async with await Store.open(path) as store:  # migrated: an older cache has no table yet
        names = {row.account_id: row.username or row.name for row in await store.accounts()}
        monthly = await store.usage(f"{month}-01", f"{month}-31")
        daily = {(u.account_id, u.feature): u for u in await store.usage(today, today)}
    accounts = sorted({u.account_id for u in monthly}, key=lambda a: (a == "", names.get(a, a)))
    order = {feature: i for i, feature in enumerate(FEATURES)}
    rows = []
    for cell in sorted(monthly, key=lambda u: (order.get(u.feature, 99), u.account_id)):
        day = daily.get((cell.account_id, cell.feature))
        rows.append(
            {
                "account_id": cell.account_id,
                "feature": cell.feature,
                "today": _figure(day.credits if day else 0.0),
                "month": _figure(cell.credits),
                "requests_today": day.requests if day else 0,
                "requests_month": cell.requests,
            }
        )
    report["accounts"] = [
        {"account_id": a, "name": names.get(a, "") if a else "(the API key)"} for a in accounts
    ]
    report["rows"] = rows
    report["used_today"] = _figure(sum(float(r["today"]) for r in rows))
    report["used_this_month"] = _figure(sum(u.credits for u in monthly))
    return report


def _figure(credits: float) -> float | int:
    """Whole credits stay whole; webhook events make fractions (a credit per 80)."""
    rounded = round(credits, 4)
    return int(rounded) if float(rounded).is_integer() else rounded


def _cell(value: float) -> str:
    if not value:
        return "·"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def table(report: dict[str, Any]) -> str:
    """The Credits table: features down, accounts across (today / this month)."""
    lines = [f"Credits spent, {report['month']} (UTC; today is {report['today']})"]
    accounts = report["accounts"]
    if not report["rows"]:
        lines.append("Nothing spent yet this month (or nothing recorded in this cache).")
    else:
        heads = [a["name"] or a["account_id"] for a in accounts]
        cells: dict[tuple[str, str], dict[str, Any]] = {
            (r["feature"], r["account_id"]): r for r in report["rows"]
        }
        features = list(dict.fromkeys(r["feature"] for r in report["rows"]))
        first = max(len("feature"), *(len(f) for f in features), len("all"))
        widths = [max(len(h), 15) for h in heads]
        lines.append(
            "feature".ljust(first)
            + "".join(f"  {h[:w].rjust(w)}" for h, w in zip(heads, widths, strict=True))
            + "  "
            + "all".rjust(15)
        )
        lines.append(
            " " * first
            + "".join(f"  {'today / month'.rjust(w)}" for w in widths)
            + "  "
            + "today / month".rjust(15)
        )
        for feature in features:
            parts, today, month = [], 0.0, 0.0
            for account, width in zip(accounts, widths, strict=True):
                row = cells.get((feature, account["account_id"]))
                t, m = (float(row["today"]), float(row["month"])) if row else (0.0, 0.0)
                today, month = today + t, month + m
                parts.append(f"  {f'{_cell(t)} / {_cell(m)}'.rjust(width)}")
            lines.append(
                feature.ljust(first)
                + "".join(parts)
                + f"  {_cell(today)} / {_cell(month)}".rjust(17)
            )
    used = float(report["used_this_month"])
    budget = report["budget"]
    if budget:
        share = used / budget
        lines.append(
            f"This month: {math.ceil(used):,} of {budget:,} credits ({share:.0%}); background "
            f"sync stops at {budget - report['reserve']:,}, replies at {budget:,}."
        )
    else:
        lines.append(
            f"This month: {math.ceil(used):,} credits; no budget set ([budget] monthly_credits)."
        )
    return "\n".join(lines)
