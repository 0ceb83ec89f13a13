"""Fetches from the gateway on a chatter's behalf, stored once for the whole team.

A chat list or an older history page that the team database does not hold yet is fetched by
the server (the only holder of the API key), written to PostgreSQL, and served from there to
every chatter after: five chatters reading the same history pay for it once.

Credits (console/team/credits.py): the accounts and the chat lists are the team's sync,
background work that stops at ``[budget] monthly_credits`` minus the reserve; an older history
page is fetched because a chatter scrolls to it, a chatter's action (as the solo console's
``load_older``) that goes on until the budget itself.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from console.api.client import MESSAGES_PAGE_MAX
from console.api.credits import background_work
from console.api.errors import ApiError, CreditBudgetReached
from console.api.models import Message

if TYPE_CHECKING:
    import asyncpg

    from console.team.server import TeamServer

log = logging.getLogger("console.team")


async def store_messages(
    conn: asyncpg.Connection | asyncpg.Pool,
    account: str,
    fan_id: str | None,
    messages: list[Message],
    *,
    sent_by: int | None = None,
) -> None:
    if not messages:
        return
    await conn.executemany(
        "INSERT INTO messages (message_id, chat_id, account_id, from_creator, created_at, body, "
        "sent_by) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (message_id) DO UPDATE SET "
        "sent_by = coalesce(messages.sent_by, EXCLUDED.sent_by)",
        [
            (
                m.id,
                m.chat_id,
                account,
                fan_id is None or m.sender_id != fan_id,
                m.created_at,
                m.model_dump_json(),
                sent_by,
            )
            for m in messages
        ],
    )
    newest = max(messages, key=lambda m: m.created_at)
    await conn.execute(
        "INSERT INTO chats (chat_id, account_id, fan_id, last_message_at) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (chat_id) DO UPDATE SET last_message_at = "
        "greatest(chats.last_message_at, EXCLUDED.last_message_at)",
        newest.chat_id,
        account,
        fan_id,
        newest.created_at,
    )


async def fetch_accounts(server: TeamServer) -> None:
    """The gateway's connected accounts, into the team's tables (their order kept)."""
    assert server.client is not None
    try:
        with background_work():  # the team's sync: stops at the budget minus the reserve
            accounts = await server.client.list_accounts()
    except CreditBudgetReached:
        return  # the meter said so once in serve's log (console/team/credits.py)
    except ApiError as exc:
        log.warning("team: accounts: %s", type(exc).__name__)
        return
    await server.pool.executemany(
        "INSERT INTO accounts (account_id, position, body) VALUES ($1, $2, $3) "
        "ON CONFLICT (account_id) DO UPDATE SET position = EXCLUDED.position, body = EXCLUDED.body",
        [(a.account_id, i, a.model_dump_json()) for i, a in enumerate(accounts)],
    )


async def fetch_chats(server: TeamServer, account: str) -> None:
    """The account's newest chats (one page), into the team's tables."""
    assert server.client is not None
    try:
        with background_work():  # the team's sync: stops at the budget minus the reserve
            page = await server.client.chats_page(account)
    except CreditBudgetReached:
        return  # the meter said so once in serve's log
    except ApiError as exc:
        log.warning("team: chats of %s: %s", account, type(exc).__name__)
        return
    async with server.pool.acquire() as conn, conn.transaction():
        for chat in page.items:
            await conn.execute(
                "INSERT INTO chats (chat_id, account_id, fan_id, last_message_at, body) "
                "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (chat_id) DO UPDATE SET "
                "fan_id = EXCLUDED.fan_id, body = EXCLUDED.body",
                chat.id,
                account,
                chat.fan.id,
                chat.last_message.created_at if chat.last_message else None,
                chat.model_dump_json(),
            )
            if chat.last_message is not None:
                await store_messages(conn, account, chat.fan.id, [chat.last_message])


async def fetch_older(server: TeamServer, account: str, chat_id: str) -> bool:
    """The chat's next older page from the gateway; whether it brought anything."""
    assert server.client is not None
    row = await server.pool.fetchrow("SELECT fan_id, data FROM chats WHERE chat_id = $1", chat_id)
    state = json.loads(row[1]) if row is not None and row[1] else {}
    if state.get("complete"):
        return False
    try:
        page = await server.client.messages_page(
            account, chat_id, cursor=state.get("cursor"), limit=MESSAGES_PAGE_MAX
        )
    except CreditBudgetReached:
        return False  # the meter said so once in serve's log
    except ApiError as exc:
        log.warning("team: history of %s: %s", chat_id, type(exc).__name__)
        return False
    fan_id = row[0] if row is not None else None
    state = {"cursor": page.next_cursor, "complete": page.next_cursor is None}
    async with server.pool.acquire() as conn, conn.transaction():
        await store_messages(conn, account, fan_id, list(page.items))
        await conn.execute(
            "UPDATE chats SET data = $2 WHERE chat_id = $1", chat_id, json.dumps(state)
        )
    return bool(page.items)
