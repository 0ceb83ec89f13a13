"""Full-text search: safe queries, plain snippets with offsets, scopes, the search verb."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.store import ACCOUNT, CREATOR, account, chat, message

from console.store import Store, store_path
from console.store.text import HL_END, HL_START, fts_query, parse_snippet

HOSTILE = [
    "[b]bold[/b] [@click=app.quit]x[/] [0] [/ unclosed [",
    "\x1b[31mred\x1b[0m \x1b]8;;http://evil\x07link\x1b]8;;\x07",
    "bidi \u202eevil\u202c zero\u200bwidth",
    f"sentinels {HL_START}fake{HL_END} marks",
]


async def _fill(store: Store) -> None:
    await store.upsert_accounts([account(), account("fansly_acc_2", "9001", "Two")])
    texts = [
        "I love the new photos",
        "photographer said hi",
        "lovely day",
        'quote " star * NEAR( paren',
        *HOSTILE,
    ]
    await store.upsert_chats(ACCOUNT, [chat("c1", "100", display_name="Ann")])
    await store.upsert_messages(
        ACCOUNT, "c1", [message(f"m{i}", text=t, minutes=i) for i, t in enumerate(texts)]
    )
    await store.upsert_chats("fansly_acc_2", [chat("c2", "200", account_id="fansly_acc_2")])
    await store.upsert_messages(
        "fansly_acc_2", "c2", [message("x1", "c2", sender="200", text="photo please", minutes=50)]
    )
    await store.upsert_messages(
        ACCOUNT,
        "c3",
        [message("y1", "c3", sender=CREATOR, text="new photo set", minutes=60)],
        creator_id=CREATOR,
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with await Store.open(tmp_path / "cache.sqlite3") as opened:
        await _fill(opened)
        yield opened


def test_queries_are_rebuilt_from_words() -> None:
    assert fts_query("hello wor") == '"hello" "wor"*'
    assert fts_query("hello ") == '"hello"'
    assert fts_query('"*" NEAR( ) -:^') == '"NEAR"*'
    assert fts_query('  " * ') is None
    assert fts_query("") is None


def test_snippet_marks_become_offsets() -> None:
    snip = parse_snippet(f"…say {HL_START}hi{HL_END} to [b]{HL_START}you{HL_END}\x1b[0m")
    assert snip.text == "…say hi to [b]you[0m"
    assert [snip.text[a:b] for a, b in snip.highlights] == ["hi", "you"]


async def test_newest_first_with_prefix_and_scopes(store: Store) -> None:
    hits = await store.search("phot")
    assert [h.message_id for h in hits] == ["y1", "x1", "m1", "m0"]
    assert hits[0].from_creator and hits[2].fan_name == "Ann"
    assert [h.message_id for h in await store.search("phot", account_id=ACCOUNT)] == [
        "y1",
        "m1",
        "m0",
    ]
    assert [h.message_id for h in await store.search("phot", chat_id="c1")] == ["m1", "m0"]
    assert [h.message_id for h in await store.search("phot", limit=2)] == ["y1", "x1"]
    assert [h.message_id for h in await store.search("love photos")] == ["m0"]
    assert await store.search("photo ", chat_id="c1") == []  # a complete word, not a prefix


async def test_snippets_are_plain_text_with_highlights(store: Store) -> None:
    (hit,) = await store.search("photographer")
    assert hit.snippet.text == "photographer said hi"
    assert hit.snippet.highlights == [(0, 12)]
    (bold,) = await store.search("bold")
    assert bold.snippet.text.startswith("[b]bold[/b] [@click=app.quit]x[/]")
    assert [bold.snippet.text[a:b] for a, b in bold.snippet.highlights] == ["bold"]
    (red,) = await store.search("link")
    assert "\x1b" not in red.snippet.text and "\x07" not in red.snippet.text
    (bidi,) = await store.search("bidi")
    assert "\u202e" not in bidi.snippet.text and "\u200b" not in bidi.snippet.text
    (fake,) = await store.search("sentinels")
    assert fake.snippet.text == "sentinels fake marks"
    assert [fake.snippet.text[a:b] for a, b in fake.snippet.highlights] == ["sentinels"]


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '""',
        "*",
        "* *",
        "NEAR(",
        "NEAR(a b",
        "a OR",
        "AND",
        "-x",
        "col:x",
        "^x",
        "(",
        ")",
        "'",
        "\x00",
        'a"b',
        "\u202e",
        "[b]",
        "%",
        "x" * 500,
    ],
)
async def test_hostile_queries_never_raise(store: Store, query: str) -> None:
    hits = await store.search(query)
    assert isinstance(hits, list)


async def test_operators_in_queries_are_words(store: Store) -> None:
    assert [h.message_id for h in await store.search("NEAR( paren")] == ["m3"]
    assert [h.message_id for h in await store.search('quote " star')] == ["m3"]


def _cli(home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANSLY_")}
    env |= {"FANSLY_CONSOLE_HOME": str(home), "CI": "true"}
    return subprocess.run(
        [sys.executable, "-m", "console", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_search_verb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = _cli(tmp_path, "search", "photo")
    assert missing.returncode == 1
    assert "fansly-console sync" in missing.stderr and missing.stdout == ""

    monkeypatch.setenv("FANSLY_CONSOLE_HOME", str(tmp_path))

    async def fill() -> None:
        async with await Store.open(store_path("default")) as store:
            await _fill(store)

    asyncio.run(fill())
    text = _cli(tmp_path, "search", "bold")
    assert text.returncode == 0, text.stderr
    # The fan's markup-looking text is printed as it is, never interpreted.
    assert "[b]bold[/b] [@click=app.quit]x[/]" in text.stdout
    assert "Ann" in text.stdout and "\x1b" not in text.stdout

    hostile = _cli(tmp_path, "search", "link")
    assert hostile.returncode == 0 and "\x1b" not in hostile.stdout and "\x07" not in hostile.stdout

    as_json = _cli(tmp_path, "search", "phot", "--account", ACCOUNT, "--limit", "2", "--json")
    assert as_json.returncode == 0, as_json.stderr
    hits = json.loads(as_json.stdout)
    assert [h["message_id"] for h in hits] == ["y1", "m1"]
    assert hits[1]["snippet"] == "photographer said hi"
    assert hits[1]["highlights"] == [[0, 12]]

    scoped = _cli(tmp_path, "search", "phot", "--chat", "c2", "--json")
    assert [h["message_id"] for h in json.loads(scoped.stdout)] == ["x1"]
    nothing = _cli(tmp_path, "search", '" * (')
    assert nothing.returncode == 0 and "no matches" in nothing.stdout
