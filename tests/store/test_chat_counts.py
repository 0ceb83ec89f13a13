"""The chat list's sizes are kept, not counted (issue 14): ``chat_counts`` holds, per account,
how many chats each filter shows and the unread messages (the tab's badge), updated by
triggers in the same transaction as the write. Fuzzed against ``COUNT(*)`` and ``SUM`` on the
same file, through every path that writes chats: the store's own (a page of the chat list,
messages arriving and sent, read, pin, mute and its undo, VIP lists, subscriptions) and any
other connection's SQL (inserts, updates of every filtered column, a chat moved to another
account, deletes, an account deleted with its chats, a rolled-back delete)."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

from support.store import (
    ACCOUNT,
    CREATOR,
    account,
    chat,
    fan,
    message,
    message_event,
    subscription_event,
)

import console.store._queries as queries
from console.events import EventType
from console.store import ChatFilter, Store
from console.store.schema import migrate

OTHER = "fansly_acc_2"
ACCOUNTS = (ACCOUNT, OTHER)
CHATS = 40
STEPS = 1500


Sizes = dict[tuple[str, str], int]
UNREAD = "unread messages"  # the tab's badge, beside the filters' sizes


def _exact(conn: sqlite3.Connection) -> Sizes:
    """Every (account, filter) size by ``COUNT(*)`` with the list's own conditions, and the
    account's unread messages by ``SUM``."""
    sizes: Sizes = {}
    for account_id in ACCOUNTS:
        (sizes[account_id, UNREAD],) = conn.execute(
            "SELECT COALESCE(SUM(unread_count), 0) FROM chats WHERE account_id = ?", (account_id,)
        ).fetchone()
        for kind in ChatFilter:
            where, params = queries._chat_where(account_id, kind, None)
            (sizes[account_id, kind],) = conn.execute(
                f"SELECT COUNT(*) FROM chats c WHERE {where}", params
            ).fetchone()
    return sizes


def _table(conn: sqlite3.Connection) -> Sizes:
    """The kept sizes as the table holds them (an account with no row has none)."""
    kinds = [*ChatFilter, UNREAD]
    sizes: Sizes = dict.fromkeys(((a, kind) for a in ACCOUNTS for kind in kinds), 0)
    names = ", ".join(f"n_{kind.value}" for kind in ChatFilter)
    sql = f"SELECT account_id, {names}, unread_messages FROM chat_counts"
    for account_id, *counts in conn.execute(sql):
        sizes.update(((account_id, kind), n) for kind, n in zip(kinds, counts, strict=True))
    return sizes


async def _kept(store: Store) -> Sizes:
    """The sizes the list and the tabs read."""
    sizes: Sizes = {
        (account_id, kind): await store.count_chats(account_id, kind)
        for account_id in ACCOUNTS
        for kind in ChatFilter
    }
    unread = await store.unread_counts()
    return sizes | {(account_id, UNREAD): unread.get(account_id, 0) for account_id in ACCOUNTS}


def _sql_write(conn: sqlite3.Connection, rng: random.Random) -> None:
    """Another connection's commit: any change to a chat's filtered columns, or its row."""
    chat_id = f"c{rng.randrange(CHATS)}"
    kind = rng.randrange(7)
    conn.execute("BEGIN")
    if kind == 0:
        conn.execute(
            "INSERT INTO chats(chat_id, account_id, fan_id, unread_count, pinned, muted, "
            "waiting_since, vip, subscriber, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0) "
            "ON CONFLICT(chat_id) DO UPDATE SET unread_count = excluded.unread_count, "
            "pinned = excluded.pinned, waiting_since = excluded.waiting_since",
            (
                chat_id,
                rng.choice(ACCOUNTS),
                str(rng.randrange(CHATS)),
                rng.choice([0, 0, 1, 5]),
                rng.randrange(2),
                rng.randrange(2),
                rng.choice([None, 1000]),
                rng.randrange(2),
                rng.randrange(2),
            ),
        )
    elif kind == 1:
        conn.execute("DELETE FROM chats WHERE chat_id = ?", (chat_id,))
    elif kind == 2:  # several rows in one statement, several columns at once
        conn.execute(
            "UPDATE chats SET unread_count = ?, vip = ?, muted = ? WHERE account_id = ? "
            "AND chat_id > ?",
            (rng.randrange(3), rng.randrange(2), rng.randrange(2), rng.choice(ACCOUNTS), chat_id),
        )
    elif kind == 3:
        conn.execute(
            "UPDATE chats SET account_id = ? WHERE chat_id = ?", (rng.choice(ACCOUNTS), chat_id)
        )
    elif kind == 4:  # a statement that sets the columns to what they were
        conn.execute(
            "UPDATE chats SET pinned = pinned, waiting_since = waiting_since WHERE chat_id = ?",
            (chat_id,),
        )
    elif kind == 5:
        conn.execute(
            "UPDATE chats SET waiting_since = ?, subscriber = ? WHERE chat_id = ?",
            (rng.choice([None, 5, 6]), rng.randrange(2), chat_id),
        )
    else:  # rolled back: nothing kept, counts included
        conn.execute("DELETE FROM chats WHERE account_id = ?", (rng.choice(ACCOUNTS),))
        conn.execute("ROLLBACK")
        return
    conn.execute("COMMIT")


