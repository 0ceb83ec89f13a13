"""Windows of the chat list by keyset: a window costs the same at row 49,950 as at row 0.
The list's size is counted once per committed change, not at every reload.

The list is ordered by the key ``(pinned DESC, last_message_at DESC, chat_id)``, which the
index ``chats_list`` holds per account. ``LIMIT … OFFSET n`` built and threw away n full rows
(the chat, its fan) before the window: ~1 ms per 1,000 rows, 50 ms at the bottom of a
50,000-chat account. Instead a window is read from a row whose key is known: the rows after it
are index ranges (``_after``), read in order and stopped after the window.

Known keys (*anchors*) are the rows of the windows read before (the list scrolls by small
steps, so the next window starts at or next to one), the top, and the bottom (read in
reverse, which needs the list's size: ``count_chats`` keeps it). The gap between the nearest
anchor and the window is walked on the index alone, inside SQLite (no row is built for it,
nor returned); it is empty when scrolling. A jump into the middle of a long list with no
anchor near (a dragged scrollbar) still walks up to half the list's keys: ~0.1 µs each.
Anchors hold while nothing was committed: ``PRAGMA data_version`` changes with any other
connection's commit, and drops them (one read then starts from the top or the bottom).

Every function here runs on the store's UI lane (one thread), so ``ChatWindows`` needs no lock.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from console.store._core import CHAT_COLUMNS, CHAT_FROM

#: (pinned, last_message_at, chat_id): a row's place in the list.
Key = tuple[int, int | None, str]
ListId = tuple[str, str, str]  # account, filter, name search

_FORWARD = " ORDER BY c.pinned DESC, c.last_message_at DESC, c.chat_id"
_REVERSE = " ORDER BY c.pinned, c.last_message_at, c.chat_id DESC"
#: Lists whose anchors are kept, and anchors kept per list (a few screens' worth).
KEPT_LISTS = 8
KEPT_ANCHORS = 1024


class ChatWindows:
    """Anchors and sizes of the lists read lately, valid at one ``data_version``."""

    def __init__(self) -> None:
        self._version: int | None = None
        self._anchors: OrderedDict[ListId, dict[int, Key]] = OrderedDict()
        self._totals: dict[ListId, int] = {}

    def _at(self, version: int) -> None:
        if version != self._version:
            self._version = version
            self._anchors.clear()
            self._totals.clear()

    def _list(self, list_id: ListId) -> dict[int, Key]:
        anchors = self._anchors.pop(list_id, None) or {}
        self._anchors[list_id] = anchors  # most recently used last
        while len(self._anchors) > KEPT_LISTS:
            dropped, _ = self._anchors.popitem(last=False)
            self._totals.pop(dropped, None)
        return anchors

    def _remember(self, anchors: dict[int, Key], first: int, keys: list[Key]) -> None:
        if len(anchors) + len(keys) > KEPT_ANCHORS:
            anchors.clear()
        for index, key in enumerate(keys):
            anchors[first + index] = key


def _version(db: sqlite3.Connection) -> int:
    # A read first: the snapshot is taken, and data_version is that snapshot's.
    db.execute("SELECT 1 FROM chats LIMIT 1").fetchall()
    return int(db.execute("PRAGMA data_version").fetchone()[0])


@contextmanager
def _snapshot(db: sqlite3.Connection, windows: ChatWindows) -> Iterator[None]:
    """One read transaction, with the anchors of an earlier commit dropped."""
    db.execute("BEGIN")
    try:
        windows._at(_version(db))
        yield
    finally:
        db.execute("COMMIT")


def count(
    db: sqlite3.Connection, windows: ChatWindows, list_id: ListId, sql: str, params: list[Any]
) -> int:
    """``sql`` (a COUNT) in a read transaction, or the size counted since the last commit;
    kept for reading from the bottom."""
    with _snapshot(db, windows):
        return _count(db, windows, list_id, sql, params)


def _count(
    db: sqlite3.Connection, windows: ChatWindows, list_id: ListId, sql: str, params: list[Any]
) -> int:
    windows._list(list_id)
    total = windows._totals.get(list_id)
    if total is None:
        total = int(db.execute(sql, params).fetchone()[0])
        windows._totals[list_id] = total
    return total


def _after(key: Key | None, reverse: bool) -> list[tuple[str, list[Any]]]:
    """The rows after ``key`` in the list's order (before it, nearest first, when
    ``reverse``), as conditions each of which is one range of ``chats_list``, in order."""
    if key is None:
        return [("", [])]
    pinned, at, chat_id = key
    same = " AND c.pinned = ? AND c.last_message_at IS ?"
    if not reverse:
        parts = [(same + " AND c.chat_id > ?", [pinned, at, chat_id])]
        if at is not None:  # NULL times sort last under DESC
            parts.append((" AND c.pinned = ? AND c.last_message_at < ?", [pinned, at]))
            parts.append((" AND c.pinned = ? AND c.last_message_at IS NULL", [pinned]))
        parts.append((" AND c.pinned < ?", [pinned]))
        return parts
    parts = [(same + " AND c.chat_id < ?", [pinned, at, chat_id])]
    if at is None:
        parts.append((" AND c.pinned = ? AND c.last_message_at IS NOT NULL", [pinned]))
    else:
        parts.append((" AND c.pinned = ? AND c.last_message_at > ?", [pinned, at]))
    parts.append((" AND c.pinned > ?", [pinned]))
    return parts


def _keys(
    db: sqlite3.Connection,
    source: str,
    where: str,
    params: list[Any],
    start: Key | None,
    reverse: bool,
    skip: int,
    count: int,
) -> list[tuple[int, Key]]:
    """Up to ``count`` (rowid, key) after ``start`` (before it when ``reverse``), past the
    first ``skip``. The skipped rows are walked on the index inside SQLite (keys only, no row
    built or returned): a part of the range wholly skipped is counted, the rest offset."""
    found: list[tuple[int, Key]] = []
    order = _REVERSE if reverse else _FORWARD
    for condition, values in _after(start, reverse):
        if len(found) >= count:
            break
        keys = f"FROM {source} WHERE {where}{condition}{order}"
        if skip > 0:
            (inside,) = db.execute(
                f"SELECT COUNT(*) FROM (SELECT 1 {keys} LIMIT ?)", [*params, *values, skip]
            ).fetchone()
            if inside < skip:
                skip -= inside
                continue
        rows = db.execute(
            f"SELECT c.rowid, c.pinned, c.last_message_at, c.chat_id {keys} LIMIT ? OFFSET ?",
            [*params, *values, count - len(found), skip],
        ).fetchall()
        skip = 0
        found.extend((row[0], (row[1], row[2], row[3])) for row in rows)
    return found


def window(
    db: sqlite3.Connection,
    windows: ChatWindows,
    list_id: ListId,
    source: str,
    where: str,
    params: list[Any],
    offset: int,
    limit: int,
) -> list[Any]:
    """The list's rows ``offset`` … ``offset + limit - 1`` (``CHAT_COLUMNS``), in order."""
    if limit <= 0:
        return []
    with _snapshot(db, windows):
        rows, wanted = _window(db, windows, list_id, source, where, params, offset, limit)
    return _in_order(rows, wanted)


