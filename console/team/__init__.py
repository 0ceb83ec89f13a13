"""Team mode: the team server (``fansly-console serve``) on PostgreSQL.

The server holds the only gateway API key and webhook secret; chatters hold tokens scoped to
the accounts they work. Instances share nothing but the database (DESIGN.md, "Team mode").

Driver: asyncpg (pinned in pyproject.toml). Why: the server is asyncio end to end (uvicorn,
the hub), asyncpg is asyncio-native with a pool and LISTEN/NOTIFY callbacks on a connection,
and it is the fastest of the two on the ingest path (binary protocol, prepared statements).
The commands that run once (``team add``) use it through ``asyncio.run``.

This package never imports the TUI (an import-linter contract says so).
"""
