"""``team stats``: per chatter, replies, median response time, PPVs sent and bought, revenue
credited, over a period (a shift, a day, a week: ``--since 8h|1d|7d``).

- replies: sends that reached the gateway (state ``sent``);
- median response time: for each reply, the time since the fan's latest message before it in
  that chat (a reply with no fan message before it counts for nothing);
- PPVs sent: replies carrying media; PPVs bought and revenue: sales credited to the chatter
  (console/team/state.py says how a sale is credited).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import asyncpg


async def team_stats(
    pool: asyncpg.Pool | asyncpg.Connection,
    *,
    since: datetime | None = None,
    accounts: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    scope = None if accounts is None else sorted(accounts)
    rows = await pool.fetch(
        """
        WITH replies AS (
            SELECT o.chatter_id, o.sent_at, cardinality(o.media_ids) > 0 AS ppv,
                   extract(epoch FROM o.sent_at - (
                       SELECT max(m.created_at) FROM messages m
                        WHERE m.chat_id = o.chat_id AND NOT m.from_creator
                          AND m.created_at <= o.sent_at)) AS wait
              FROM outbox o
             WHERE o.kind = 'send' AND o.state = 'sent'
               AND ($1::timestamptz IS NULL OR o.sent_at >= $1)
               AND ($2::text[] IS NULL OR o.account_id = ANY($2))
        ), sold AS (
            SELECT chatter_id, count(*) AS bought, sum(amount_millis) AS revenue
              FROM credits
             WHERE chatter_id IS NOT NULL AND ($1::timestamptz IS NULL OR at >= $1)
               AND ($2::text[] IS NULL OR account_id = ANY($2))
             GROUP BY chatter_id
        )
        SELECT c.name,
               (SELECT count(*) FROM replies r WHERE r.chatter_id = c.id),
               (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY r.wait) FROM replies r
                 WHERE r.chatter_id = c.id AND r.wait IS NOT NULL),
               (SELECT count(*) FROM replies r WHERE r.chatter_id = c.id AND r.ppv),
               coalesce(s.bought, 0), coalesce(s.revenue, 0)
          FROM chatters c LEFT JOIN sold s ON s.chatter_id = c.id
         ORDER BY c.name
        """,
        since,
        scope,
    )
    return [
        {
            "chatter": row[0],
            "replies": int(row[1]),
            "median_response_seconds": None if row[2] is None else round(float(row[2]), 1),
            "ppvs_sent": int(row[3]),
            "ppvs_bought": int(row[4]),
            "revenue_millis": int(row[5]),
        }
        for row in rows
    ]
