"""The Credits table of ``fansly-console usage``: built from usage cells, printed as text.

One builder for both places the figures live: a console's cache (console/commands/usage.py)
and the team's database (console/team/credits.py, served to a team console by
``GET /team/usage``). It does no I/O: the caller reads the month's and today's totals per
account and feature and hands them over.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from console.credit_rule import FEATURES


class UsageCell(Protocol):
    """An account's use of a feature over a span of days (the cache's ``CreditUsage``)."""

    @property
    def account_id(self) -> str: ...
    @property
    def feature(self) -> str: ...
    @property
    def requests(self) -> int: ...
    @property
    def credits(self) -> float: ...


class Cell(NamedTuple):
    """A :class:`UsageCell` read from somewhere other than the cache (the team's database)."""

    account_id: str
    feature: str
    requests: int
    credits: float


def empty_report(month: str, today: str, budget: int | None, reserve: int | None) -> dict[str, Any]:
    """The report of nothing spent: ``usage --json``'s keys, whatever the source."""
    return {
        "month": month,
        "today": today,
        "budget": budget,
        "reserve": reserve if budget else None,
        "used_today": 0,
        "used_this_month": 0,
        "accounts": [],
        "rows": [],
    }


def build_report(
    report: dict[str, Any],
    monthly: Sequence[UsageCell],
    daily: Sequence[UsageCell],
    names: Mapping[str, str],
) -> dict[str, Any]:
    """Fill ``report`` (from :func:`empty_report`) with the month's and today's cells, rows in
    the Credits table's feature order; ``names``: account id → the name to head its column."""
    today = {(u.account_id, u.feature): u for u in daily}
    accounts = sorted({u.account_id for u in monthly}, key=lambda a: (a == "", names.get(a, a)))
    order = {feature: i for i, feature in enumerate(FEATURES)}
    rows = []
    for cell in sorted(monthly, key=lambda u: (order.get(u.feature, 99), u.account_id)):
        day = today.get((cell.account_id, cell.feature))
        rows.append(
            {
                "account_id": cell.account_id,
                "feature": cell.feature,
                "today": figure(day.credits if day else 0.0),
                "month": figure(cell.credits),
                "requests_today": day.requests if day else 0,
                "requests_month": cell.requests,
            }
        )
    report["accounts"] = [
        {"account_id": a, "name": names.get(a, "") if a else "(the API key)"} for a in accounts
    ]
    report["rows"] = rows
    report["used_today"] = figure(sum(float(r["today"]) for r in rows))
    report["used_this_month"] = figure(sum(u.credits for u in monthly))
    return report


def figure(credits: float) -> float | int:
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
    if report.get("team"):
        lines[0] += f", by the team on {report['team']}"
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
    if report.get("team") and float(report.get("rows_this_month", used)) != used:
        lines.append(
            f"(The rows are the accounts you work; the team spent {math.ceil(used):,} in all.)"
        )
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
