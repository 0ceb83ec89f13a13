"""The team database's schema: versioned migrations, applied in order, each once.

``schema_version`` holds one row: the last step applied. :func:`migrate` takes an advisory lock
first, so several ``serve`` instances starting at once apply each step exactly once; each step
runs in its own transaction (a failed step leaves the previous version intact). Never edit a
step once released: append one (tests/team/test_team_schema.py migrates from empty and from the
previous version).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncpg

#: Any constant: the advisory lock migrations take (one at a time across instances).
MIGRATION_LOCK = 0x7EA0_0001

MIGRATIONS: list[str] = [
    # 1: the event log and the chatters. ``seq`` is drawn from events_seq by the writer under
    # an advisory lock held to its commit (console/team/eventlog.py), so seqs commit in order
    # and a console resuming after seq N misses nothing committed later with a smaller seq.
    # log_state says through which seq retention pruned (a gap left by an aborted write is not
    # a prune).
    """
    CREATE TABLE events (
        seq bigint PRIMARY KEY,
        idempotency_key text NOT NULL UNIQUE,
        kind text NOT NULL,
        type text NOT NULL,
        account_id text NOT NULL,
        chat_id text,
        received_at timestamptz NOT NULL DEFAULT now(),
        body text NOT NULL
    );
    CREATE INDEX events_received_at ON events (received_at);
    CREATE SEQUENCE events_seq;
    CREATE TABLE log_state (pruned_through bigint NOT NULL);
    INSERT INTO log_state VALUES (0);
    CREATE TABLE chatters (
        id serial PRIMARY KEY,
        name text NOT NULL UNIQUE,
        token_id text NOT NULL UNIQUE,
        token_hash bytea NOT NULL,
        admin boolean NOT NULL DEFAULT false,
        accounts text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
    );
    CREATE TABLE audit (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        chatter_id integer,
        action text NOT NULL,
        detail text NOT NULL DEFAULT ''
    );
    """,
    # 2: the team's state: what the gateway returned (accounts, chats with their fan, messages:
    # one fetch serves every chatter; ``body`` is the API model's JSON), notes,
    # read state, presence, the team outbox, the shared rate budget and credited sales.
    """
    CREATE TABLE accounts (
        account_id text PRIMARY KEY,
        position integer NOT NULL DEFAULT 0,
        body text NOT NULL
    );
    CREATE TABLE chats (
        chat_id text PRIMARY KEY,
        account_id text NOT NULL,
        fan_id text,
        last_message_at timestamptz,
        data text,
        body text
    );
    CREATE INDEX chats_account ON chats (account_id, last_message_at DESC);
    CREATE TABLE messages (
        message_id text PRIMARY KEY,
        chat_id text NOT NULL,
        account_id text NOT NULL,
        from_creator boolean NOT NULL,
        created_at timestamptz NOT NULL,
        body text NOT NULL,
        sent_by integer REFERENCES chatters (id)
    );
    CREATE INDEX messages_chat ON messages (chat_id, created_at DESC);
    CREATE TABLE notes (
        id bigserial PRIMARY KEY,
        account_id text NOT NULL,
        fan_id text NOT NULL,
        chatter_id integer NOT NULL REFERENCES chatters (id),
        text text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX notes_fan ON notes (account_id, fan_id, created_at);
    CREATE TABLE read_state (
        chat_id text PRIMARY KEY,
        account_id text NOT NULL,
        read_up_to text,
        read_by integer REFERENCES chatters (id),
        read_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE presence (
        chatter_id integer PRIMARY KEY REFERENCES chatters (id),
        account_id text NOT NULL,
        chat_id text NOT NULL,
        seen_at timestamptz NOT NULL DEFAULT now(),
        typing_until timestamptz
    );
    CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        client_id text NOT NULL UNIQUE,
        kind text NOT NULL,
        account_id text NOT NULL,
        chat_id text NOT NULL,
        payload text NOT NULL,
        chatter_id integer NOT NULL REFERENCES chatters (id),
        state text NOT NULL DEFAULT 'queued',
        attempts integer NOT NULL DEFAULT 0,
        not_before timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz,
        message_id text,
        media_ids text[] NOT NULL DEFAULT '{}',
        error text
    );
    CREATE INDEX outbox_due ON outbox (not_before) WHERE state = 'queued';
    CREATE INDEX outbox_chat_sent ON outbox (chat_id, sent_at DESC) WHERE state = 'sent';
    CREATE TABLE rate_budget (
        name text PRIMARY KEY,
        window_start timestamptz NOT NULL,
        used integer NOT NULL
    );
    CREATE TABLE credits (
        event_seq bigint PRIMARY KEY,
        account_id text NOT NULL,
        chat_id text,
        chatter_id integer REFERENCES chatters (id),
        media_id text,
        amount_millis bigint NOT NULL DEFAULT 0,
        at timestamptz NOT NULL
    );
    """,
    # 3: the credits the team spends with the gateway (issue 17 in team mode), per account,
    # feature and UTC day "YYYY-MM-DD" (the solo cache's ``credit_usage`` rows, the same rule:
    # console/credit_rule.py). Every instance adds to a row with one upsert (never a read then
    # a write), so what several instances count adds up once. ``credits`` keeps fractions
    # (webhook events cost 1/80 each).
    """
    CREATE TABLE credit_usage (
        account_id text NOT NULL,
        feature text NOT NULL,
        day text NOT NULL,
        requests bigint NOT NULL DEFAULT 0,
        bytes bigint NOT NULL DEFAULT 0,
        credits double precision NOT NULL DEFAULT 0,
        PRIMARY KEY (account_id, feature, day)
    );
    CREATE INDEX credit_usage_day ON credit_usage (day);
    """,
]

LATEST = len(MIGRATIONS)


async def current_version(conn: asyncpg.Connection) -> int:
    exists = await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
    if not exists:
        return 0
    return int(await conn.fetchval("SELECT version FROM schema_version") or 0)


async def migrate(conn: asyncpg.Connection, *, target: int = LATEST) -> int:
    """Apply the steps after the database's version up to ``target``; the version reached.

    A database newer than this code is refused (an older ``serve`` must not write to it)."""
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)")
        version = await current_version(conn)
        if version == 0 and not await conn.fetchval("SELECT count(*) FROM schema_version"):
            await conn.execute("INSERT INTO schema_version VALUES (0)")
        if version > LATEST:
            raise RuntimeError(
                f"the team database is at schema version {version}, newer than this "
                f"fansly-console knows ({LATEST}): upgrade fansly-console"
            )
        for step in range(version, min(target, LATEST)):
            async with conn.transaction():
                await conn.execute(MIGRATIONS[step])
                await conn.execute("UPDATE schema_version SET version = $1", step + 1)
            version = step + 1
        return version
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
