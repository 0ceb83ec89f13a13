"""Connections to the team database (asyncpg), and its URL from the flags, env or config."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from console.problems import Problem

if TYPE_CHECKING:
    import asyncpg

#: The environment variable that names the team database (below ``--database``).
DATABASE_ENV = "FANSLY_CONSOLE_DATABASE_URL"


def database_url(given: str | None, configured: str | None = None) -> str:
    """``--database``, else the environment, else ``[team] database_url``; a Problem if none."""
    url = given or os.environ.get(DATABASE_ENV) or configured
    if not url:
        raise Problem(
            "no team database: give --database postgresql://…, set "
            f"{DATABASE_ENV}, or database_url under [team] in the config"
        )
    if not url.startswith(("postgresql://", "postgres://")):
        raise Problem("the team database URL must start with postgresql://")
    return url


def safe_url(url: str) -> str:
    """The URL without its password (what may be printed)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


async def connect(url: str) -> asyncpg.Connection:
    import asyncpg

    try:
        return await asyncpg.connect(url)
    except (OSError, asyncpg.PostgresError) as exc:
        raise Problem(f"cannot reach the team database {safe_url(url)}: {exc}") from None


async def create_pool(url: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    import asyncpg

    try:
        # Custom plans only: a statement prepared while the team's tables were small (a new
        # database) would otherwise keep the generic plan PostgreSQL settled on then (a scan
        # of the event log), and a long-running instance got slower as the log grew: ingest
        # fell from 1,660 to 930 deliveries/s in 12 s of bench/team.py, a fresh process was
        # back at 1,900/s. Planning these short statements costs little.
        pool = await asyncpg.create_pool(
            url,
            min_size=min_size,
            max_size=max_size,
            server_settings={"plan_cache_mode": "force_custom_plan"},
        )
    except (OSError, asyncpg.PostgresError) as exc:
        raise Problem(f"cannot reach the team database {safe_url(url)}: {exc}") from None
    assert pool is not None
    return pool


async def open_database(url: str) -> None:
    """Migrate the database to this code's schema (a no-op when it is there already)."""
    from console.team.schema import migrate

    conn = await connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
