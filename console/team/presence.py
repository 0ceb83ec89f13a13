"""Presence, typing and the double-reply guard.

A console says which chat it has open (and that its chatter is typing) with ``POST
/team/presence``; the row lives :data:`PRESENCE_SECONDS` unless refreshed, typing
:data:`TYPING_SECONDS`. Each change is also a team entry in the event log (``presence``), so
every console sees it within the time a webhook takes (well under 1 s).

The guard: a send into a chat where another chatter sent in the last ``guard_seconds`` (the
team outbox knows who sent what), or is typing now, is answered 409 naming them, until the
console sends again with ``confirm``. The check and the send's outbox row commit under one
per-chat lock (see routes.send), so of two chatters racing, the second is always asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import asyncpg

from console.team.eventlog import TeamEntry

if TYPE_CHECKING:
    from console.team.auth import Chatter
    from console.team.server import TeamServer

#: A console refreshes its presence at least this often; older rows are gone.
PRESENCE_SECONDS = 30
#: "Is typing" lasts this long after the last keystroke report.
TYPING_SECONDS = 6


async def guard_for(
    conn: asyncpg.Connection | asyncpg.Pool, chat_id: str, me: int, guard_seconds: float
) -> list[dict[str, Any]]:
    """The other chatters who sent into ``chat_id`` within ``guard_seconds`` or type there now:
    ``[{"name", "sent_seconds_ago" | None, "typing"}]``, by name."""
    rows = await conn.fetch(
        """
        SELECT c.name,
               (SELECT extract(epoch FROM now() - max(o.created_at)) FROM outbox o
                 WHERE o.chat_id = $1 AND o.chatter_id = c.id AND o.kind = 'send'
                   AND o.state <> 'failed'
                   AND o.created_at > now() - make_interval(secs => $3)) AS ago,
               EXISTS (SELECT 1 FROM presence p WHERE p.chatter_id = c.id AND p.chat_id = $1
                        AND p.typing_until > now()) AS typing
          FROM chatters c
         WHERE c.id <> $2 AND c.revoked_at IS NULL
        """,
        chat_id,
        me,
        float(guard_seconds),
    )
    found = [
        {
            "name": row[0],
            "sent_seconds_ago": None if row[1] is None else round(float(row[1])),
            "typing": bool(row[2]),
        }
        for row in rows
        if row[1] is not None or row[2]
    ]
    return sorted(found, key=lambda item: str(item["name"]))


async def set_presence(
    server: TeamServer,
    chatter: Chatter,
    account: str | None,
    chat_id: str | None,
    *,
    typing: bool,
) -> None:
    """Record where ``chatter`` is (None: no chat open) and whether they type; tell the team."""
    previous = await server.pool.fetchrow(
        "SELECT account_id, chat_id FROM presence WHERE chatter_id = $1", chatter.id
    )

    async def write(conn: asyncpg.Connection, seq: int) -> None:
        if chat_id is None or account is None:
            await conn.execute("DELETE FROM presence WHERE chatter_id = $1", chatter.id)
            return
        await conn.execute(
            "INSERT INTO presence (chatter_id, account_id, chat_id, seen_at, typing_until) "
            "VALUES ($1, $2, $3, now(), CASE WHEN $4 THEN now() + make_interval(secs => $5) "
            "END) ON CONFLICT (chatter_id) DO UPDATE SET account_id = EXCLUDED.account_id, "
            "chat_id = EXCLUDED.chat_id, seen_at = now(), typing_until = EXCLUDED.typing_until",
            chatter.id,
            account,
            chat_id,
            typing,
            float(TYPING_SECONDS),
        )

    entry_account = account or (previous[0] if previous is not None else None)
    if entry_account is None:
        return  # nowhere before, nowhere now: nothing to tell
    await server.writer.append(
        TeamEntry(
            "presence",
            entry_account,
            chat_id,
            {
                "chatter": chatter.name,
                "typing": typing and chat_id is not None,
                "left": previous[1] if previous is not None and previous[1] != chat_id else None,
            },
            apply=write,
        )
    )
