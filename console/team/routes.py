"""The team API: what a console in team mode asks the server (HTTP + JSON, chatter token).

Every route authenticates the bearer token and checks the chatter's accounts: a route naming an
account the chatter does not work answers 403; a chat, fan or message of such an account is
answered 404, exactly as one that does not exist (a chatter learns nothing of other accounts).
The live stream is the hub's ``/events`` (filtered to the chatter's accounts the same way).

Bodies are bounded (:data:`MAX_JSON`), strings in them too, and fan text comes back as the
gateway gave it: the console renders it as plain text.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import asyncpg
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from console.store.rows import OutboxKind
from console.team.auth import Chatter, audit
from console.team.eventlog import TeamEntry
from console.team.presence import guard_for, set_presence
from console.team.stats import team_stats

if TYPE_CHECKING:
    from console.team.server import TeamServer

#: Largest JSON body a route reads.
MAX_JSON = 64 * 1024
MAX_NOTE = 4000
MAX_TEXT = 5000
MAX_ID = 200
PAGE_MAX = 200
#: Seconds a ``wait`` request waits for the team outbox to settle its item.
SETTLE_WAIT = 15.0

Handler = Callable[[Request, Chatter], Awaitable[Response]]


class _Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason


def _error(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": reason}, status_code=status)


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _text(value: Any, what: str, limit: int, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise _Refused(400, f"{what}: a non-empty string is required")
    if len(value) > limit:
        raise _Refused(400, f"{what}: longer than {limit} characters")
    return value


async def _json(request: Request) -> dict[str, Any]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_JSON:
            raise _Refused(413, f"body larger than {MAX_JSON} bytes")
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        raise _Refused(400, "the body is not JSON") from None
    if not isinstance(value, dict):
        raise _Refused(400, "the body is not a JSON object")
    return value


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def team_routes(server: TeamServer) -> list[BaseRoute]:
    pool = server.pool

    def authed(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            chatter = await server.chatters.authenticate(_bearer(request))
            if chatter is None:
                return _error(401, "a valid chatter token is required")
            try:
                return await handler(request, chatter)
            except _Refused as refused:
                return _error(refused.status, refused.reason)

        return endpoint

    def account_of(request: Request, chatter: Chatter) -> str:
        account = _text(request.path_params.get("account"), "account", MAX_ID)
        if not chatter.sees(account):
            raise _Refused(403, "this account is not one you work")
        return account

    async def chat_of(request: Request, chatter: Chatter) -> tuple[str, str, str | None]:
        return await chat_named(request.path_params.get("chat"), chatter)

    async def chat_named(value: Any, chatter: Chatter) -> tuple[str, str, str | None]:
        """(chat_id, account_id, fan_id) of a chat the chatter may see, else 404."""
        chat_id = _text(value, "chat", MAX_ID)
        row = await pool.fetchrow(
            "SELECT account_id, fan_id FROM chats WHERE chat_id = $1", chat_id
        )
        if row is None or not chatter.sees(row[0]):
            raise _Refused(404, "no such chat")
        return chat_id, row[0], row[1]

    async def me(request: Request, chatter: Chatter) -> Response:
        return JSONResponse(
            {"name": chatter.name, "admin": chatter.admin, "accounts": sorted(chatter.accounts)}
        )

    async def accounts(request: Request, chatter: Chatter) -> Response:
        if server.client is not None and not await pool.fetchval("SELECT 1 FROM accounts"):
            from console.team.gateway import fetch_accounts

            await fetch_accounts(server)
        known = await pool.fetch("SELECT account_id, body FROM accounts ORDER BY position")
        rows = await pool.fetch("SELECT DISTINCT account_id FROM chats ORDER BY 1")
        seen = {row[0] for row in rows} | set(chatter.accounts)
        bodies = {row[0]: json.loads(row[1]) for row in known}
        ordered = [row[0] for row in known] + sorted(seen - set(bodies))
        return JSONResponse(
            {
                "accounts": [a for a in ordered if chatter.sees(a)],
                "details": [bodies[a] for a in ordered if a in bodies and chatter.sees(a)],
            }
        )

    async def chats(request: Request, chatter: Chatter) -> Response:
        account = account_of(request, chatter)
        if server.client is not None and not await pool.fetchval(
            "SELECT 1 FROM chats WHERE account_id = $1 LIMIT 1", account
        ):
            from console.team.gateway import fetch_chats

            await fetch_chats(server, account)
        rows = await pool.fetch(
            "SELECT c.chat_id, c.fan_id, c.last_message_at, r.read_up_to, "
            "rc.name, r.read_at, c.body FROM chats c LEFT JOIN read_state r USING (chat_id) "
            "LEFT JOIN chatters rc ON rc.id = r.read_by "
            "WHERE c.account_id = $1 ORDER BY c.last_message_at DESC NULLS LAST LIMIT $2",
            account,
            PAGE_MAX,
        )
        presence = await _presence_by_chat(pool, account)
        return JSONResponse(
            {
                "chats": [
                    {
                        "chat_id": row[0],
                        "fan_id": row[1],
                        "last_message_at": _iso(row[2]),
                        "read_up_to": row[3],
                        "read_by": row[4],
                        "read_at": _iso(row[5]),
                        "presence": presence.get(row[0], []),
                        "chat": json.loads(row[6]) if row[6] else None,
                    }
                    for row in rows
                ]
            }
        )

    async def messages(request: Request, chatter: Chatter) -> Response:
        chat_id, account, _fan = await chat_of(request, chatter)
        try:
            limit = max(1, min(int(request.query_params.get("limit", "50")), PAGE_MAX))
            before_text = request.query_params.get("before")
            before = datetime.fromisoformat(before_text) if before_text else None
        except ValueError:
            raise _Refused(400, "limit is a number, before an ISO time") from None
        if before is not None and before.tzinfo is None:
            before = before.replace(tzinfo=UTC)
        rows = await _message_rows(pool, chat_id, before, limit)
        if len(rows) < limit and server.client is not None:
            from console.team.gateway import fetch_older

            if await fetch_older(server, account, chat_id):
                rows = await _message_rows(pool, chat_id, before, limit)
        return JSONResponse({"messages": [_message(row) for row in rows]})

    async def search(request: Request, chatter: Chatter) -> Response:
        account = account_of(request, chatter)
        query = _text(request.query_params.get("q"), "q", 200)
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = await pool.fetch(
            "SELECT message_id, chat_id, from_creator, created_at, body, "
            "(SELECT name FROM chatters WHERE id = sent_by) FROM messages "
            "WHERE account_id = $1 AND body::json->>'content' ILIKE $2 "
            "ORDER BY created_at DESC LIMIT 50",
            account,
            pattern,
        )
        return JSONResponse({"messages": [_message(row) for row in rows]})

    async def send(request: Request, chatter: Chatter) -> Response:
        chat_id, account, _fan = await chat_of(request, chatter)
        body = await _json(request)
        content = _text(body.get("content", ""), "content", MAX_TEXT, required=False)
        media = body.get("media_ids") or []
        if not isinstance(media, list) or len(media) > 20:
            raise _Refused(400, "media_ids: a list of at most 20 ids")
        media_ids = [_text(m, "media_ids", MAX_ID) for m in media]
        if not content.strip() and not media_ids:
            raise _Refused(400, "the message is empty")
        client_id = _text(body.get("client_id") or uuid.uuid4().hex, "client_id", MAX_ID)
        reply_to = body.get("in_reply_to")
        if reply_to is not None:
            reply_to = _text(reply_to, "in_reply_to", MAX_ID)
        payload = {"content": content, "media_ids": media_ids, "in_reply_to": reply_to}
        async with pool.acquire() as conn, conn.transaction():
            # One send at a time per chat across instances: two chatters racing a reply into
            # the same chat are decided here, and the second one is asked first.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", chat_id)
            if body.get("confirm") is not True:
                others = await guard_for(conn, chat_id, chatter.id, server.guard_seconds)
                if others:
                    return JSONResponse(
                        {
                            "ok": False,
                            "ask": True,
                            "error": "another chatter is in this chat",
                            "others": others,
                        },
                        status_code=409,
                    )
            added = await conn.fetchval(
                "INSERT INTO outbox (client_id, kind, account_id, chat_id, payload, chatter_id, "
                "media_ids) VALUES ($1, 'send', $2, $3, $4, $5, $6) "
                "ON CONFLICT (client_id) DO NOTHING RETURNING id",
                client_id,
                account,
                chat_id,
                json.dumps(payload),
                chatter.id,
                media_ids,
            )
            if added is None:
                # The same client id again: a console that lost the answer (a duplicate: no
                # second send), or the chatter's retry of a send the outbox failed. A failed
                # send is known not to be at the gateway (an unsure one is "unknown" until
                # checked), so it is queued again and goes once.
                added = await conn.fetchval(
                    "UPDATE outbox SET state = 'queued', error = NULL, attempts = 0, "
                    "not_before = now() WHERE client_id = $1 AND chatter_id = $2 "
                    "AND kind = 'send' AND state = 'failed' RETURNING id",
                    client_id,
                    chatter.id,
                )
            if added is not None:
                await audit(conn, chatter.id, "send", f"{chat_id} {client_id}")
        if added is not None:
            await server.writer.append(
                TeamEntry(
                    "send.queued",
                    account,
                    chat_id,
                    {"chatter": chatter.name, "client_id": client_id, "media": len(media_ids)},
                )
            )
        if body.get("wait") is True:
            return await settled(client_id, chatter)
        return JSONResponse({"ok": True, "client_id": client_id, "duplicate": added is None})

    async def settled(client_id: str, chatter: Chatter) -> Response:
        """Wait (bounded) for the team outbox to settle an item: what a console's own outbox
        needs to show it sent, with the gateway's message, or failed with its reason."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_WAIT
        while True:
            row = await pool.fetchrow(
                "SELECT state, message_id, error FROM outbox WHERE client_id = $1 "
                "AND chatter_id = $2",
                client_id,
                chatter.id,
            )
            if row is None:
                raise _Refused(404, "no such action")
            if row[0] == "sent":
                body = None
                if row[1] is not None:
                    body = await pool.fetchval(
                        "SELECT body FROM messages WHERE message_id = $1", row[1]
                    )
                return JSONResponse(
                    {
                        "ok": True,
                        "client_id": client_id,
                        "state": "sent",
                        "message": json.loads(body) if body else None,
                    }
                )
            if row[0] in ("failed", "unknown"):
                return JSONResponse(
                    {"ok": False, "state": row[0], "error": row[2] or row[0]}, status_code=422
                )
            if loop.time() >= deadline:
                return JSONResponse(
                    {"ok": False, "state": row[0], "error": "still being sent"}, status_code=504
                )
            await asyncio.sleep(0.05)

    async def action(request: Request, chatter: Chatter) -> Response:
        chat_id, account, _fan = await chat_of(request, chatter)
        body = await _json(request)
        try:
            kind = OutboxKind(str(body.get("kind")))
        except ValueError:
            raise _Refused(400, "kind: one of " + ", ".join(k.value for k in OutboxKind)) from None
        if kind is OutboxKind.SEND:
            raise _Refused(400, "a send goes to /send (it is guarded)")
        payload = body.get("payload") or {}
        if not isinstance(payload, dict) or len(json.dumps(payload)) > 2000:
            raise _Refused(400, "payload: a small JSON object")
        message_id = payload.get("message_id")
        if message_id is not None:
            owner = await pool.fetchval(
                "SELECT chat_id FROM messages WHERE message_id = $1", str(message_id)
            )
            if owner != chat_id:
                raise _Refused(404, "no such message in this chat")
        client_id = _text(body.get("client_id") or uuid.uuid4().hex, "client_id", MAX_ID)
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO outbox (client_id, kind, account_id, chat_id, payload, chatter_id) "
                "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (client_id) DO NOTHING",
                client_id,
                kind.value,
                account,
                chat_id,
                json.dumps(payload),
                chatter.id,
            )
            await audit(conn, chatter.id, kind.value, f"{chat_id} {client_id}")
        if body.get("wait") is True:
            return await settled(client_id, chatter)
        return JSONResponse({"ok": True, "client_id": client_id})

    async def outbox_state(request: Request, chatter: Chatter) -> Response:
        chat_id, _account, _fan = await chat_of(request, chatter)
        rows = await pool.fetch(
            "SELECT o.client_id, o.kind, o.state, o.message_id, o.error, c.name, o.created_at "
            "FROM outbox o JOIN chatters c ON c.id = o.chatter_id WHERE o.chat_id = $1 "
            "ORDER BY o.id DESC LIMIT 100",
            chat_id,
        )
        return JSONResponse(
            {
                "items": [
                    {
                        "client_id": r[0],
                        "kind": r[1],
                        "state": r[2],
                        "message_id": r[3],
                        "error": r[4],
                        "chatter": r[5],
                        "created_at": _iso(r[6]),
                    }
                    for r in rows
                ]
            }
        )

    async def notes(request: Request, chatter: Chatter) -> Response:
        account = account_of(request, chatter)
        fan_id = _text(request.path_params.get("fan"), "fan", MAX_ID)
        if request.method == "POST":
            text = _text((await _json(request)).get("text"), "text", MAX_NOTE)

            async def write(conn: asyncpg.Connection, seq: int) -> None:
                await conn.execute(
                    "INSERT INTO notes (account_id, fan_id, chatter_id, text) "
                    "VALUES ($1, $2, $3, $4)",
                    account,
                    fan_id,
                    chatter.id,
                    text,
                )

            seq = await server.writer.append(
                TeamEntry(
                    "note.added",
                    account,
                    None,
                    {"chatter": chatter.name, "fan_id": fan_id, "text": text},
                    apply=write,
                )
            )
            return JSONResponse({"ok": True, "seq": seq})
        rows = await pool.fetch(
            "SELECT n.text, c.name, n.created_at FROM notes n JOIN chatters c "
            "ON c.id = n.chatter_id WHERE n.account_id = $1 AND n.fan_id = $2 "
            "ORDER BY n.created_at, n.id",
            account,
            fan_id,
        )
        return JSONResponse(
            {"notes": [{"text": r[0], "author": r[1], "at": _iso(r[2])} for r in rows]}
        )

    async def read(request: Request, chatter: Chatter) -> Response:
        chat_id, account, _fan = await chat_of(request, chatter)
        up_to = _text((await _json(request)).get("up_to"), "up_to", MAX_ID)

        async def write(conn: asyncpg.Connection, seq: int) -> None:
            await conn.execute(
                "INSERT INTO read_state (chat_id, account_id, read_up_to, read_by, read_at) "
                "VALUES ($1, $2, $3, $4, now()) ON CONFLICT (chat_id) DO UPDATE SET "
                "read_up_to = EXCLUDED.read_up_to, read_by = EXCLUDED.read_by, read_at = now()",
                chat_id,
                account,
                up_to,
                chatter.id,
            )

        seq = await server.writer.append(
            TeamEntry(
                "chat.read",
                account,
                chat_id,
                {"chatter": chatter.name, "up_to": up_to},
                apply=write,
            )
        )
        return JSONResponse({"ok": True, "seq": seq})

    async def presence(request: Request, chatter: Chatter) -> Response:
        body = await _json(request)
        chat_value = body.get("chat_id")
        account = None
        chat_id = None
        if chat_value is not None:
            chat_id, account, _fan = await chat_named(chat_value, chatter)
        typing = body.get("typing") is True
        await set_presence(server, chatter, account, chat_id, typing=typing)
        return JSONResponse({"ok": True})

    async def chat_presence(request: Request, chatter: Chatter) -> Response:
        chat_id, account, _fan = await chat_of(request, chatter)
        everyone = await _presence_by_chat(pool, account)
        guard = await guard_for(pool, chat_id, chatter.id, server.guard_seconds)
        return JSONResponse({"presence": everyone.get(chat_id, []), "guard": guard})

    async def stats(request: Request, chatter: Chatter) -> Response:
        since_text = request.query_params.get("since", "")
        try:
            since = parse_since(since_text) if since_text else None
        except ValueError as exc:
            raise _Refused(400, str(exc)) from None
        scope = None if chatter.admin else chatter.accounts
        return JSONResponse({"chatters": await team_stats(pool, since=since, accounts=scope)})

    async def usage(request: Request, chatter: Chatter) -> Response:
        """``fansly-console usage --team``: the team's Credits table (the accounts the chatter
        works; an admin's: all), with the whole team's month against the server's budget."""
        from console.team.credits import usage_report

        sees = None if chatter.admin else chatter.sees
        report = await usage_report(
            pool, budget=server.monthly_credits, reserve=server.reserve_credits, sees=sees
        )
        return JSONResponse(report)

    get, post = ["GET"], ["POST"]
    return [
        Route("/team/me", authed(me), methods=get),
        Route("/team/accounts", authed(accounts), methods=get),
        Route("/team/accounts/{account}/chats", authed(chats), methods=get),
        Route("/team/accounts/{account}/search", authed(search), methods=get),
        Route("/team/accounts/{account}/fans/{fan}/notes", authed(notes), methods=[*get, *post]),
        Route("/team/chats/{chat}/messages", authed(messages), methods=get),
        Route("/team/chats/{chat}/send", authed(send), methods=post),
        Route("/team/chats/{chat}/actions", authed(action), methods=post),
        Route("/team/chats/{chat}/outbox", authed(outbox_state), methods=get),
        Route("/team/chats/{chat}/read", authed(read), methods=post),
        Route("/team/chats/{chat}/presence", authed(chat_presence), methods=get),
        Route("/team/presence", authed(presence), methods=post),
        Route("/team/stats", authed(stats), methods=get),
        Route("/team/usage", authed(usage), methods=get),
    ]


