"""The chat list's windows are read by keyset from known rows (issue 14): whatever the order
of the windows asked for, and with commits reordering the list in between, every window is
exactly the rows that ``LIMIT … OFFSET`` gives (the reference, in plain SQL on the same file)."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from support.store import ACCOUNT, account

import console.store._queries as queries
from console.store import ChatFilter, Store

CHATS = 400


def _reference(
    conn: sqlite3.Connection, filter: ChatFilter, search: str | None, offset: int, limit: int
) -> list[str]:
    where, params = queries._chat_where(ACCOUNT, filter, search)
    sql = (
        "SELECT c.chat_id FROM chats c LEFT JOIN fans f ON f.account_id = c.account_id "
        f"AND f.fan_id = c.fan_id WHERE {where}{queries._CHAT_ORDER} LIMIT ? OFFSET ?"
    )
    return [row[0] for row in conn.execute(sql, [*params, limit, offset])]


def _shuffle_some(conn: sqlite3.Connection, rng: random.Random, count: int) -> None:
    """Another connection's commit: new times (ties and NULLs included), pins, unread."""
    conn.execute("BEGIN")
    for _ in range(count):
        conn.execute(
            "UPDATE chats SET last_message_at = ?, pinned = ?, unread_count = ? WHERE chat_id = ?",
            (
                rng.choice([None, rng.randrange(60) * 1000]),
                int(rng.random() < 0.1),
                rng.randrange(3),
                f"c{rng.randrange(CHATS):04d}",
            ),
        )
    conn.execute("COMMIT")


def _fill(conn: sqlite3.Connection, rng: random.Random) -> None:
    """``CHATS`` chats of ``ACCOUNT`` with named fans, inserted in a random order, and another
    account's chats in the same index."""
    conn.execute("BEGIN")
    for n in rng.sample(range(CHATS), CHATS):
        conn.execute(
            "INSERT INTO chats(chat_id, account_id, fan_id, updated_at) VALUES (?, ?, ?, 0)",
            (f"c{n:04d}", ACCOUNT, f"{n}"),
        )
        conn.execute(
            "INSERT INTO fans(account_id, fan_id, username, display_name, updated_at) "
            "VALUES (?, ?, ?, ?, 0)",
            (ACCOUNT, f"{n}", f"user{n}", rng.choice(["Ann", "Bob", "Cy", ""]) + f" {n}"),
        )
    # Another account's chats share the index: never in this list.
    conn.executemany(
        "INSERT INTO chats(chat_id, account_id, updated_at, last_message_at) "
        "VALUES (?, 'other', 0, ?)",
        [(f"o{n}", n) for n in range(50)],
    )
    conn.execute("COMMIT")


async def test_keyset_windows_equal_offset_paging(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    rng = random.Random(14)
    async with await Store.open(path) as store:
        await store.upsert_accounts([account(), account("other", "9001")])
        conn = sqlite3.connect(path, isolation_level=None)
        _fill(conn, rng)
        _shuffle_some(conn, rng, CHATS)
        offset = 0
        for step in range(600):
            if rng.random() < 0.08:
                _shuffle_some(conn, rng, rng.randint(1, 20))
            filter = rng.choice([ChatFilter.ALL] * 4 + [ChatFilter.UNREAD, ChatFilter.PINNED])
            search = rng.choice([None] * 6 + ["ann", "b"])
            total = len(_reference(conn, filter, search, 0, 10**6))
            if rng.random() < 0.5:
                assert await store.count_chats(ACCOUNT, filter, search) == total
            # Mostly small scrolls from the last window, sometimes jumps (top, bottom, middle).
            move = rng.random()
            if move < 0.6:
                offset = max(0, offset + rng.randint(-30, 30))
            elif move < 0.75:
                offset = max(0, total - rng.randint(1, 60))
            else:
                offset = rng.randrange(0, total + 20)
            limit = rng.randint(1, 60)
            got = await store.chats(
                ACCOUNT, filter=filter, search=search, offset=offset, limit=limit
            )
            expected = _reference(conn, filter, search, offset, limit)
            assert [row.chat_id for row in got] == expected, (step, filter, search, offset, limit)
        conn.close()


def _set_filtered(conn: sqlite3.Connection, rng: random.Random, count: int) -> None:
    """Another connection's commit to the columns each filter reads (the kept sizes follow
    it by the schema's triggers), and to the list's order."""
    conn.execute("BEGIN")
    for _ in range(count):
        conn.execute(
            "UPDATE chats SET unread_count = ?, waiting_since = ?, vip = ?, subscriber = ?, "
            "pinned = ?, muted = ?, last_message_at = ? WHERE chat_id = ?",
            (
                rng.choice([0, 0, 1, 4]),
                rng.choice([None, None, rng.randrange(60) * 1000]),
                int(rng.random() < 0.2),
                int(rng.random() < 0.3),
                int(rng.random() < 0.05),
                int(rng.random() < 0.1),
                rng.choice([None, rng.randrange(60) * 1000]),
                f"c{rng.randrange(CHATS):04d}",
            ),
        )
    conn.execute("COMMIT")


async def test_one_read_equals_count_then_window_for_every_filter(tmp_path: Path) -> None:
    """The list's reload reads its size and window in one call (``chat_window``): the same
    size and rows as ``count_chats`` then ``chats``, and as ``COUNT(*)`` and ``LIMIT …
    OFFSET`` in plain SQL, for every filter and name search, from the top to past the bottom,
    with other connections' commits (new sizes, new order) in between."""
    path = tmp_path / "cache.sqlite3"
    rng = random.Random(12)
    async with await Store.open(path) as store:
        await store.upsert_accounts([account(), account("other", "9001")])
        conn = sqlite3.connect(path, isolation_level=None)
        _fill(conn, rng)
        checked = 0
        for _ in range(6):
            _set_filtered(conn, rng, CHATS // 2)
            for filter in ChatFilter:
                for search in (None, "ann", " B ", "zz"):
                    expected_total = len(_reference(conn, filter, search, 0, 10**6))
                    half, bottom = expected_total // 2, max(0, expected_total - 7)
                    for offset in (0, half, bottom, expected_total + 3):
                        limit = rng.choice([0, 1, 7, 50])
                        # The one read first: it must not lean on what the two reads kept.
                        one = await store.chat_window(
                            ACCOUNT, filter=filter, search=search, offset=offset, limit=limit
                        )
                        count = await store.count_chats(ACCOUNT, filter, search)
                        rows = await store.chats(
                            ACCOUNT, filter=filter, search=search, offset=offset, limit=limit
                        )
                        case = (filter, search, offset, limit)
                        assert one == (count, rows), case
                        assert one[0] == expected_total, case
                        expected = _reference(conn, filter, search, offset, limit)
                        assert [row.chat_id for row in one[1]] == expected, case
                        checked += 1
        assert checked == 6 * len(ChatFilter) * 4 * 4
        conn.close()
