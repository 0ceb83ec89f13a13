"""What the UI reads: windows of the chat list, pages of a thread, fan profiles, search."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from typing import Any

from console.store import _chatlist
from console.store._core import (
    CHAT_COLUMNS,
    CHAT_FROM,
    MESSAGE_COLUMNS,
    MESSAGE_FROM,
    Part,
    chat_row,
    dt,
    dt_required,
    message_row,
)
from console.store.rows import (
    AccountRow,
    ChatFilter,
    ChatRow,
    FanRow,
    MessageRow,
    SearchHit,
    SearchHits,
)
from console.store.schema import FTS_PREFIXES, FTS_TOKENIZER, POS_SHIFT
from console.store.text import (
    HL_END,
    HL_START,
    ascii_token_prefix,
    fts_narrowing,
    fts_query,
    parse_snippet,
    single_letter_prefix,
)

_FILTERS = {
    ChatFilter.ALL: "",
    ChatFilter.UNREAD: " AND c.unread_count > 0",
    ChatFilter.UNANSWERED: " AND c.waiting_since IS NOT NULL",
    ChatFilter.VIP: " AND c.vip = 1",
    ChatFilter.SUBSCRIBERS: " AND c.subscriber = 1",
    ChatFilter.PINNED: " AND c.pinned = 1",
    ChatFilter.MUTED: " AND c.muted = 1",
}
_CHAT_ORDER = " ORDER BY c.pinned DESC, c.last_message_at DESC, c.chat_id"
SNIPPET_TOKENS = 12


def _chat_where(
    account_id: str, filter: ChatFilter | str, search: str | None
) -> tuple[str, list[Any]]:
    where = "c.account_id = ?" + _FILTERS[ChatFilter(filter)]
    params: list[Any] = [account_id]
    if search and search.strip():
        # instr(), not LIKE: a typed % or _ is just a character.
        where += (
            " AND instr(lower(COALESCE(f.display_name, '') || ' ' || COALESCE(f.username, '')),"
            " lower(?)) > 0"
        )
        params.append(search.strip())
    return where, params


def _chat_list(
    account_id: str, filter: ChatFilter | str, search: str | None
) -> tuple[_chatlist.ListId, str, str, list[Any]]:
    """The list's id (its anchors and size are kept under it), the rows' source (the fans
    joined only for a name search), and its conditions."""
    where, params = _chat_where(account_id, filter, search)
    list_id = (account_id, ChatFilter(filter).value, search.strip() if search else "")
    source = CHAT_FROM if len(params) > 1 else "chats c"
    return list_id, source, where, params


def _count_sql(filter: ChatFilter | str, where: str, params: list[Any]) -> str:
    if len(params) == 1:
        # No name search: the size is kept by the schema's triggers (``chat_counts``,
        # schema v11), one row read instead of counting up to 50,000 index entries.
        return (
            f"SELECT COALESCE((SELECT n_{ChatFilter(filter).value} FROM chat_counts "
            "WHERE account_id = ?), 0)"
        )
    return f"SELECT COUNT(*) FROM {CHAT_FROM} WHERE {where}"


def _cursor(before: MessageRow | int) -> int:
    return before.pos if isinstance(before, MessageRow) else int(before)


# A thread's order is (created_at, pos) (schema v7). A cursor is a position; its time is read
# from its row, or, for a row gone since (a local send adopted at a new position), taken from
# the position itself (its millisecond, exact unless the row had spilled past a full slot).
_AT_CURSOR = (
    f"(COALESCE((SELECT created_at FROM messages WHERE pos = :pos), :pos >> {POS_SHIFT}), :pos)"
)


class CacheQueries(Part):
    async def accounts(self) -> list[AccountRow]:
        """The cached accounts in tab order."""
        rows = await self._read(
            "SELECT account_id, name, username, fansly_account_id, status FROM accounts "
            "ORDER BY position, account_id"
        )
        return [AccountRow(*row) for row in rows]

    async def chats(
        self,
        account_id: str,
        *,
        filter: ChatFilter | str = ChatFilter.ALL,
        search: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> list[ChatRow]:
        """A window of an account's chat list: pinned first, then newest activity. Read by
        keyset from the nearest known row, never by OFFSET (see ``_chatlist.py``)."""
        list_id, source, where, params = _chat_list(account_id, filter, search)
        rows = await self._reader.run(
            _chatlist.window,
            self._core._chat_windows,
            list_id,
            source,
            where,
            params,
            max(0, offset),
            limit,
        )
        return [chat_row(row) for row in rows]

    async def count_chats(
        self,
        account_id: str,
        filter: ChatFilter | str = ChatFilter.ALL,
        search: str | None = None,
    ) -> int:
        list_id, _, where, params = _chat_list(account_id, filter, search)
        # Kept with the anchors: a window near the bottom is read from the end.
        return await self._reader.run(
            _chatlist.count,
            self._core._chat_windows,
            list_id,
            _count_sql(filter, where, params),
            params,
        )

    async def chat_window(
        self,
        account_id: str,
        *,
        filter: ChatFilter | str = ChatFilter.ALL,
        search: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[int, list[ChatRow]]:
        """``count_chats`` and ``chats`` in one read (one hop to the UI lane, one snapshot):
        what the chat list reads when it is shown or reloaded."""
        list_id, source, where, params = _chat_list(account_id, filter, search)
        total, rows = await self._reader.run(
            _chatlist.counted_window,
            self._core._chat_windows,
            list_id,
            _count_sql(filter, where, params),
            source,
            where,
            params,
            max(0, offset),
            limit,
        )
        return total, [chat_row(row) for row in rows]

    async def chat(self, chat_id: str) -> ChatRow | None:
        row = await self._read_one(
            f"SELECT {CHAT_COLUMNS} FROM {CHAT_FROM} WHERE c.chat_id = ?", (chat_id,)
        )
        return None if row is None else chat_row(row)

    async def chat_of_fan(self, account_id: str, fan_id: str) -> str | None:
        """The id of the account's chat with ``fan_id`` (``None`` when none is cached)."""
        row = await self._read_one(
            "SELECT chat_id FROM chats WHERE account_id = ? AND fan_id = ? LIMIT 1",
            (account_id, fan_id),
        )
        return None if row is None else str(row[0])

    async def chat_index(self, account_id: str, chat_id: str, filter: ChatFilter | str) -> int:
        """The offset of a chat in the (unsearched) list, ``-1`` when not in it."""
        rows = await self._read(
            f"SELECT c.chat_id FROM {CHAT_FROM} WHERE {_chat_where(account_id, filter, None)[0]}"
            f"{_CHAT_ORDER}",
            [account_id],
        )
        for index, row in enumerate(rows):
            if row[0] == chat_id:
                return index
        return -1

    async def unread_counts(self) -> dict[str, int]:
        """Unread messages per account (every cached account, zeros included)."""
        # Kept by the schema's triggers (``chat_counts``, v11): no scan of every chat.
        rows = await self._read(
            """SELECT a.account_id, COALESCE(k.unread_messages, 0) FROM accounts a
            LEFT JOIN chat_counts k ON k.account_id = a.account_id"""
        )
        return {row[0]: int(row[1]) for row in rows}

    async def next_unread_chat(
        self, after_account: str | None = None, after_chat: str | None = None
    ) -> tuple[str, str] | None:
        """The next chat with unread messages after the given one, across every account.

        Accounts in tab order, chats in list order; wraps around. ``None`` when none is unread.
        """
        rows = await self._read(
            f"""SELECT c.account_id, c.chat_id FROM chats c
            JOIN accounts a ON a.account_id = c.account_id WHERE c.unread_count > 0
            ORDER BY a.position, a.account_id, {_CHAT_ORDER.removeprefix(" ORDER BY ")}"""
        )
        order = [(row[0], row[1]) for row in rows]
        if not order:
            return None
        if (after_account, after_chat) in order:
            index = order.index((after_account, after_chat))
            return order[(index + 1) % len(order)]
        if after_account is not None:
            for pair in order:
                if pair[0] == after_account:
                    return pair
        return order[0]

    async def fan(self, account_id: str, fan_id: str) -> FanRow | None:
        """A fan's cached profile, subscription and spend."""
        row = await self._read_one(
            """SELECT account_id, fan_id, username, display_name, avatar_url, subscription_json,
                lifetime_spend_millis, tips_millis, last_purchase_at, last_purchase_millis,
                lists_json, spend_history_json
            FROM fans WHERE account_id = ? AND fan_id = ?""",
            (account_id, fan_id),
        )
        if row is None:
            return None
        from console.api.models import Subscription

        return FanRow(
            account_id=row[0],
            fan_id=row[1],
            username=row[2],
            display_name=row[3],
            avatar_url=row[4],
            subscription=Subscription.model_validate_json(row[5]) if row[5] else None,
            lifetime_spend_millis=row[6],
            tips_millis=row[7],
            last_purchase_at=dt(row[8]),
            last_purchase_millis=row[9],
            lists=list(json.loads(row[10])),
            spend_history=[(dt_required(at), amount) for at, amount in json.loads(row[11])],
        )

    async def message(self, key: str | int) -> MessageRow | None:
        """One message by server id, client id or position."""
        if isinstance(key, int):
            where, value = "m.pos = ?", key
            row = await self._read_one(
                f"SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_FROM} WHERE {where}", (value,)
            )
        else:
            row = await self._read_one(
                f"SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_FROM} WHERE m.message_id = ? "
                f"UNION ALL SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_FROM} WHERE m.client_id = ? "
                "LIMIT 1",
                (key, key),
            )
        return None if row is None else message_row(row)

    async def latest_messages(self, chat_id: str, limit: int = 50) -> list[MessageRow]:
        """The newest ``limit`` messages of a chat, oldest first."""
        rows = await self._read(
            f"SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_FROM} WHERE m.chat_id = ? "
            "ORDER BY m.created_at DESC, m.pos DESC LIMIT ?",
            (chat_id, limit),
        )
        return [message_row(row) for row in reversed(rows)]

    async def messages_before(
        self, chat_id: str, before: MessageRow | int, limit: int = 50
    ) -> list[MessageRow]:
        """The ``limit`` messages just older than ``before`` (a row or its ``pos``), oldest
        first."""
        rows = await self._read(
            f"SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_FROM} WHERE m.chat_id = :chat "
            f"AND (m.created_at, m.pos) < {_AT_CURSOR} "
            "ORDER BY m.created_at DESC, m.pos DESC LIMIT :limit",
            {"chat": chat_id, "pos": _cursor(before), "limit": limit},
        )
        return [message_row(row) for row in reversed(rows)]

    async def messages_after(
        self, chat_id: str, after: MessageRow | int, limit: int = 50
    ) -> list[MessageRow]:
        """The ``limit`` messages just newer than ``after``, oldest first."""
        rows = await self._read(
            f"SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_FROM} WHERE m.chat_id = :chat "
            f"AND (m.created_at, m.pos) > {_AT_CURSOR} "
            "ORDER BY m.created_at, m.pos LIMIT :limit",
            {"chat": chat_id, "pos": _cursor(after), "limit": limit},
        )
        return [message_row(row) for row in rows]

    async def messages_around(
        self, chat_id: str, message: str | int, limit: int = 50
    ) -> list[MessageRow]:
        """A page centred on one message (server id, client id or ``pos``), oldest first.

        Empty when the message is not in this chat.
        """
        target = await self.message(message)
        if target is None or target.chat_id != chat_id:
            return []
        older = await self.messages_before(chat_id, target.pos, max(0, (limit - 1) // 2))
        newer = await self.messages_after(chat_id, target.pos, max(0, limit - 1 - len(older)))
        if len(older) + len(newer) + 1 < limit and len(newer) < limit // 2:
            older = await self.messages_before(chat_id, target.pos, limit - 1 - len(newer))
        return [*older, target, *newer]

    async def pinned_messages(self, chat_id: str, limit: int = 100) -> list[MessageRow]:
        """The chat's pinned messages, newest first."""
        rows = await self._read(
            f"SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_FROM} WHERE m.chat_id = ? AND m.pinned = 1 "
            "ORDER BY m.created_at DESC, m.pos DESC LIMIT ?",
            (chat_id, limit),
        )
        return [message_row(row) for row in rows]

    async def search(
        self,
        query: str,
        *,
        account_id: str | None = None,
        chat_id: str | None = None,
        limit: int = 50,
    ) -> SearchHits:
        """Messages matching what a person typed (every word, the last as a prefix), newest
        first, with plain-text snippets. Any text is safe: FTS operators lose their meaning.

        Bounded at any cache size: a 1-character last word, or a search scoped to an account
        or a chat, reads at most ``SCAN_BUDGET`` candidate messages newest first and stops
        (see ``_bounded``); when that was not enough for ``limit`` hits, the result's
        ``since`` says from when on the messages were searched."""
        match = fts_query(query)
        if match is None or limit <= 0:
            return SearchHits()
        narrowing = fts_narrowing(query, max(FTS_PREFIXES)) if limit <= NARROW_MAX_LIMIT else None
        bounded: tuple[str | None, str | None] | None = None
        letter = single_letter_prefix(query)
        if letter is not None:
            bounded = letter
        elif account_id is not None or chat_id is not None:
            bounded = narrowing if narrowing is not None else (match, None)
        rows, since = await self._core._searcher.run(
            _search_rows, match, narrowing, bounded, account_id, chat_id, limit
        )
        hits = SearchHits(
            SearchHit(
                account_id=row[0],
                chat_id=row[1],
                fan_name=row[2],
                message_id=row[3],
                pos=row[4],
                created_at=dt_required(row[5]),
                from_creator=bool(row[6]),
                snippet=parse_snippet(row[7]),
            )
            for row in rows
        )
        hits.since = None if since is None else dt_required(since)
        return hits


_SEARCH_SELECT = """SELECT m.account_id, m.chat_id,
    COALESCE(NULLIF(f.display_name, ''), NULLIF(f.username, ''), ''),
    m.message_id, m.pos, m.created_at, m.from_creator, {last}
FROM messages_fts JOIN messages m ON m.pos = messages_fts.rowid
LEFT JOIN chats c ON c.chat_id = m.chat_id
LEFT JOIN fans f ON f.account_id = c.account_id AND f.fan_id = c.fan_id
WHERE messages_fts MATCH ?{where} ORDER BY messages_fts.rowid DESC LIMIT ?"""
_SNIPPET = f"snippet(messages_fts, 0, ?, ?, '…', {SNIPPET_TOKENS})"

#: Above this many hits the narrowed search would read most of the index anyway.
NARROW_MAX_LIMIT = 500
#: Candidates read in the first round (times the limit), and in all before giving up on
#: narrowing (the cut prefix mostly matches other words, e.g. "photogr" under "phot"); about
#: 10 µs each, so a wrong guess costs ~10 ms at worst.
NARROW_FIRST_BATCH = 2
NARROW_MAX_CANDIDATES = 1000

_checker = threading.local()


def _search_rows(
    db: sqlite3.Connection,
    match: str,
    narrowing: tuple[str, str] | None,
    bounded: tuple[str | None, str | None] | None,
    account_id: str | None,
    chat_id: str | None,
    limit: int,
) -> tuple[list[Any], int | None]:
    """On the search lane's thread: the newest ``limit`` matches of ``match`` as hit rows,
    and ``None``, or the time (ms) from which on a bounded search read the messages.

    Exact for every committed message, indexed or not yet (see ``_fts.py``): the index and
    the pending rows are read in one read transaction, so a chunk indexed by the writer in
    between can neither hide a row nor show it twice.
    """
    since: int | None = None
    db.execute("BEGIN")
    try:
        if bounded is not None:
            rows, since = _bounded(db, match, *bounded, account_id, chat_id, limit)
        else:
            rows = _indexed_hits(db, match, narrowing, account_id, chat_id, limit)
        pending = _pending_hits(db, match, account_id, chat_id)
    finally:
        db.execute("COMMIT")
    if pending:
        rows = sorted([*rows, *pending], key=lambda row: row[4], reverse=True)[:limit]
    return rows, since


def _scope(account_id: str | None, chat_id: str | None) -> tuple[str, list[Any]]:
    where = ""
    scope: list[Any] = []
    if chat_id is not None:
        where += " AND m.chat_id = ?"
        scope.append(chat_id)
    if account_id is not None:
        where += " AND m.account_id = ?"
        scope.append(account_id)
    return where, scope


def _indexed_hits(
    db: sqlite3.Connection,
    match: str,
    narrowing: tuple[str, str] | None,
    account_id: str | None,
    chat_id: str | None,
    limit: int,
) -> list[Any]:
    """The newest ``limit`` matches in the FTS5 index."""
    where, scope = _scope(account_id, chat_id)
    if narrowing is not None:
        found = _narrowed(db, match, narrowing, where, scope, limit)
        if found is not None:
            return found
    sql = _SEARCH_SELECT.format(last=_SNIPPET, where=where)
    return db.execute(sql, [HL_START, HL_END, match, *scope, limit]).fetchall()


_PENDING_SELECT = """SELECT m.account_id, m.chat_id,
    COALESCE(NULLIF(f.display_name, ''), NULLIF(f.username, ''), ''),
    m.message_id, m.pos, m.created_at, m.from_creator, m.text
FROM fts_pending p CROSS JOIN messages m ON m.pos = p.pos
LEFT JOIN chats c ON c.chat_id = m.chat_id
LEFT JOIN fans f ON f.account_id = c.account_id AND f.fan_id = c.fan_id
WHERE 1{where}"""


def _pending_hits(
    db: sqlite3.Connection, match: str, account_id: str | None, chat_id: str | None
) -> list[Any]:
    """Every match among the messages not indexed yet (a small set: the writer indexes them
    within moments), decided and snipped by FTS5 with the same tokenizer and query.

    The pending rows are the outer loop (``CROSS JOIN`` fixes SQLite's order): with a scope
    on ``m.account_id`` the planner chose to scan every message and probe ``fts_pending``,
    which made every account-scoped search linear in the cache (137 ms at 100,000)."""
    where, scope = _scope(account_id, chat_id)
    rows = db.execute(_PENDING_SELECT.format(where=where), scope).fetchall()
    needles = _ascii_needles(match)
    if needles:
        rows = [row for row in rows if _may_match(row[7], needles)]
    if not rows:
        return []
    snippets = _fts_check(match, rows, snippets=True)
    return [(*row[:7], snippets[row[4]]) for row in rows if row[4] in snippets]


_QUOTED = re.compile(r'"([^"]*)"')
_ASCII_TOKEN = re.compile(r"[0-9A-Za-z]+")


def _ascii_needles(match: str) -> list[str] | None:
    """The folded tokens of an all-ASCII query (``fts_query``'s quoted words), or ``None``.

    On ASCII text unicode61 sees runs of ASCII letters and digits, folded to lower case, so a
    row whose ASCII text matches contains every query token as a substring of its lowered text.
    """
    words = _QUOTED.findall(match)
    if not words or not all(word.isascii() for word in words):
        return None
    return [token.lower() for word in words for token in _ASCII_TOKEN.findall(word)]


def _may_match(text: str, needles: list[str]) -> bool:
    """False only when ``text`` certainly does not match (FTS5 decides the rest)."""
    if not text.isascii():  # folding (diacritics, full-width, case) is FTS5's to decide
        return True
    lowered = text.lower()
    return all(needle in lowered for needle in needles)


def _narrowed(
    db: sqlite3.Connection,
    match: str,
    narrowing: tuple[str, str],
    where: str,
    scope: list[Any],
    limit: int,
) -> list[Any] | None:
    """Read the cheap superset newest first and keep the rows the real query matches.

    Every real match is a candidate, so the first ``limit`` kept are the newest ``limit``
    matches. ``None`` when too many candidates fail (the caller runs the real query).
    """
    candidate, prefix = narrowing
    starts = ascii_token_prefix(prefix)
    sql = _SEARCH_SELECT.format(last="m.text", where=where + " AND messages_fts.rowid < ?")
    kept: list[Any] = []
    below = (1 << 63) - 1  # above any position
    batch = max(limit * NARROW_FIRST_BATCH, 20)
    read = 0
    while read < NARROW_MAX_CANDIDATES:
        rows = db.execute(sql, [candidate, *scope, below, batch]).fetchall()
        # ASCII text is decided here; anything else by FTS5 itself (folding, diacritics).
        other = [row for row in rows if not row[7].isascii()]
        other_matches = _fts_check(match, other, snippets=False) if other else {}
        for row in rows:
            text = row[7]
            if starts.search(text) if text.isascii() else row[4] in other_matches:
                kept.append(row)
                if len(kept) == limit:
                    break
        if len(kept) == limit or len(rows) < batch:
            snippets = _fts_check(match, kept, snippets=True)
            if len(snippets) < len(kept):  # never expected: the real query decides then
                return None
            return [(*row[:7], snippets[row[4]]) for row in kept]
        read += len(rows)
        # Few candidates match (the real prefix is rare under the cut one): the real query
        # has little to merge, so it is the cheaper way from here.
        if read + (limit - len(kept)) * read / max(len(kept), 1) > NARROW_MAX_CANDIDATES:
            return None
        below = rows[-1][4]
        batch *= 2
    return None


#: Candidate messages a bounded search reads at most, newest first: a 1-character last word
#: (FTS5 has no 1-character prefix index, so ``"h"*`` merges the doclist of every word
#: starting with h: 160 ms at 1M messages, linear), and an account- or chat-scoped search
#: (the scope is a filter on the index's newest-first order: a small account's 50 hits, or
#: the proof that it has fewer, took the whole doclist). Past the budget the search stops and
#: says from when on it searched (``SearchHits.since``); a longer word searches everything.
#: The cost per candidate is a row lookup in ``messages`` (its scope, its text): ~5 µs at
#: 10M messages (a 4.6 GB file, read through the OS cache), so 5,000 keep a scoped search
#: near 25 ms; a lone letter scans the table in order, ~0.5 µs a row.
SCAN_BUDGET = 5_000

# Candidates as hit-shaped rows (account, chat, -, -, pos, created_at, -, text): the shape
# ``_fts_check`` and the hit rows share.
_CANDIDATE_COLUMNS = "m.account_id, m.chat_id, NULL, NULL, m.pos, m.created_at, NULL, m.text"
# The lowest position of a window of candidates (the OFFSET-th below a position): a walk of
# the doclist, or of the table's rowids, inside SQLite.
_WINDOW_FTS = """SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? AND rowid < ?
ORDER BY rowid DESC LIMIT 1 OFFSET ?"""
# Indexed messages only: the pending ones are searched apart (``_pending_hits``).
_WINDOW_ALL = """SELECT pos FROM messages WHERE pos < ? AND pos NOT IN (SELECT pos FROM fts_pending)
ORDER BY pos DESC LIMIT 1 OFFSET ?"""
# The candidates of a window that may match, newest first: scope and letter checked by SQLite.
_MATCHES_FTS = f"""SELECT {_CANDIDATE_COLUMNS}
FROM messages_fts JOIN messages m ON m.pos = messages_fts.rowid
WHERE messages_fts MATCH ? AND messages_fts.rowid < ? AND messages_fts.rowid >= ?{{where}}
ORDER BY messages_fts.rowid DESC LIMIT ?"""
_MATCHES_ALL = f"""SELECT {_CANDIDATE_COLUMNS} FROM messages m
WHERE m.pos < ? AND m.pos >= ? AND m.pos NOT IN (SELECT pos FROM fts_pending){{where}}
ORDER BY m.pos DESC LIMIT ?"""
# A candidate that may start a token with the prefix: text with a character outside ASCII
# (its byte length is not its length: FTS5 decides those, folding, diacritics) or ASCII text
# containing the prefix (the token's start is checked after). Both are plain C in SQLite:
# a GLOB with classes cost 2-3 µs a row, more than the Python check it replaced.
_MAY_START = " AND (length(CAST(m.text AS BLOB)) != length(m.text) OR instr(lower(m.text), ?) > 0)"
_HIT_ROWS = """SELECT m.pos, m.account_id, m.chat_id,
    COALESCE(NULLIF(f.display_name, ''), NULLIF(f.username, ''), ''),
    m.message_id, m.created_at, m.from_creator
FROM messages m LEFT JOIN chats c ON c.chat_id = m.chat_id
LEFT JOIN fans f ON f.account_id = c.account_id AND f.fan_id = c.fan_id
WHERE m.pos IN ({marks})"""


def _bounded(
    db: sqlite3.Connection,
    match: str,
    candidate: str | None,
    prefix: str | None,
    account_id: str | None,
    chat_id: str | None,
    limit: int,
) -> tuple[list[Any], int | None]:
    """The newest ``limit`` matches among at most ``SCAN_BUDGET`` candidates, and ``None``
    if that is every match, else the time of the oldest candidate read.

    Candidates, newest first: the rows of ``candidate`` (a superset query: ``match`` itself,
    the words before a 1-letter last word, or ``fts_narrowing``'s cut prefix), or every
    message when ``candidate`` is ``None`` (a lone letter). Each is kept when in scope and,
    given ``prefix``, when one of its tokens starts with it (ASCII text checked here, any
    other by FTS5 with the cache's tokenizer, as ``_narrowed`` does). The candidates are
    taken in windows (a small one first, then the rest of the budget): the window's bounds
    are found by a walk inside SQLite, the scope is checked there, and so is a cheap
    superset of the prefix's test (``_MAY_START``), so Python sees few rows besides the hits
    (and holds the GIL, which the UI's thread needs, for little).
    """
    where, scope = _scope(account_id, chat_id)
    checks: list[Any] = []
    starts = None
    if prefix is not None:
        where += _MAY_START
        checks = [prefix.lower()]
        starts = ascii_token_prefix(prefix)
    source = [] if candidate is None else [candidate]
    matches = (_MATCHES_ALL if candidate is None else _MATCHES_FTS).format(where=where)
    kept: list[Any] = []
    below = (1 << 63) - 1  # above any position
    read = 0
    size = min(max(8 * limit, 400), SCAN_BUDGET)
    while True:
        lowest = db.execute(
            _WINDOW_ALL if candidate is None else _WINDOW_FTS, [*source, below, size - 1]
        ).fetchone()
        low = -(1 << 63) if lowest is None else lowest[0]
        read += size
        top = below
        while len(kept) < limit:
            want = limit - len(kept)
            rows = db.execute(matches, [*source, top, low, *scope, *checks, want]).fetchall()
            if starts is None:
                kept.extend(rows)
            else:
                other = [row for row in rows if not row[7].isascii()]
                decided = _fts_check(match, other, snippets=False) if other else {}
                kept.extend(
                    row
                    for row in rows
                    if (starts.search(row[7]) if row[7].isascii() else row[4] in decided)
                )
            if len(rows) < want:
                break
            top = rows[-1][4]
        if len(kept) >= limit or lowest is None:
            return _hit_rows(db, match, kept[:limit]), None
        if read >= SCAN_BUDGET:
            (since,) = db.execute(
                "SELECT created_at FROM messages WHERE pos = ?", (low,)
            ).fetchone()
            return _hit_rows(db, match, kept), int(since)
        below = low
        size = SCAN_BUDGET - read


def _hit_rows(db: sqlite3.Connection, match: str, kept: list[Any]) -> list[Any]:
    """Hit rows (with the fan's name and a snippet) for candidate rows, in their order."""
    if not kept:
        return []
    snippets = _fts_check(match, kept, snippets=True)
    marks = ", ".join("?" * len(kept))
    found = {
        row[0]: row for row in db.execute(_HIT_ROWS.format(marks=marks), [row[4] for row in kept])
    }
    return [
        (*found[row[4]][1:5], row[4], *found[row[4]][5:7], snippets[row[4]])
        for row in kept
        if row[4] in snippets and row[4] in found
    ]


def _fts_check(match: str, rows: list[Any], *, snippets: bool) -> dict[int, str]:
    """``pos → marked snippet`` (or ``""``) of the rows whose text ``match`` matches.

    A private in-memory FTS5 table with the cache's tokenizer, holding only these rows: same
    tokenizer, same text, same ``snippet()``, so the snippet is the one the cache's own index
    gives (it depends only on the row's text and the query).
    """
    check: sqlite3.Connection | None = getattr(_checker, "conn", None)
    if check is None:
        check = sqlite3.connect(":memory:", isolation_level=None)
        check.execute(
            f"CREATE VIRTUAL TABLE t USING fts5(text, tokenize='{FTS_TOKENIZER}', columnsize=0)"
        )
        _checker.conn = check
    if snippets:
        sql = f"SELECT rowid, snippet(t, 0, ?, ?, '…', {SNIPPET_TOKENS}) FROM t WHERE t MATCH ?"
        params: tuple[str, ...] = (HL_START, HL_END, match)
    else:
        sql, params = "SELECT rowid, '' FROM t WHERE t MATCH ?", (match,)
    check.execute("BEGIN")
    try:
        check.executemany("INSERT INTO t(rowid, text) VALUES (?, ?)", [(r[4], r[7]) for r in rows])
        found = check.execute(sql, params).fetchall()
    finally:
        check.execute("ROLLBACK")  # leaves the table empty for the next search
    return {row[0]: row[1] for row in found}
