"""The cache schema as a list of migration steps, versioned with ``PRAGMA user_version``.

Step ``n`` (1-based) takes a database at version ``n - 1`` to version ``n``. Steps are only
ever appended: a released step never changes, so every cache on disk can be brought forward.

Messages use ``pos INTEGER PRIMARY KEY`` = ``created_at_ms << 12 | n`` so that rowid order is
time order: FTS5 can return the newest matches first (``ORDER BY rowid DESC``) without sorting
every match. A thread is ordered by ``(created_at, pos)`` (v7, see ``_V7``): a millisecond's
slot holds 4,096 positions, and its messages past that take the next free positions after the
slot (``_core.spill_pos``), so any number of messages may share one millisecond.
"""

from __future__ import annotations

import sqlite3

POS_SHIFT = 12  # 4096 positions per millisecond; more spill past the slot (``_V7``)

_V1 = """
CREATE TABLE accounts (
    account_id TEXT PRIMARY KEY,
    name TEXT NOT NULL DEFAULT '',
    username TEXT,
    fansly_account_id TEXT,
    country TEXT,
    status TEXT,
    position INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);

CREATE TABLE fans (
    account_id TEXT NOT NULL REFERENCES accounts(account_id) ON DELETE CASCADE,
    fan_id TEXT NOT NULL,
    username TEXT NOT NULL DEFAULT '',
    display_name TEXT,
    avatar_url TEXT,
    created_at INTEGER,
    subscription_json TEXT,
    subscription_status TEXT,
    subscription_updated_at INTEGER,
    lifetime_spend_millis INTEGER,
    tips_millis INTEGER,
    last_purchase_at INTEGER,
    last_purchase_millis INTEGER,
    lists_json TEXT NOT NULL DEFAULT '[]',
    spend_history_json TEXT NOT NULL DEFAULT '[]',
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, fan_id)
) WITHOUT ROWID;

CREATE TABLE chats (
    chat_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(account_id) ON DELETE CASCADE,
    fan_id TEXT,
    unread_count INTEGER NOT NULL DEFAULT 0,
    last_message_id TEXT,
    last_message_at INTEGER,
    last_preview TEXT NOT NULL DEFAULT '',
    last_from_creator INTEGER NOT NULL DEFAULT 0,
    pinned INTEGER NOT NULL DEFAULT 0,
    muted INTEGER NOT NULL DEFAULT 0,
    waiting_since INTEGER,
    vip INTEGER NOT NULL DEFAULT 0,
    subscriber INTEGER NOT NULL DEFAULT 0,
    subscription_tier_id TEXT,
    flags INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);
CREATE INDEX chats_list ON chats(account_id, pinned DESC, last_message_at DESC, chat_id);
CREATE INDEX chats_fan ON chats(account_id, fan_id);

CREATE TABLE messages (
    pos INTEGER PRIMARY KEY,
    message_id TEXT UNIQUE,
    client_id TEXT UNIQUE,
    chat_id TEXT NOT NULL REFERENCES chats(chat_id) ON DELETE CASCADE,
    account_id TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    from_creator INTEGER NOT NULL,
    text TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    reply_to_id TEXT,
    attachments_json TEXT NOT NULL DEFAULT '[]',
    likes_json TEXT NOT NULL DEFAULT '[]',
    liked_by_creator INTEGER NOT NULL DEFAULT 0,
    pinned INTEGER NOT NULL DEFAULT 0,
    tip_millis INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'sent',
    error TEXT
);
CREATE INDEX messages_chat ON messages(chat_id, pos);
CREATE INDEX messages_chat_side ON messages(chat_id, from_creator, pos);

CREATE TABLE fan_notes (
    account_id TEXT NOT NULL,
    fan_id TEXT NOT NULL,
    text TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, fan_id)
) WITHOUT ROWID;

CREATE TABLE drafts (
    chat_id TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE automations (
    account_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    rule_json TEXT NOT NULL,
    PRIMARY KEY (account_id, position)
) WITHOUT ROWID;

CREATE TABLE event_log (
    seq INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    account_id TEXT NOT NULL,
    event_json TEXT NOT NULL,
    received_at INTEGER NOT NULL
);
"""

