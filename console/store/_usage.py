"""What the console spent with the gateway, in credits: per account, feature and UTC day.

The client's meter (console/api/credits.py) counts every billed response; the sync layer
writes what it counted here now and then, so the month's total survives a restart and
``fansly-console usage`` can print the Credits table from the cache alone. Rows are added to,
never replaced: two consoles on one cache (the TUI and a ``sync``) both count.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from console.store._core import Part

#: (account id, feature, day "YYYY-MM-DD", requests, bytes, credits)
UsageRow = tuple[str, str, str, int, int, float]


@dataclass(frozen=True, slots=True)
class CreditUsage:
    """One cell of the Credits table: an account's use of a feature over a span of days."""

    account_id: str
    feature: str
    requests: int
    bytes: int
    credits: float


def add_usage(db: sqlite3.Connection, rows: Sequence[UsageRow]) -> None:
    """Add ``rows`` in the caller's transaction (each adds to that account/feature/day)."""
    db.executemany(
        """INSERT INTO credit_usage(account_id, feature, day, requests, bytes, credits)
        VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT(account_id, feature, day) DO UPDATE SET
            requests = requests + excluded.requests,
            bytes = bytes + excluded.bytes,
            credits = credits + excluded.credits""",
        rows,
    )


class CreditLedger(Part):
    """The credits the meter counted, per account, feature and UTC day (``store.usage``)."""

    async def add(self, rows: Sequence[UsageRow]) -> None:
        """Add what the meter counted (each row adds to that account/feature/day)."""
        if not rows:
            return

        await self._write(lambda db: add_usage(db, rows))

    async def totals(self, first_day: str, last_day: str) -> list[CreditUsage]:
        """Totals per account and feature over ``first_day``..``last_day`` (inclusive)."""
        rows = await self._read(
            "SELECT account_id, feature, SUM(requests), SUM(bytes), SUM(credits) "
            "FROM credit_usage WHERE day BETWEEN ? AND ? "
            "GROUP BY account_id, feature ORDER BY account_id, feature",
            (first_day, last_day),
        )
        return [CreditUsage(r[0], r[1], int(r[2]), int(r[3]), float(r[4])) for r in rows]

    async def credits_in_month(self, month: str) -> float:
        """Every credit counted in ``month`` ("YYYY-MM")."""
        row = await self._read_one(
            "SELECT COALESCE(SUM(credits), 0) FROM credit_usage WHERE day BETWEEN ? AND ?",
            (f"{month}-01", f"{month}-31"),
        )
        return float(row[0]) if row else 0.0
