"""What the team spends with the gateway, in the team's database (issue 17 in team mode).

The team server is what calls the gateway and takes the webhook deliveries, so it is what
meters, by the solo console's rule (console/credit_rule.py) and with the solo meter
(:class:`~console.api.credits.CreditMeter`, its caps included):

- **Gateway calls**: the server's client counts every response in its meter; :class:`TeamCredits`
  adds what it counted to ``credit_usage`` every :data:`FLUSH_SECONDS` (and when the instance
  stops), then reads the month's total back into the meter, so each instance's caps hold for
  what the whole team spent, every instance included.
- **Webhook deliveries**: the log writer adds their cost in the transaction that stores the
  batch (console/team/eventlog.py), as ``listen``'s ingest worker does in the cache.

Rows are only ever added to, with one upsert (:data:`USAGE_UPSERT`): several instances writing
the same account/feature/day add up, none overwrites another's count.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from console.api.credits import write_periodically
from console.credit_report import Cell, build_report, empty_report
from console.credit_rule import cycle_of, day_of

if TYPE_CHECKING:
    import asyncpg

    from console.api.credits import CreditMeter, CreditNotice

log = logging.getLogger("console.team")

#: Seconds between two writes of an instance's meter (and reads of the team's total): how far
#: past a cap the team can go is about this long of spending, on each instance.
FLUSH_SECONDS = 2.0

#: (account id, feature, day "YYYY-MM-DD", requests, bytes, credits), as the cache's rows.
UsageRow = tuple[str, str, str, int, int, float]

#: Adds rows given as six arrays ($1..$6); the log writer folds it into its batch statement.
USAGE_UPSERT = (
    "INSERT INTO credit_usage (account_id, feature, day, requests, bytes, credits) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], "
    "$6::float8[]) ON CONFLICT (account_id, feature, day) DO UPDATE SET "
    "requests = credit_usage.requests + EXCLUDED.requests, "
    "bytes = credit_usage.bytes + EXCLUDED.bytes, "
    "credits = credit_usage.credits + EXCLUDED.credits"
)


def usage_columns(rows: Sequence[UsageRow]) -> list[list[Any]]:
    """``rows`` as the six arrays :data:`USAGE_UPSERT` takes. One row per (account, feature,
    day): an upsert may not touch a row twice in one statement."""
    merged: dict[tuple[str, str, str], list[Any]] = {}
    for account, feature, day, requests, size, credits in rows:
        row = merged.setdefault((account, feature, day), [account, feature, day, 0, 0, 0.0])
        row[3] += requests
        row[4] += size
        row[5] += credits
    return [list(column) for column in zip(*merged.values(), strict=True)] or [[]] * 6


async def add_usage(conn: asyncpg.Connection | asyncpg.Pool, rows: Sequence[UsageRow]) -> None:
    if rows:
        await conn.execute(USAGE_UPSERT, *usage_columns(rows))


def _month_days(month: str) -> tuple[str, str]:
    return f"{month}-01", f"{month}-31"


async def month_total(conn: asyncpg.Connection | asyncpg.Pool, month: str) -> float:
    """Every credit the team spent in ``month`` ("YYYY-MM")."""
    total = await conn.fetchval(
        "SELECT coalesce(sum(credits), 0) FROM credit_usage WHERE day BETWEEN $1 AND $2",
        *_month_days(month),
    )
    return float(total)


async def totals(
    conn: asyncpg.Connection | asyncpg.Pool, first_day: str, last_day: str
) -> list[Cell]:
    """Totals per account and feature over ``first_day``..``last_day`` (inclusive)."""
    rows = await conn.fetch(
        "SELECT account_id, feature, sum(requests), sum(credits) FROM credit_usage "
        "WHERE day BETWEEN $1 AND $2 GROUP BY account_id, feature",
        first_day,
        last_day,
    )
    return [Cell(r[0], r[1], int(r[2]), float(r[3])) for r in rows]


async def usage_report(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    budget: int | None,
    reserve: int | None,
    sees: Any = None,
    now: float | None = None,
) -> dict[str, Any]:
    """``usage --json``'s report of the team's spending: the same keys as the solo one, the
    month's total being the whole team's (what the budget is held against). ``sees``
    (account id → bool): only those accounts' rows (a chatter's); the rows of the API key
    itself ("") are everyone's. ``rows_this_month`` is what the rows shown add up to."""
    now = time.time() if now is None else now
    month, today = cycle_of(now), day_of(now)
    report = empty_report(month, today, budget, reserve)
    monthly = await totals(conn, *_month_days(month))
    daily = await totals(conn, today, today)
    team_total = sum(cell.credits for cell in monthly)
    if sees is not None:
        monthly = [c for c in monthly if not c.account_id or sees(c.account_id)]
        daily = [c for c in daily if not c.account_id or sees(c.account_id)]
    names = await _account_names(conn)
    build_report(report, monthly, daily, names)
    report["rows_this_month"] = report["used_this_month"]
    report["used_this_month"] = round(team_total, 4)
    return report


async def _account_names(conn: asyncpg.Connection | asyncpg.Pool) -> dict[str, str]:
    import json

    names = {}
    for account_id, body in await conn.fetch("SELECT account_id, body FROM accounts"):
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            detail = json.loads(body)
            names[account_id] = str(detail.get("username") or detail.get("name") or "")[:64]
    return names


class TeamCredits:
    """One instance's meter (its gateway client's), written to the team's database and kept
    up to date with what every instance spent. ``async with TeamCredits(pool, meter):``."""

    def __init__(
        self, pool: asyncpg.Pool, meter: CreditMeter, *, flush_every: float = FLUSH_SECONDS
    ) -> None:
        self.pool = pool
        self.meter = meter
        self.flush_every = flush_every
        self._task: asyncio.Task[None] | None = None
        meter.listen(self._said)

    async def __aenter__(self) -> TeamCredits:
        cycle = self.meter.status().cycle
        self.meter.observe_total(cycle, await month_total(self.pool, cycle))
        self._task = asyncio.create_task(
            write_periodically(self.flush_every, self.flush, self._not_written),
            name="team-credits",
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        try:
            await self.flush()
        except Exception as exc:  # the database is gone: these figures are lost
            log.warning("team: cannot write the credits spent (%s)", type(exc).__name__)

    async def flush(self) -> None:
        """Add what the meter counted since the last write, then read the team's total back."""
        await self.meter.write_pending(partial(add_usage, self.pool))
        cycle = self.meter.status().cycle
        self.meter.observe_total(cycle, await month_total(self.pool, cycle))

    @staticmethod
    def _not_written(exc: Exception) -> None:
        log.warning("team: cannot write the credits spent (%s)", type(exc).__name__)

    def _said(self, notice: CreditNotice) -> None:
        # A threshold, a cap or a 402: the operator reads serve's log (said once each).
        log.warning("team: %s", notice.text)