_V2 = """
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    client_id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox(account_id, state, next_attempt_at);

CREATE TABLE sync_state (
    account_id TEXT NOT NULL,
    chat_id TEXT NOT NULL,  -- '' for the account's chat list
    cursor TEXT,
    done INTEGER NOT NULL DEFAULT 0,
    fetched INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, chat_id)
) WITHOUT ROWID;

CREATE TABLE gaps (
    id INTEGER PRIMARY KEY,
    account_id TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    from_message_id TEXT NOT NULL,
    to_message_id TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (chat_id, from_message_id)
);
"""

_V3 = """
CREATE VIRTUAL TABLE messages_fts USING fts5(
    text, content='messages', content_rowid='pos', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, text) VALUES (new.pos, new.text);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.pos, old.text);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF pos, text ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.pos, old.text);
    INSERT INTO messages_fts(rowid, text) VALUES (new.pos, new.text);
END;
-- Messages cached before this version are indexed too.
INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
"""

# Prefix indexes for 2-4 characters: a search-as-you-type query ("he"*) then reads one
# doclist newest-first and stops after a page, instead of merging every term it matches.
_V4 = """
DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;
DROP TABLE messages_fts;
CREATE VIRTUAL TABLE messages_fts USING fts5(
    text, content='messages', content_rowid='pos', tokenize='unicode61 remove_diacritics 2',
    prefix='2 3 4'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, text) VALUES (new.pos, new.text);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.pos, old.text);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF pos, text ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.pos, old.text);
    INSERT INTO messages_fts(rowid, text) VALUES (new.pos, new.text);
END;
INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
"""

# Indexing leaves the delivery transaction: a message row goes into ``fts_pending`` (same
# transaction) and the writer indexes pending rows later in larger chunks, when no event waits
# (see ``_fts.py``). FTS5 flushes its in-memory terms into a new segment at every savepoint
# and commit, so indexing one message per event cost 2-3x indexing it in a chunk of 256.
# Invariant, kept by these triggers: a message is either indexed with its current text and
# not pending, or pending and absent from the index. So a pending row's edit or delete has
# nothing to take out of the index, and an indexed row's takes out its old text (external
# content FTS5 needs it) before the row is pending again. Search reads the index and scans
# the pending rows with the same tokenizer, so a committed message is found at once.
_V5 = """
CREATE TABLE fts_pending (pos INTEGER PRIMARY KEY);
DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT OR IGNORE INTO fts_pending(pos) VALUES (new.pos);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text) SELECT 'delete', old.pos, old.text
        WHERE NOT EXISTS (SELECT 1 FROM fts_pending WHERE pos = old.pos);
    DELETE FROM fts_pending WHERE pos = old.pos;
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF pos, text ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text) SELECT 'delete', old.pos, old.text
        WHERE NOT EXISTS (SELECT 1 FROM fts_pending WHERE pos = old.pos);
    DELETE FROM fts_pending WHERE pos = old.pos;
    INSERT OR IGNORE INTO fts_pending(pos) VALUES (new.pos);
END;
"""

# The newest reaction per (message, user) that a webhook told us, with the event's time:
# deliveries come out of order (retries, a slow path), and a like removed after it was added
# must stay removed when the "added" arrives late. Kept for messages not cached yet too.
_V6 = """
CREATE TABLE reactions (
    message_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    added INTEGER NOT NULL,
    PRIMARY KEY (message_id, user_id)
) WITHOUT ROWID;
"""

# A thread is ordered by (created_at, pos), no longer by pos alone. Fansly sends createdAt in
# seconds, so a mass message puts thousands of messages in one millisecond: more than a slot of
# positions (4,096) was refused ("UNIQUE constraint failed: messages.pos", a 503 for every
# delivery and retry). A full slot's messages now take the first free positions after it
# (possibly in a later millisecond's slot, beside that millisecond's own messages); ordering
# by created_at first keeps them before the later millisecond's, and pos breaks ties in the
# order the cache recorded them. Positions stay time-ordered to the millisecond except for
# such overflow, which search (newest first by rowid) may show a few milliseconds late.
# Existing positions are already in (created_at, pos) order: only the indexes change.
_V7 = """
DROP INDEX messages_chat;
DROP INDEX messages_chat_side;
CREATE INDEX messages_chat ON messages(chat_id, created_at);
CREATE INDEX messages_chat_side ON messages(chat_id, from_creator, created_at);
"""