def parse_since(text: str) -> datetime:
    """``8h``, ``1d``, ``7d`` (a shift, a day, a week back), or an ISO time."""
    units = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
    if text[:-1].isdigit() and text[-1:] in units:
        return datetime.now(UTC) - timedelta(seconds=int(text[:-1]) * units[text[-1]])
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("since: 8h, 1d, 7w or an ISO time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def _message_rows(
    pool: asyncpg.Pool, chat_id: str, before: datetime | None, limit: int
) -> list[asyncpg.Record]:
    return list(
        await pool.fetch(
            "SELECT message_id, chat_id, from_creator, created_at, body, "
            "(SELECT name FROM chatters WHERE id = sent_by) FROM messages "
            "WHERE chat_id = $1 AND ($2::timestamptz IS NULL OR created_at < $2) "
            "ORDER BY created_at DESC LIMIT $3",
            chat_id,
            before,
            limit,
        )
    )


def _message(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "message": json.loads(row[4]),
        "from_creator": row[2],
        "sent_by": row[5],
    }


async def _presence_by_chat(
    pool: asyncpg.Pool | asyncpg.Connection, account: str
) -> dict[str, list[dict[str, Any]]]:
    from console.team.presence import PRESENCE_SECONDS

    rows = await pool.fetch(
        "SELECT p.chat_id, c.name, p.typing_until > now() FROM presence p "
        "JOIN chatters c ON c.id = p.chatter_id WHERE p.account_id = $1 "
        "AND p.seen_at > now() - make_interval(secs => $2) AND c.revoked_at IS NULL "
        "ORDER BY c.name",
        account,
        float(PRESENCE_SECONDS),
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row[0], []).append({"name": row[1], "typing": bool(row[2])})
    return found