async def test_kept_sizes_equal_count_under_every_write(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    rng = random.Random(1414)
    async with await Store.open(path) as store:
        await store.upsert_accounts([account(), account(OTHER, "9001")])
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA foreign_keys=ON")
        sent = 0

        def some_chat() -> str:
            return f"c{rng.randrange(CHATS)}"

        async def page() -> None:
            chats = [
                chat(
                    some_chat(),
                    str(rng.randrange(CHATS)),
                    unread=rng.choice([0, 0, 2]),
                    account_id=ACCOUNT,
                    lists=rng.choice([[], ["VIP"], ["vip "]]),
                )
                for _ in range(rng.randint(1, 5))
            ]
            await store.upsert_chats(ACCOUNT, chats)

        async def arrives() -> None:
            nonlocal sent
            sent += 1
            chat_id = some_chat()
            row = conn.execute("SELECT fan_id FROM chats WHERE chat_id = ?", (chat_id,)).fetchone()
            mine = rng.random() < 0.3
            sender = CREATOR if mine else (row[0] if row and row[0] else "100")
            msg = message(f"m{sent}", chat_id, sender=sender, minutes=sent)
            await store.apply_event(message_event(f"k{sent}", msg, sent=mine))

        async def subscribes() -> None:
            nonlocal sent
            sent += 1
            kinds = [EventType.SUBSCRIPTION_NEW, EventType.SUBSCRIPTION_EXPIRED]
            fan_id = str(rng.randrange(CHATS))
            await store.apply_event(subscription_event(f"s{sent}", rng.choice(kinds), fan_id, sent))

        async def listed() -> None:
            await store.upsert_fan(
                ACCOUNT, fan(str(rng.randrange(CHATS)), lists=rng.choice([[], ["VIP"]]))
            )

        async def mute() -> None:
            chat_id = some_chat()
            if conn.execute("SELECT 1 FROM chats WHERE chat_id = ?", (chat_id,)).fetchone():
                kind = rng.choice(["mute", "unmute"])
                await store.outbox.add(ACCOUNT, chat_id, kind, {"fan_id": "100"})

        async def sql() -> None:
            _sql_write(conn, rng)

        writes: list[Callable[[], Awaitable[None]]] = [
            page,
            arrives,
            arrives,
            subscribes,
            listed,
            mute,
            lambda: store.local.mark_read(some_chat()),
            lambda: store.local.set_chat_pinned(some_chat(), rng.random() < 0.5),
            sql,
            sql,
        ]
        for step in range(STEPS):
            await rng.choice(writes)()
            exact = _exact(conn)
            assert _table(conn) == exact, f"step {step}"
            if step % 10 == 0:
                assert await _kept(store) == exact, f"step {step}"
        # The fuzz reached every filter both ways (not a run of empty lists).
        assert all(n > 0 for n in _exact(conn).values())
        conn.execute("DELETE FROM accounts WHERE account_id = ?", (OTHER,))  # its chats go too
        assert _table(conn) == _exact(conn)
        assert await _kept(store) == _exact(conn)
        conn.close()


async def test_the_migration_counts_an_existing_cache(tmp_path: Path) -> None:
    """A cache from before the kept sizes (schema step 11) gets them from its rows, exactly."""
    path = tmp_path / "cache.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=11)
    conn.execute("INSERT INTO accounts(account_id, updated_at) VALUES (?, 0), (?, 0)", ACCOUNTS)
    rng = random.Random(7)
    conn.executemany(
        "INSERT INTO chats(chat_id, account_id, unread_count, pinned, muted, waiting_since, "
        "vip, subscriber, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
        [
            (
                f"c{n}",
                rng.choice(ACCOUNTS[:1] if n < 150 else ACCOUNTS),
                rng.choice([0, 3]),
                rng.randrange(2),
                rng.randrange(2),
                rng.choice([None, 9]),
                rng.randrange(2),
                rng.randrange(2),
            )
            for n in range(300)
        ],
    )
    async with await Store.open(path) as store:
        assert _table(conn) == _exact(conn)
        assert await _kept(store) == _exact(conn)
    conn.close()
