"""Long prefixes are searched through a shorter, indexed one and checked row by row: the
results must be exactly those of the plain FTS5 query (same rows, order, limit, snippets)."""

from __future__ import annotations

import random
import sqlite3
import string
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from support.store import ACCOUNT, account, message

import console.store._queries as queries
from console.store import SearchHit, Store
from console.store.schema import FTS_TOKENIZER
from console.store.text import ascii_token_prefix, fts_narrowing

WORDS = [
    "photo", "photos", "Photographer", "PHOTOGRAPHY", "phot", "photon", "photo_shoot",
    "2photo", "photo2", "xphoto", "phötos", "ＰＨＯＴＯ", "Phōto", "café", "cafe", "love",
    "lovely", "beach", "weekend", "weekends", "tonight", "to-night", "résumé", "resume",
]  # fmt: skip
QUERIES = [
    "photo", "Photo", "PHOTOG", "photograph", "photon", "photos", "phôto", "love phot",
    "beach weeke", "weekend", "tonigh", "resum", "resume ", "café", "photo_sh", "zzzzzz",
    "photoz",
]  # fmt: skip


def _texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    noise = string.punctuation + " \t\n" + "\x01\x1f"
    return [
        "".join(rng.choice(WORDS) + rng.choice(noise) for _ in range(rng.randint(1, 6)))
        for _ in range(count)
    ]


@pytest.fixture(scope="module")
def path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("narrow") / "cache.sqlite3"


@pytest.fixture
async def store(path: Path) -> AsyncIterator[Store]:
    async with await Store.open(path) as opened:
        if not await opened.accounts():
            await opened.upsert_accounts([account(), account("acc2", "9001")])
            for n, text_chunk in enumerate([_texts(600, 1), _texts(600, 2)]):
                acc = ACCOUNT if n == 0 else "acc2"
                await opened.upsert_messages(
                    acc,
                    f"c{n}",
                    [
                        message(f"m{n}-{i}", f"c{n}", text=t, minutes=i * 2 + n)
                        for i, t in enumerate(text_chunk)
                    ],
                )
        yield opened


@pytest.fixture
def plain_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(queries, "NARROW_MAX_LIMIT", -1)
    yield


def _key(hits: list[SearchHit]) -> list[tuple[str | None, str, object]]:
    return [(h.message_id, h.account_id, h.snippet) for h in hits]


async def _both(
    store: Store, monkeypatch: pytest.MonkeyPatch, query: str, **scope: object
) -> tuple[list[SearchHit], list[SearchHit]]:
    narrowed = await store.search(query, **scope)  # type: ignore[arg-type]
    with monkeypatch.context() as patch:
        patch.setattr(queries, "NARROW_MAX_LIMIT", -1)
        plain = await store.search(query, **scope)  # type: ignore[arg-type]
    return narrowed, plain


@pytest.mark.parametrize("query", QUERIES)
async def test_narrowed_search_equals_the_plain_query(
    store: Store, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    for scope in ({}, {"limit": 7}, {"limit": 300}, {"account_id": "acc2", "limit": 20}):
        narrowed, plain = await _both(store, monkeypatch, query, **scope)
        assert _key(narrowed) == _key(plain), (query, scope)
        assert [h.pos for h in narrowed] == sorted((h.pos for h in narrowed), reverse=True)


async def test_the_narrowed_path_is_taken_and_falls_back(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken: list[bool] = []
    original = queries._narrowed

    def spy(*args: object, **kwargs: object) -> object:
        result = original(*args, **kwargs)  # type: ignore[arg-type]
        taken.append(result is not None)
        return result

    monkeypatch.setattr(queries, "_narrowed", spy)
    assert len(await store.search("photo", limit=10)) == 10
    # Nothing under "phot" starts with "photoz": the real query is the cheaper one.
    assert await store.search("photoz") == []
    assert taken == [True, False]
    # Short prefixes are indexed already, complete words are exact, one chat is read whole.
    for query, scope in [("phot", {}), ("photo ", {}), ("photo", {"chat_id": "c0"})]:
        await store.search(query, **scope)  # type: ignore[arg-type]
    assert taken == [True, False]


def test_only_plain_ascii_prefixes_beyond_the_index_are_narrowed() -> None:
    assert fts_narrowing("love photo", 4) == ('"love" "phot"*', "photo")
    assert fts_narrowing("PHOTOS", 4) == ('"phot"*', "photos")
    assert fts_narrowing("phot", 4) is None
    assert fts_narrowing("photo ", 4) is None
    assert fts_narrowing("phôtos", 4) is None
    assert fts_narrowing("photo_sh", 4) is None
    assert fts_narrowing('" * (', 4) is None


def test_the_ascii_check_agrees_with_the_tokenizer() -> None:
    """The regex stands in for FTS5 on ASCII text: compare them on random ASCII."""
    rng = random.Random(5)
    pieces = ["pho", "PHO", "to", "TO", "tos", "ta", "s", "2", "_", "-", ".", " ", "\t"]
    pieces += ["\x01", "\x7f", "'", '"', "*"]
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(text, tokenize='{FTS_TOKENIZER}')")
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 12))) for _ in range(3000)]
    conn.executemany("INSERT INTO t(rowid, text) VALUES (?, ?)", enumerate(texts))
    for prefix in ("photo", "phota", "photos2"):
        fts = {
            row[0] for row in conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (f'"{prefix}"*',))
        }
        pattern = ascii_token_prefix(prefix)
        assert {i for i, text in enumerate(texts) if pattern.search(text)} == fts
        assert fts  # the sample exercises matches, not only misses


