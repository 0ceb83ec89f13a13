"""Chatters and their tokens.

A token is ``fct_<id>_<secret>``: the id finds the chatter's row, the secret is compared with
the stored SHA-256 of it in constant time (:func:`hmac.compare_digest`; an unknown id is
compared with a dummy, so timing says nothing of which ids exist). The secret is 256 random bits,
so a plain hash is as good as a slow one here (nothing to brute-force). The token is shown
once, by ``team add``; it is never stored, logged or printed again.

Revocation: :class:`Chatters` keeps the set of revoked chatters fresh (one query a second per
instance), and every open stream and request checks it, so a revoked token stops working on
every instance within seconds, connections included.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

import asyncpg

from console.webhooks.hub import Access

log = logging.getLogger("console.team")

PREFIX = "fct_"
#: Seconds between two refreshes of the revoked set.
REVOKED_REFRESH = 1.0
_DUMMY = hashlib.sha256(b"no such chatter").digest()


class TeamError(Exception):
    """A team command that cannot be done (a name taken, an unknown chatter)."""


@dataclass(frozen=True)
class Chatter:
    id: int
    name: str
    admin: bool
    #: The accounts this chatter works; an admin works every account.
    accounts: frozenset[str]

    def sees(self, account_id: str) -> bool:
        return self.admin or account_id in self.accounts

    @property
    def scope(self) -> frozenset[str] | None:
        """The accounts the hub's stream is filtered to (None: all)."""
        return None if self.admin else self.accounts


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


def _split(token: str) -> tuple[str, str] | None:
    if not token.startswith(PREFIX):
        return None
    token_id, _, secret = token[len(PREFIX) :].partition("_")
    if not token_id or not secret or len(token) > 200:
        return None
    return token_id, secret


def _name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 64 or not name.isprintable():
        raise TeamError("a chatter's name is 1-64 printable characters")
    return name


async def add_chatter(
    conn: asyncpg.Connection, name: str, accounts: Iterable[str], *, admin: bool
) -> str:
    """Create a chatter; the token (shown once by the caller, never again)."""
    name = _name(name)
    wanted = sorted({a.strip() for a in accounts if a.strip()})
    if not admin and not wanted:
        raise TeamError("give the chatter --accounts ID,… (or --admin for every account)")
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    try:
        async with conn.transaction():
            chatter_id = await conn.fetchval(
                "INSERT INTO chatters (name, token_id, token_hash, admin, accounts) "
                "VALUES ($1, $2, $3, $4, $5) RETURNING id",
                name,
                token_id,
                _digest(secret),
                admin,
                wanted,
            )
            await audit(conn, None, "team.add", f"{name} admin={admin} accounts={wanted}")
    except asyncpg.UniqueViolationError:
        raise TeamError(f"a chatter named {name!r} exists already") from None
    del chatter_id
    return f"{PREFIX}{token_id}_{secret}"


async def revoke_chatter(conn: asyncpg.Connection, name: str) -> None:
    done = await conn.fetchval(
        "UPDATE chatters SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL "
        "RETURNING id",
        name,
    )
    if done is None:
        raise TeamError(f"no active chatter named {name!r}")
    await audit(conn, None, "team.revoke", name)


async def list_chatters(conn: asyncpg.Connection) -> list[dict[str, object]]:
    rows = await conn.fetch(
        "SELECT name, admin, accounts, created_at, revoked_at FROM chatters ORDER BY name"
    )
    return [
        {
            "name": row[0],
            "admin": row[1],
            "accounts": list(row[2]),
            "created_at": row[3].isoformat(),
            "revoked_at": row[4].isoformat() if row[4] else None,
        }
        for row in rows
    ]


async def audit(conn: asyncpg.Connection, chatter_id: int | None, action: str, detail: str) -> None:
    await conn.execute(
        "INSERT INTO audit (chatter_id, action, detail) VALUES ($1, $2, $3)",
        chatter_id,
        action,
        detail[:2000],
    )


class Chatters:
    """The server's view of the chatters: authenticates tokens, follows revocations."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._revoked: set[int] = set()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._refresh()
        self._task = asyncio.create_task(self._follow())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _refresh(self) -> None:
        rows = await self.pool.fetch("SELECT id FROM chatters WHERE revoked_at IS NOT NULL")
        self._revoked = {row[0] for row in rows}

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(REVOKED_REFRESH)
            try:
                await self._refresh()
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("team: cannot refresh revoked tokens (%s)", type(exc).__name__)

    def active(self, chatter: Chatter) -> bool:
        return chatter.id not in self._revoked

    async def authenticate(self, token: str | None) -> Chatter | None:
        parts = _split(token or "")
        row = None
        if parts is not None:
            row = await self.pool.fetchrow(
                "SELECT id, name, admin, accounts, token_hash FROM chatters "
                "WHERE token_id = $1 AND revoked_at IS NULL",
                parts[0],
            )
        stored = bytes(row[4]) if row is not None else _DUMMY
        given = _digest(parts[1] if parts is not None else "")
        if not hmac.compare_digest(given, stored) or row is None:
            return None
        chatter = Chatter(row[0], row[1], row[2], frozenset(row[3]))
        return chatter if self.active(chatter) else None

    async def access(self, token: str | None) -> Access | None:
        """The hub's ``authenticate``: the chatter's accounts, valid until revoked."""
        chatter = await self.authenticate(token)
        if chatter is None:
            return None
        return Access(chatter.name, chatter.scope, lambda: self.active(chatter))
