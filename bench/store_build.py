"""The bench cache: a bulk build of the real schema, fast enough for 10,000,000 messages.

5 accounts x 2,000 chats hold the messages (Pareto-sized threads, Zipf-distributed words),
plus one account with ``chats`` chats (one message each, at random times) for the chat-list
figures. The rows are generated in time order, so every message goes in at the end of the
``pos`` B-tree (a random order cost a page split per row once the table outgrew the page
cache: ~20 minutes for 10M). The two thread indexes and the insert trigger are dropped for
the load and recreated from their own ``sqlite_master`` text, and the full-text index is
built in one ``rebuild``: the same schema, the same indexes, as a cache that was idle.
"""

from __future__ import annotations

import random
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

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
#: Bumped when the generated data changes, so an older cached file is not reused.
BUILD_VERSION = 3  # 3: fans have a lifetime spend (the queue's badges, issue 16)
_BATCH = 20_000


def cache_file(messages: int, chats: int = BIG_CHATS, accounts: int = ACCOUNTS) -> Path:
    extra = "" if accounts == ACCOUNTS else f"-{accounts}a"
    name = f"store-v{BUILD_VERSION}-{messages}-{chats}{extra}.sqlite3"
    return Path(tempfile.gettempdir()) / "fansly-console-bench" / name


def chat_id(account: int, chat: int) -> str:
    """Fansly ids are digit strings (the listener refuses others: bench/tui.py's webhooks go
    into these chats)."""
    return str(10**12 * (account + 1) + chat)


def fan_id(n: int) -> str:
    return str(10**14 + n)


def big_chat_id(chat: int, accounts: int = ACCOUNTS) -> str:
    # Past the regular accounts' ids (chat_id's prefix is the account's number + 1).
    return str((9 if accounts < 9 else 99) * 10**12 + chat)


def big_fan_id(chat: int) -> str:
    return str(8 * 10**14 + chat)


def creator_id(account_id: str) -> str:
    return "999" if account_id == BIG_ACCOUNT else f"90{account_id.rsplit('_', 1)[1]}"


def _vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = list(COMMON)
    while len(words) < 5000:
        words.append("".join(rng.choice(letters) for _ in range(rng.randint(4, 9))))
    weights = [1 / (rank + 1) ** 1.1 for rank in range(len(words))]  # Zipf-like
    return words, weights


def _texts(rng: random.Random, words: list[str], weights: list[float], count: int) -> list[str]:
    out: list[str] = []
    while len(out) < count:
        batch = rng.choices(words, weights, k=4096)
        index = 0
        while index < len(batch) - 16 and len(out) < count:
            length = rng.randint(2, 14)
            out.append(" ".join(batch[index : index + length]))
            index += length
    return out