# Credits spent with the gateway, per account, feature and UTC day (console/store/_usage.py):
# the month's total must survive a restart, and `usage` prints it from the cache alone.
_V8 = """
CREATE TABLE credit_usage (
    account_id TEXT NOT NULL,
    feature TEXT NOT NULL,
    day TEXT NOT NULL,
    requests INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    credits REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, feature, day)
) WITHOUT ROWID;
"""

# Issue 15: the creator's vault (cached whole per account, for the picker and the thread's media
# labels) and the fans' purchases (sale events naming a vault item), ``_media.py``.
_V9 = """
CREATE TABLE vault_albums (
    account_id TEXT NOT NULL,
    album_id TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    item_count INTEGER NOT NULL DEFAULT 0,
    position INTEGER NOT NULL,
    PRIMARY KEY (account_id, album_id)
) WITHOUT ROWID;
CREATE TABLE vault_media (
    account_id TEXT NOT NULL,
    media_id TEXT NOT NULL,
    album_id TEXT,
    kind TEXT NOT NULL DEFAULT 'media',
    title TEXT NOT NULL DEFAULT '',
    duration_s INTEGER NOT NULL DEFAULT 0,
    size_bytes INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER,
    position INTEGER NOT NULL,
    PRIMARY KEY (account_id, media_id)
) WITHOUT ROWID;
CREATE TABLE purchases (
    account_id TEXT NOT NULL,
    fan_id TEXT NOT NULL,
    media_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    price_millis INTEGER,
    bought_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, fan_id, media_id)
) WITHOUT ROWID;
"""

# Issue 16, the queue across accounts: chats whose fan waits for an answer, longest first
# (a partial index: the queue's first page reads a few rows of it, whatever the cache's size),
# and the chatter's reminders ("remind me in N minutes": the chat is left out of the queue
# until due, then comes back on top with a marker). A reminder is the console's alone: never
# sent to the gateway.
# Both indexes cover what the queue filters on (account, muted), so a page and the count read
# the index alone; the rows' details are read for the page's chats only.
_V10 = """
CREATE INDEX chats_waiting ON chats(waiting_since, chat_id, account_id, muted)
    WHERE waiting_since IS NOT NULL;
CREATE INDEX chats_waiting_newest ON chats(last_message_at DESC, chat_id, account_id, muted)
    WHERE waiting_since IS NOT NULL;
CREATE TABLE reminders (
    chat_id TEXT PRIMARY KEY REFERENCES chats(chat_id) ON DELETE CASCADE,
    account_id TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX reminders_due ON reminders(due_at);
"""