# -- bounded searches (issue 14): a lone letter, a scope ----------------------------------------

BOUNDED = ["p", "P", "l", "b", "w", "2", "x", "z", "love p", "beach w", "ｐ", "photo", "phot"]


def _plain(
    path: Path,
    query: str,
    limit: int,
    account_id: str | None = None,
    chat_id: str | None = None,
    since_ms: int = 0,
) -> list[tuple[str | None, str, object]]:
    """The oracle: the real FTS5 query (every match merged, then the newest), plain sqlite3."""
    from console.store.text import HL_END, HL_START, fts_query, parse_snippet

    where, scope = queries._scope(account_id, chat_id)
    sql = queries._SEARCH_SELECT.format(
        last=queries._SNIPPET, where=where + " AND m.created_at >= ?"
    )
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            sql, [HL_START, HL_END, fts_query(query), *scope, since_ms, limit]
        ).fetchall()
    return [(row[3], row[0], parse_snippet(row[7])) for row in rows]


@pytest.mark.parametrize("query", BOUNDED)
async def test_bounded_searches_equal_the_real_query_within_the_budget(
    store: Store, path: Path, query: str
) -> None:
    for scope in (
        {},
        {"limit": 7},
        {"limit": 300},
        {"account_id": "acc2", "limit": 20},
        {"chat_id": "c0", "limit": 20},
        {"account_id": ACCOUNT, "chat_id": "c1"},  # nothing: c1 is acc2's
    ):
        hits = await store.search(query, **scope)  # type: ignore[arg-type]
        limit = int(scope.pop("limit", 50))  # type: ignore[call-overload]
        assert _key(hits) == _plain(path, query, limit, **scope), (query, scope)  # type: ignore[arg-type]
        assert hits.since is None  # 1,200 messages: all within the budget


async def test_past_the_budget_a_search_stops_and_says_from_when(
    store: Store, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "SCAN_BUDGET", 150)
    cases: list[tuple[str, dict[str, str], int]] = [
        ("z", {}, 50),
        ("p", {"account_id": "acc2"}, 200),
        ("love", {"chat_id": "c0"}, 200),
    ]
    for query, scope, limit in cases:
        hits = await store.search(query, limit=limit, **scope)  # type: ignore[arg-type]
        assert hits.since is not None, query
        assert len(hits) < limit
        # Exactly the real query's matches from that time on: the newest, none skipped.
        since_ms = int(hits.since.timestamp() * 1000)
        assert _key(hits) == _plain(path, query, limit, since_ms=since_ms, **scope), query


def test_a_lone_last_letter_is_found() -> None:
    from console.store.text import single_letter_prefix

    assert single_letter_prefix("h") == (None, "h")
    assert single_letter_prefix("love H") == ('"love"', "h")
    assert single_letter_prefix("h ") is None  # a complete word: the index has it
    assert single_letter_prefix("he") is None
    assert single_letter_prefix("é") is None  # folding is FTS5's to decide
    assert single_letter_prefix("") is None


async def test_a_scoped_search_reads_only_the_pending_rows(store: Store, path: Path) -> None:
    """The pending rows are the outer loop of their query: scoped to an account, SQLite chose
    to scan every message instead (linear in the cache: 137 ms at 100,000 messages)."""
    for where in (" AND m.account_id = ?", " AND m.chat_id = ?", ""):
        sql = queries._PENDING_SELECT.format(where=where)
        with sqlite3.connect(path) as conn:
            plan = [
                row[3]
                for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", ["x"] * (len(where) > 0))
            ]
        assert plan[0] == "SCAN p", plan
        assert not any(step.startswith("SCAN m") for step in plan), plan