def build(
    path: Path,
    messages: int,
    chats: int = BIG_CHATS,
    *,
    accounts: int = ACCOUNTS,
    log: bool = False,
) -> float:
    """Create the cache at ``path`` (``accounts`` regular accounts of 2,000 chats each, and
    the big one of ``chats``: bench/tui.py's queue uses 25); returns the seconds it took."""
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
    conn = sqlite3.connect(partial, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")  # a partial file is thrown away on any failure
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-500000")
    # Dropped for the load, recreated from their own text afterwards (same schema).
    deferred = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE name IN "
        "('messages_chat', 'messages_chat_side', 'messages_fts_insert')"
    ).fetchall()
    conn.execute("BEGIN")
    for kind, name, _ in deferred:
        conn.execute(f"DROP {kind.upper()} {name}")
    now = T0 + YEAR_MS
    conn.executemany(
        "INSERT INTO accounts(account_id, name, fansly_account_id, position, updated_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [(f"fansly_acc_{a}", f"Creator {a}", f"90{a}", a, now) for a in range(accounts)]
        + [(BIG_ACCOUNT, "Big", "999", accounts, now)],
    )
    # (account, chat, fan) of every chat: the regular ones first, then the big account's.
    regular = accounts * CHATS_PER_ACCOUNT
    owners = [
        (f"fansly_acc_{n // CHATS_PER_ACCOUNT}", chat_id(*divmod(n, CHATS_PER_ACCOUNT)), fan_id(n))
        for n in range(regular)
    ] + [(BIG_ACCOUNT, big_chat_id(c, accounts), big_fan_id(c)) for c in range(chats)]
    total = max(messages, len(owners))
    # Every chat's first message at a random place in the stream, the rest by Pareto shares.
    forced = dict(zip(rng.sample(range(total), len(owners)), range(len(owners)), strict=True))
    shares = [rng.paretovariate(1.5) for _ in range(regular)]
    cumulative: list[float] = []
    running = 0.0
    for share in shares:
        running += share
        cumulative.append(running)
    # Per chat: [count, last message id, last time, last text, last from creator, waiting since]
    state: list[list[object]] = [[0, None, None, "", False, None] for _ in owners]
    gap = YEAR_MS // total
    sql = (
        "INSERT INTO messages(pos, message_id, chat_id, account_id, sender_id, from_creator, "
        "text, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    )
    for first in range(0, total, _BATCH):
        size = min(_BATCH, total - first)
        picks = rng.choices(range(regular), cum_weights=cumulative, k=size)
        texts = _texts(rng, words, weights, size)
        rows = []
        for offset in range(size):
            seq = first + offset
            owner = forced.get(seq, picks[offset])
            account_id, chat, fan = owners[owner]
            when = T0 + seq * gap + rng.randrange(max(1, gap // 2))
            from_creator = rng.random() < 0.45
            text = texts[offset]
            message_id = str(10**16 + seq)
            rows.append(
                (
                    when << POS_SHIFT,
                    message_id,
                    chat,
                    account_id,
                    creator_id(account_id) if from_creator else fan,
                    from_creator,
                    text,
                    when,
                )
            )
            chat_state = state[owner]
            chat_state[0] = int(chat_state[0]) + 1  # type: ignore[call-overload]
            chat_state[1:5] = [message_id, when, text, from_creator]
            if from_creator:
                chat_state[5] = None
            elif chat_state[5] is None:
                chat_state[5] = when
        conn.executemany(sql, rows)
        if log and first // _BATCH % 50 == 0:
            print(f"  {first + size:,} messages, {time.perf_counter() - started:.0f} s", flush=True)
    conn.executemany(
        "INSERT INTO fans(account_id, fan_id, username, display_name, lifetime_spend_millis, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        # Spend for the queue's badges and its spend order (issue 16).
        [
            (a, f, f"user_{f}", f"Fan {f}", int(spend_rng.paretovariate(1.2) * 20_000), now)
            for a, _, f in owners
        ],
    )
    conn.executemany(
        """INSERT INTO chats(chat_id, account_id, fan_id, unread_count, last_message_id,
            last_message_at, last_preview, last_from_creator, pinned, waiting_since, vip,
            subscriber, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            (
                chat,
                account_id,
                fan,
                0 if last[4] else rng.randint(1, 3),
                last[1],
                last[2],
                one_line(str(last[3])),
                last[4],
                rng.random() < 0.01,
                last[5],
                rng.random() < 0.1,
                rng.random() < 0.6,
                now,
            )
            for (account_id, chat, fan), last in zip(owners, state, strict=True)
        ],
    )
    if log:
        print(f"  rows in, {time.perf_counter() - started:.0f} s; indexes …", flush=True)
    for _, _, text in deferred:
        if not text.startswith("CREATE TRIGGER"):
            conn.execute(text)
    if log:
        print(f"  indexes, {time.perf_counter() - started:.0f} s; full-text …", flush=True)
    # Indexed in one go, as a cache that has been idle is.
    conn.execute("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")
    for _, _, text in deferred:
        if text.startswith("CREATE TRIGGER"):
            conn.execute(text)
    conn.execute("COMMIT")
    if log:
        print(f"  full-text, {time.perf_counter() - started:.0f} s", flush=True)
    conn.execute("PRAGMA journal_mode=WAL")  # no ANALYZE: a user's cache has no statistics
    conn.close()
    partial.replace(path)
    return time.perf_counter() - started
