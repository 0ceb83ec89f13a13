"""Benchmark of the offline cache (``console.store``) against the same SQL run through plain
``sqlite3`` in the same run.

    .venv/bin/python bench/store.py                     # 1,000,000 messages
    .venv/bin/python bench/store.py --messages 100000 --json

The cache is 5 accounts x 2,000 chats holding ``--messages`` messages, plus one account with a
10,000-chat list (one message each) for the chat-list figure. The built file is kept in the
temp dir, keyed by the message count, so reruns skip the build. The build runs in a child
process so that the resident memory reported is the store's, not the generator's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ACCOUNTS = 5
CHATS_PER_ACCOUNT = 2000
BIG_ACCOUNT = "fansly_acc_big"
BIG_CHATS = 10_000
T0 = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp() * 1000)
YEAR_MS = 365 * 24 * 3600 * 1000
COMMON = (
    "hey hi love you so much today tonight photo photos video new set thanks baby cute "
    "beautiful please more send when what how are doing good morning night miss sweet tip "
    "custom request price outfit pink red black gym beach weekend birthday"
).split()
#: Concurrent apply_event callers for the group-commit figure (the listener's deliveries).
CONCURRENT_CALLERS = 16
GOALS = {"open_chat_ms": 20.0, "search_ms": 50.0, "overhead_ratio": 2.0, "rss_mb": 150.0}


def cache_file(messages: int, accounts: int = ACCOUNTS) -> Path:
    name = (
        f"store-{messages}.sqlite3"
        if accounts == ACCOUNTS
        else f"store-{messages}-{accounts}a.sqlite3"
    )
    return Path(tempfile.gettempdir()) / "fansly-console-bench" / name


def _vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = list(COMMON)
    while len(words) < 5000:
        words.append("".join(rng.choice(letters) for _ in range(rng.randint(4, 9))))
    weights = [1 / (rank + 1) ** 1.1 for rank in range(len(words))]  # Zipf-like
    return words, weights


def _texts(rng: random.Random, words: list[str], weights: list[float]) -> Iterator[str]:
    while True:
        batch = rng.choices(words, weights, k=4096)
        index = 0
        while index < len(batch) - 16:
            length = rng.randint(2, 14)
            yield " ".join(batch[index : index + length])
            index += length


def build(path: Path, messages: int, accounts: int = ACCOUNTS) -> float:
    """Create the cache at ``path`` with the real schema, rows inserted in bulk
    (``accounts`` regular accounts of 2,000 chats: bench/tui.py's queue uses 25)."""
    from console.store._core import prepare_file
    from console.store.schema import POS_SHIFT
    from console.store.text import one_line

    started = time.perf_counter()
    partial = path.with_name(path.name + ".partial")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    prepare_file(partial)
    rng = random.Random(1)
    spend_rng = random.Random(2)  # apart: the rest of the cache is what it was before spend
    words, weights = _vocabulary(rng)
    texts = _texts(rng, words, weights)
    conn = sqlite3.connect(partial, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-200000")
    conn.execute("BEGIN")
    now = T0 + YEAR_MS
    conn.executemany(
        "INSERT INTO accounts(account_id, name, fansly_account_id, position, updated_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [(f"fansly_acc_{a}", f"Creator {a}", f"90{a}", a, now) for a in range(accounts)]
        + [(BIG_ACCOUNT, "Big", "999", accounts, now)],
    )
    chats: list[tuple[str, str, str, int]] = []  # (account, chat, fan, size)
    regular = accounts * CHATS_PER_ACCOUNT
    budget = messages - BIG_CHATS if messages > 2 * BIG_CHATS else messages
    shares = [rng.paretovariate(1.5) for _ in range(regular)]
    total = sum(shares)
    for n in range(regular):
        a, c = divmod(n, CHATS_PER_ACCOUNT)
        size = max(1, int(budget * shares[n] / total))
        # Fansly ids are digit strings (the listener refuses others: bench/tui.py's webhooks
        # go into these chats).
        chats.append((f"fansly_acc_{a}", str(10**12 * (a + 1) + c), str(10**14 + n), size))
    big = 9 if accounts < 9 else 99  # past the regular accounts' ids
    chats += [
        (BIG_ACCOUNT, str(big * 10**12 + c), str(8 * 10**14 + c), 1) for c in range(BIG_CHATS)
    ]
    seq = 0
    for account_id, chat_id, fan_id, size in chats:
        creator = "999" if account_id == BIG_ACCOUNT else f"90{account_id.rsplit('_', 1)[1]}"
        times = sorted(rng.randrange(T0, T0 + YEAR_MS) for _ in range(size))
        rows = []
        for when in times:
            seq += 1
            from_creator = rng.random() < 0.45
            rows.append(
                (
                    (when << POS_SHIFT) | (seq & 0xFFF),
                    str(10**16 + seq),
                    chat_id,
                    account_id,
                    creator if from_creator else fan_id,
                    from_creator,
                    next(texts),
                    when,
                )
            )
        conn.executemany(
            "INSERT OR IGNORE INTO messages(pos, message_id, chat_id, account_id, sender_id, "
            "from_creator, text, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        last = rows[-1]
        waiting = None
        for row in reversed(rows):
            if row[5]:
                break
            waiting = row[7]
        conn.execute(
            "INSERT INTO fans(account_id, fan_id, username, display_name, "
            "lifetime_spend_millis, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            # Spend for the queue's badges and its spend order (issue 16).
            (
                account_id,
                fan_id,
                f"user_{fan_id}",
                f"Fan {fan_id}",
                int(spend_rng.paretovariate(1.2) * 20_000),
                now,
            ),
        )
        conn.execute(
            """INSERT INTO chats(chat_id, account_id, fan_id, unread_count, last_message_id,
                last_message_at, last_preview, last_from_creator, pinned, waiting_since, vip,
                subscriber, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                chat_id,
                account_id,
                fan_id,
                0 if last[5] else rng.randint(1, 3),
                last[1],
                last[7],
                one_line(last[6]),
                last[5],
                rng.random() < 0.01,
                waiting,
                rng.random() < 0.1,
                rng.random() < 0.6,
                now,
            ),
        )
    # Indexed in one go, as a cache that has been idle is (the triggers only queued them).
    conn.execute("DELETE FROM fts_pending")
    conn.execute("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")
    conn.execute("COMMIT")
    conn.execute("PRAGMA optimize")
    conn.close()
    partial.replace(path)
    return time.perf_counter() - started


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] * 1000 if len(samples) > 1 else samples[0]


async def timed(fn: Callable[[], Awaitable[Any]], runs: list[float]) -> Any:
    started = time.perf_counter()
    result = await fn()
    runs.append(time.perf_counter() - started)
    return result


def timed_plain(fn: Callable[[], Any], runs: list[float]) -> Any:
    started = time.perf_counter()
    result = fn()
    runs.append(time.perf_counter() - started)
    return result


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MiB."""
    fields = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def measure(path: Path, samples: int) -> dict[str, Any]:
    from console.store import Store
    from console.store._core import CHAT_COLUMNS, CHAT_FROM, MESSAGE_COLUMNS, MESSAGE_FROM
    from console.store.text import HL_END, HL_START, fts_query

    rng = random.Random(2)
    plain = sqlite3.connect(path)
    plain.execute("PRAGMA query_only=1")
    # Chats with at least two pages, so that "page older" reads a full page.
    chat_ids = [
        row[0]
        for row in plain.execute(
            "SELECT chat_id FROM messages WHERE chat_id LIKE 'c%' GROUP BY chat_id "
            "HAVING COUNT(*) >= 100"
        )
    ]
    figures: dict[str, Any] = {}

    # A thread's order is (created_at, pos) (schema v7); the plain cursor is given its time.
    latest_sql = (
        f"SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_FROM} WHERE m.chat_id = ? "
        "ORDER BY m.created_at DESC, m.pos DESC LIMIT 50"
    )
    before_sql = (
        f"SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_FROM} WHERE m.chat_id = ? "
        "AND (m.created_at, m.pos) < (? >> 12, ?) ORDER BY m.created_at DESC, m.pos DESC LIMIT 50"
    )
    list_sql = (
        f"SELECT {CHAT_COLUMNS} FROM {CHAT_FROM} WHERE c.account_id = ? "
        "ORDER BY c.pinned DESC, c.last_message_at DESC, c.chat_id LIMIT 50 OFFSET 0"
    )
    count_sql = "SELECT COUNT(*) FROM chats c WHERE c.account_id = ?"
    search_sql = """SELECT m.account_id, m.chat_id,
            COALESCE(NULLIF(f.display_name, ''), NULLIF(f.username, ''), ''),
            m.message_id, m.pos, m.created_at, m.from_creator,
            snippet(messages_fts, 0, ?, ?, '…', 12)
        FROM messages_fts JOIN messages m ON m.pos = messages_fts.rowid
        LEFT JOIN chats c ON c.chat_id = m.chat_id
        LEFT JOIN fans f ON f.account_id = c.account_id AND f.fan_id = c.fan_id
        WHERE messages_fts MATCH ? ORDER BY messages_fts.rowid DESC LIMIT 50"""
    queries = ["love", "photo", "beach weekend", "tip", "cust", "good morning", "pink outfit"]
    queries += rng.sample(COMMON, 5)

    async with await Store.open(path) as store:
        # Warm both paths equally (page cache, statement cache).
        for chat_id in chat_ids[:50]:
            await store.latest_messages(chat_id)
            plain.execute(latest_sql, (chat_id,)).fetchall()

        ours: list[float] = []
        base: list[float] = []
        older_ours: list[float] = []
        older_base: list[float] = []
        picks = [rng.choice(chat_ids) for _ in range(samples)]
        for chat_id in picks:
            rows = await timed(lambda c=chat_id: store.latest_messages(c, 50), ours)
            timed_plain(lambda c=chat_id: plain.execute(latest_sql, (c,)).fetchall(), base)
            if rows:
                cursor = rows[0].pos
                await timed(lambda c=chat_id, p=cursor: store.messages_before(c, p, 50), older_ours)
                timed_plain(
                    lambda c=chat_id, p=cursor: plain.execute(before_sql, (c, p, p)).fetchall(),
                    older_base,
                )
        figures["open_chat_ms"] = p95(ours)
        figures["open_chat_sql_ms"] = p95(base)
        figures["page_older_ms"] = p95(older_ours)
        figures["page_older_sql_ms"] = p95(older_base)

        ours, base = [], []
        for _ in range(samples):

            async def screen() -> Any:
                return (
                    await store.chats(BIG_ACCOUNT, limit=50),
                    await store.count_chats(BIG_ACCOUNT),
                )

            await timed(screen, ours)
            timed_plain(
                lambda: (
                    plain.execute(list_sql, (BIG_ACCOUNT,)).fetchall(),
                    plain.execute(count_sql, (BIG_ACCOUNT,)).fetchone(),
                ),
                base,
            )
        figures["chat_list_first_screen_ms"] = p95(ours)
        figures["chat_list_first_screen_sql_ms"] = p95(base)
        figures["chat_list_size"] = await store.count_chats(BIG_ACCOUNT)

        ours, base = [], []
        hits = 0
        for index in range(samples):
            query = queries[index % len(queries)]
            found = await timed(lambda q=query: store.search(q, limit=50), ours)
            hits += len(found)
            match = fts_query(query)
            timed_plain(
                lambda m=match: plain.execute(search_sql, (HL_START, HL_END, m)).fetchall(), base
            )
        figures["search_ms"] = p95(ours)
        figures["search_sql_ms"] = p95(base)
        figures["search_mean_hits"] = hits / samples

        # The worst case of the mix on its own: a 5+ character prefix of a very common word,
        # longer than the FTS prefix index (the store narrows it; plain SQL merges doclists).
        ours, base = [], []
        match = fts_query("photo")
        for _ in range(max(20, samples // 4)):
            await timed(lambda: store.search("photo", limit=50), ours)
            timed_plain(
                lambda: plain.execute(search_sql, (HL_START, HL_END, match)).fetchall(), base
            )
        figures["search_long_prefix_ms"] = p95(ours)
        figures["search_long_prefix_sql_ms"] = p95(base)
        figures["rss_mb"], figures["rss_peak_mb"] = rss_mb()

    plain.close()
    return figures


def make_events(path: Path, count: int) -> list[Any]:
    """``count`` new fan messages spread over the cache's chats, as normalised events."""
    from console.api.models import Message
    from console.events import Event, EventType, Provider

    rng = random.Random(3)
    with sqlite3.connect(path) as conn:
        chat_ids = [
            row[0] for row in conn.execute("SELECT chat_id FROM chats WHERE chat_id LIKE 'c%'")
        ]
    start_ms = T0 + YEAR_MS + 1000
    events = []
    for i in range(count):
        chat_id = rng.choice(chat_ids)
        when = datetime.fromtimestamp((start_ms + i) / 1000, tz=UTC)
        fan_id = "f" + chat_id[1:]
        msg = Message(
            id=f"ev{i}", chat_id=chat_id, sender_id=fan_id, content=f"ev {i} hey", created_at=when
        )
        events.append(
            Event(
                type=EventType.MESSAGE_RECEIVED,
                provider=Provider.FANSLY_API,
                name="message.received",
                idempotency_key=f"bench-{i}",
                account_id="fansly_acc_" + chat_id[1],
                occurred_at=when,
                chat_id=chat_id,
                fan_id=fan_id,
                message=msg,
            )
        )
    return events


async def store_events(path: Path, events: list[Any], callers: int = 1) -> float:
    """Events per second through ``Store.apply_event`` with ``callers`` concurrent callers
    (each waits for its commit, like the listener before its 200)."""
    from console.store import Store

    async with await Store.open(path) as store:
        queue = iter(events)

        async def caller() -> None:
            for event in queue:
                await store.apply_event(event)

        started = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(callers)))
        # The indexing the writer deferred is part of the cost (and of the next figure's).
        await store.flush_index()
        return len(events) / (time.perf_counter() - started)


def plain_events(path: Path, events: list[Any]) -> float:
    """The baseline: the least any design must do per event (log it, add the message, bump
    the chat), one transaction each, through plain sqlite3."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=NORMAL")
    start_ms = T0 + YEAR_MS + 10_000_000
    started = time.perf_counter()
    for i, event in enumerate(events):
        when = start_ms + i
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO event_log(idempotency_key, type, account_id, event_json, received_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (f"plain-{i}", event.type.value, event.account_id, event.model_dump_json(), when),
        )
        conn.execute(
            "INSERT INTO messages(pos, message_id, chat_id, account_id, sender_id, from_creator,"
            " text, created_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
            (when << 12, f"plain{i}", event.chat_id, event.account_id, "x", "hey", when),
        )
        conn.execute(
            "UPDATE chats SET unread_count = unread_count + 1, last_message_at = ? "
            "WHERE chat_id = ?",
            (when, event.chat_id),
        )
        conn.execute("COMMIT")
    rate = len(events) / (time.perf_counter() - started)
    conn.close()
    return rate


def measure_events(path: Path, count: int) -> dict[str, float]:
    # Events go to a scratch copy so the cached build stays as built.
    scratch = path.with_name("events-scratch.sqlite3")
    shutil.copyfile(path, scratch)
    try:
        events = make_events(scratch, count * 2)
        ours = asyncio.run(store_events(scratch, events[:count]))
        concurrent = asyncio.run(store_events(scratch, events[count:], CONCURRENT_CALLERS))
        base = plain_events(scratch, events[:count])
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{scratch}{suffix}").unlink(missing_ok=True)
    return {
        "events_per_s": ours,
        "events_concurrent_per_s": concurrent,
        "events_sql_per_s": base,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=200, help="timed runs per figure")
    parser.add_argument("--rebuild", action="store_true", help="ignore a cached build")
    parser.add_argument("--json", action="store_true", help="all figures as JSON, last line")
    parser.add_argument("--build-only", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_only:
        print(build(Path(args.build_only), args.messages))
        return 0

    path = cache_file(args.messages)
    path.parent.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Any] = {"messages": args.messages}
    if args.rebuild or not path.exists():
        done = subprocess.run(
            [sys.executable, __file__, "--messages", str(args.messages), "--build-only", str(path)],
            check=True,
            capture_output=True,
            text=True,
        )
        figures["build_s"] = float(done.stdout.strip().splitlines()[-1])
        figures["build_cached"] = False
    else:
        figures["build_s"] = None
        figures["build_cached"] = True
    figures["db_mb"] = path.stat().st_size / 2**20
    figures.update(asyncio.run(measure(path, args.samples)))
    figures.update(measure_events(path, max(500, args.samples * 5)))
    for key in (
        "open_chat",
        "page_older",
        "chat_list_first_screen",
        "search",
        "search_long_prefix",
    ):
        figures[f"{key}_ratio"] = figures[f"{key}_ms"] / max(figures[f"{key}_sql_ms"], 1e-9)
    figures["events_ratio"] = figures["events_sql_per_s"] / max(figures["events_per_s"], 1e-9)

    built = "cached" if figures["build_cached"] else f"{figures['build_s']:.1f} s"
    print(f"cache: {args.messages:,} messages, {figures['db_mb']:.0f} MiB, build {built}")
    print(f"{'figure':<28}{'store':>12}{'plain SQL':>12}{'ratio':>8}{'goal':>12}")
    rows = [
        ("open chat (latest 50) p95", "open_chat", f"≤ {GOALS['open_chat_ms']:.0f} ms"),
        ("page older (50) p95", "page_older", ""),
        ("chat list first screen p95", "chat_list_first_screen", ""),
        ("search (50 newest) p95", "search", f"≤ {GOALS['search_ms']:.0f} ms"),
        ("search photo* p95", "search_long_prefix", f"≤ {GOALS['search_ms']:.0f} ms"),
    ]
    for label, key, goal in rows:
        print(
            f"{label:<28}{figures[key + '_ms']:>9.2f} ms{figures[key + '_sql_ms']:>9.2f} ms"
            f"{figures[key + '_ratio']:>7.2f}x{goal:>12}"
        )
    print(
        f"{'webhook events applied':<28}{figures['events_per_s']:>10.0f}/s"
        f"{figures['events_sql_per_s']:>10.0f}/s{figures['events_ratio']:>7.2f}x"
    )
    print(
        f"{f'  … {CONCURRENT_CALLERS} concurrent callers':<28}"
        f"{figures['events_concurrent_per_s']:>10.0f}/s"
        f"{'':>12}{figures['events_sql_per_s'] / figures['events_concurrent_per_s']:>7.2f}x"
    )
    print(
        f"{'resident memory':<28}{figures['rss_mb']:>9.1f} MB"
        f"{'':>12}{'':>8}{'≤ 150 MB':>12}  (peak {figures['rss_peak_mb']:.1f} MB)"
    )
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