# Issue 16, the queue's spend order: the fan's lifetime spend lives in ``fans``, so sorting the
# waiting chats by it read and sorted every one of them (0.1-0.2 s at 33,000). The chat keeps a
# copy (``fan_spend_millis``; NULL: never fetched), kept equal by triggers whoever writes
# either table, and a partial index over waiting chats in spend order covers a page and the
# "spend known for N of M" count. The chat's row still reads the spend from ``fans``.
_V11 = """
ALTER TABLE chats ADD COLUMN fan_spend_millis INTEGER;
UPDATE chats SET fan_spend_millis = (SELECT f.lifetime_spend_millis FROM fans f
    WHERE f.account_id = chats.account_id AND f.fan_id = chats.fan_id)
    WHERE fan_id IS NOT NULL;
CREATE INDEX chats_waiting_spend
    ON chats(fan_spend_millis DESC, waiting_since, chat_id, account_id, muted)
    WHERE waiting_since IS NOT NULL;
CREATE TRIGGER fans_spend_inserted AFTER INSERT ON fans
    WHEN NEW.lifetime_spend_millis IS NOT NULL BEGIN
    UPDATE chats SET fan_spend_millis = NEW.lifetime_spend_millis
        WHERE account_id = NEW.account_id AND fan_id = NEW.fan_id;
END;
CREATE TRIGGER fans_spend_updated AFTER UPDATE OF lifetime_spend_millis ON fans
    WHEN NEW.lifetime_spend_millis IS NOT OLD.lifetime_spend_millis BEGIN
    UPDATE chats SET fan_spend_millis = NEW.lifetime_spend_millis
        WHERE account_id = NEW.account_id AND fan_id = NEW.fan_id;
END;
CREATE TRIGGER fans_spend_deleted AFTER DELETE ON fans BEGIN
    UPDATE chats SET fan_spend_millis = NULL
        WHERE account_id = OLD.account_id AND fan_id = OLD.fan_id;
END;
CREATE TRIGGER chats_spend_inserted AFTER INSERT ON chats WHEN NEW.fan_id IS NOT NULL BEGIN
    UPDATE chats SET fan_spend_millis = (SELECT f.lifetime_spend_millis FROM fans f
        WHERE f.account_id = NEW.account_id AND f.fan_id = NEW.fan_id)
        WHERE chat_id = NEW.chat_id;
END;
CREATE TRIGGER chats_spend_fan_changed AFTER UPDATE OF fan_id, account_id ON chats
    WHEN NEW.fan_id IS NOT OLD.fan_id OR NEW.account_id IS NOT OLD.account_id BEGIN
    UPDATE chats SET fan_spend_millis = (SELECT f.lifetime_spend_millis FROM fans f
        WHERE f.account_id = NEW.account_id AND f.fan_id = NEW.fan_id)
        WHERE chat_id = NEW.chat_id;
END;
"""

# Issue 14, the chat list at 50,000 chats: its sizes are kept, not counted. An index-only
# COUNT(*) of a 50,000-chat account took 5-10 ms (more under load) after every commit, for the
# list's size and its filters' tabs. ``chat_counts`` holds, per account, how many chats each
# filter of the list shows (the columns are ``ChatFilter``'s values; each trigger's predicates
# are the list's own conditions in ``_queries._FILTERS``), and its unread messages (the tabs'
# badges: a SUM over every chat, read after every event). Triggers, not the store's writes:
# every path that writes chats (the store, the ingest worker, another process's SQL, a cascade
# from a deleted account) keeps them in the same transaction. An update adds its differences
# in one statement (a chat moved to another account is subtracted from one, added to the
# other); its WHEN skips the updates that change nothing kept (a chat's new last message, the
# creator's answer to a chat already read). A message's arrival (unread + 1) costs ~2 µs more,
# and its commit one more WAL page (~10 µs). No statement writes chats with INSERT OR REPLACE,
# whose implicit delete fires no trigger (unless recursive_triggers is on):
# ``tests/store/test_chat_counts.py`` fuzzes every path against COUNT(*).
_V12_ADD = """INSERT INTO chat_counts(account_id, n_all, n_unread, n_unanswered, n_vip,
        n_subscribers, n_pinned, n_muted, unread_messages)
    VALUES (NEW.account_id, 1, NEW.unread_count > 0, NEW.waiting_since IS NOT NULL,
        NEW.vip = 1, NEW.subscriber = 1, NEW.pinned = 1, NEW.muted = 1, NEW.unread_count)
    ON CONFLICT(account_id) DO UPDATE SET n_all = n_all + 1,
        unread_messages = unread_messages + excluded.unread_messages,
        n_unread = n_unread + excluded.n_unread,
        n_unanswered = n_unanswered + excluded.n_unanswered,
        n_vip = n_vip + excluded.n_vip, n_subscribers = n_subscribers + excluded.n_subscribers,
        n_pinned = n_pinned + excluded.n_pinned, n_muted = n_muted + excluded.n_muted;"""
_V12_SUBTRACT = """UPDATE chat_counts SET n_all = n_all - 1,
        unread_messages = unread_messages - OLD.unread_count,
        n_unread = n_unread - (OLD.unread_count > 0),
        n_unanswered = n_unanswered - (OLD.waiting_since IS NOT NULL),
        n_vip = n_vip - (OLD.vip = 1), n_subscribers = n_subscribers - (OLD.subscriber = 1),
        n_pinned = n_pinned - (OLD.pinned = 1), n_muted = n_muted - (OLD.muted = 1)
    WHERE account_id = OLD.account_id;"""