def counted_window(
    db: sqlite3.Connection,
    windows: ChatWindows,
    list_id: ListId,
    count_sql: str,
    source: str,
    where: str,
    params: list[Any],
    offset: int,
    limit: int,
) -> tuple[int, list[Any]]:
    """The list's size (``count_sql``, as :func:`count`) and its rows ``offset`` …
    ``offset + limit - 1`` (as :func:`window`), in one call on the UI lane and one read
    transaction: the list's reload waits for one thread hop, not two, and its size and rows
    are of the same snapshot."""
    with _snapshot(db, windows):
        # Counted first: a window near the bottom is then read from the end.
        total = _count(db, windows, list_id, count_sql, params)
        if limit <= 0:
            return total, []
        rows, wanted = _window(db, windows, list_id, source, where, params, offset, limit)
    return total, _in_order(rows, wanted)


def _window(
    db: sqlite3.Connection,
    windows: ChatWindows,
    list_id: ListId,
    source: str,
    where: str,
    params: list[Any],
    offset: int,
    limit: int,
) -> tuple[list[Any], list[tuple[int, Key]]]:
    """The window's rows (rowid first, in no order) and the (rowid, key) wanted, in order;
    inside the caller's read transaction, at ``windows``' current version."""
    anchors = windows._list(list_id)
    # From the nearest known row above the window (the top is one), or below it (the
    # bottom is one when the size is known): whichever leaves fewer rows to skip.
    above = max((k for k in anchors if k < offset), default=-1)
    best: tuple[int, Key | None, bool] = (offset - above - 1, anchors.get(above), False)
    end = offset + limit
    below = min((k for k in anchors if k >= end), default=None)
    total = windows._totals.get(list_id)
    if total is not None and (below is None or total <= below):
        below = total
    if below is not None and below - end < best[0]:
        best = (max(below - end, 0), anchors.get(below), True)
    skip, start, reverse = best
    keys = _keys(db, source, where, params, start, reverse, skip, limit)
    if reverse:
        # The rows just before ``below`` past the skipped ones, nearest first. Near the
        # top (below - limit < 0) fewer rows exist than asked for.
        keys = keys[::-1]
        first = below - skip - len(keys) if below is not None else 0
    else:
        first = offset
    windows._remember(anchors, first, [key for _, key in keys])
    wanted = [(rowid, key) for i, (rowid, key) in enumerate(keys) if offset <= first + i < end]
    if not wanted:
        return [], []
    marks = ", ".join("?" * len(wanted))
    rows = db.execute(
        f"SELECT c.rowid, {CHAT_COLUMNS} FROM {CHAT_FROM} WHERE c.rowid IN ({marks})",
        [rowid for rowid, _ in wanted],
    ).fetchall()
    return rows, wanted


def _in_order(rows: list[Any], wanted: list[tuple[int, Key]]) -> list[Any]:
    by_rowid = {row[0]: row[1:] for row in rows}
    return [by_rowid[rowid] for rowid, _ in wanted if rowid in by_rowid]