_V12 = f"""
CREATE TABLE chat_counts (
    account_id TEXT PRIMARY KEY,
    n_all INTEGER NOT NULL,
    n_unread INTEGER NOT NULL,
    n_unanswered INTEGER NOT NULL,
    n_vip INTEGER NOT NULL,
    n_subscribers INTEGER NOT NULL,
    n_pinned INTEGER NOT NULL,
    n_muted INTEGER NOT NULL,
    unread_messages INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO chat_counts
    SELECT account_id, COUNT(*), SUM(unread_count > 0), SUM(waiting_since IS NOT NULL),
        SUM(vip = 1), SUM(subscriber = 1), SUM(pinned = 1), SUM(muted = 1),
        SUM(unread_count)
    FROM chats GROUP BY account_id;
CREATE TRIGGER chat_counts_insert AFTER INSERT ON chats BEGIN
    {_V12_ADD}
END;
CREATE TRIGGER chat_counts_delete AFTER DELETE ON chats BEGIN
    {_V12_SUBTRACT}
END;
CREATE TRIGGER chat_counts_update
    AFTER UPDATE OF unread_count, waiting_since, vip, subscriber, pinned, muted ON chats
    WHEN OLD.account_id IS NEW.account_id AND (OLD.unread_count IS NOT NEW.unread_count
        OR (OLD.waiting_since IS NULL) IS NOT (NEW.waiting_since IS NULL)
        OR (OLD.vip = 1) IS NOT (NEW.vip = 1)
        OR (OLD.subscriber = 1) IS NOT (NEW.subscriber = 1)
        OR (OLD.pinned = 1) IS NOT (NEW.pinned = 1)
        OR (OLD.muted = 1) IS NOT (NEW.muted = 1))
BEGIN
    UPDATE chat_counts SET
        unread_messages = unread_messages + NEW.unread_count - OLD.unread_count,
        n_unread = n_unread + (NEW.unread_count > 0) - (OLD.unread_count > 0),
        n_unanswered = n_unanswered + (NEW.waiting_since IS NOT NULL)
            - (OLD.waiting_since IS NOT NULL),
        n_vip = n_vip + (NEW.vip = 1) - (OLD.vip = 1),
        n_subscribers = n_subscribers + (NEW.subscriber = 1) - (OLD.subscriber = 1),
        n_pinned = n_pinned + (NEW.pinned = 1) - (OLD.pinned = 1),
        n_muted = n_muted + (NEW.muted = 1) - (OLD.muted = 1)
    WHERE account_id = NEW.account_id;
END;
CREATE TRIGGER chat_counts_move AFTER UPDATE OF account_id ON chats
    WHEN OLD.account_id IS NOT NEW.account_id
BEGIN
    {_V12_SUBTRACT}
    {_V12_ADD}
END;"""

#: The FTS5 prefix index lengths of the current schema (v4: ``prefix='2 3 4'``).
FTS_PREFIXES = (2, 3, 4)
#: Its tokenizer (search checks candidate rows with the same one).
FTS_TOKENIZER = "unicode61 remove_diacritics 2"

#: The migration steps, oldest first. ``len(MIGRATIONS)`` is the current schema version.
MIGRATIONS: list[str] = [_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8, _V9, _V10, _V11, _V12]
SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNew(Exception):
    """The cache was written by a newer fansly-console."""


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring ``conn`` (autocommit mode) up to ``target``; each step is one transaction.

    Returns the version the database was at before.
    """
    (before,) = conn.execute("PRAGMA user_version").fetchone()
    if before > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"the cache is at schema version {before}, newer than this program "
            f"({SCHEMA_VERSION}); upgrade fansly-console"
        )
    for version in range(before + 1, target + 1):
        script = MIGRATIONS[version - 1]
        # executescript commits first; BEGIN inside it makes the step atomic with its version.
        try:
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;"
            )
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return int(before)
