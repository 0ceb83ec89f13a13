"""The store's core, which every part of the store shares: the connections (a writer, a reader,
a checkpointer, each on its own thread), the write transaction, deferred indexing, idle
maintenance, what is known of accounts without reading (:class:`KnownAccounts`), and the row
conversions. A part (:class:`Part`) holds the core and reaches it through a few shortcuts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

# prepare_file is imported from here by the store's other parts and the benches.
from console.store._file import connect_sealed
from console.store._file import prepare_file as prepare_file
from console.store._fts import (
    INDEX_CATCHUP,
    INDEX_CHUNK,
    INDEX_DELAY,
    index_all,
    index_chunk,
    pending_count,
)
from console.store._retention import (
    EVENT_RETENTION_DAYS,
    IDLE_AFTER,
    MAINTAIN_EVERY,
    PRUNE_BATCH,
    prune_events,
    retention_ms,
    truncate_wal,
)
from console.store.problems import cache_problem
from console.store.rows import ChatRow, Maintenance, MessageRow, MessageState
from console.store.schema import POS_SHIFT

BUSY_TIMEOUT_MS = 5000
#: Write transactions between two background WAL checkpoints.
CHECKPOINT_EVERY = 32

T = TypeVar("T")

MESSAGE_COLUMNS = """m.pos, m.account_id, m.chat_id, m.message_id, m.client_id, m.sender_id,
    m.from_creator, m.text, m.created_at, m.reply_to_id, r.text, m.attachments_json,
    m.likes_json, m.liked_by_creator, m.pinned, m.state, m.error, m.tip_millis"""
MESSAGE_FROM = "messages m LEFT JOIN messages r ON r.message_id = m.reply_to_id"

CHAT_COLUMNS = """c.account_id, c.chat_id, c.fan_id,
    COALESCE(NULLIF(f.display_name, ''), NULLIF(f.username, ''), ''), COALESCE(f.username, ''),
    c.unread_count, c.last_preview, c.last_from_creator, c.last_message_at, c.waiting_since,
    c.pinned, c.muted, c.vip, c.subscriber, f.lifetime_spend_millis,
    f.last_purchase_at, f.subscription_status, json_extract(f.subscription_json, '$.created_at'),
    COALESCE(json_extract(f.subscription_json, '$.ends_at'),
        json_extract(f.subscription_json, '$.renew_date')),
    COALESCE(json_extract(f.subscription_json, '$.auto_renew'), 0)"""
CHAT_FROM = "chats c LEFT JOIN fans f ON f.account_id = c.account_id AND f.fan_id = c.fan_id"

# Allocates a message position in its millisecond slot (see schema.POS_SHIFT); :base is
# created_at_ms << POS_SHIFT.
NEXT_POS = "(SELECT COALESCE(MAX(pos) + 1, :base) FROM messages WHERE pos BETWEEN :base AND :top)"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def ms(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


def dt(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value / 1000, tz=UTC)


def dt_required(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def pos_params(created_ms: int) -> dict[str, int]:
    base = created_ms << POS_SHIFT
    return {"base": base, "top": base + (1 << POS_SHIFT) - 1}


def spill_pos(db: sqlite3.Connection, base: int) -> int:
    """The first free position after the slots from ``base`` on that are full: where a
    message goes once its millisecond's slot is (see ``schema._V7``; threads order by
    ``(created_at, pos)``, so a later slot's own messages still come after it)."""
    slot = 1 << POS_SHIFT
    base -= base % slot
    while True:
        (last,) = db.execute(
            "SELECT MAX(pos) FROM messages WHERE pos BETWEEN ? AND ?", (base, base + slot - 1)
        ).fetchone()
        if last is None:
            return base
        if last < base + slot - 1:
            return int(last) + 1
        base += slot


def at_free_pos(db: sqlite3.Connection, sql: str, params: dict[str, Any]) -> sqlite3.Cursor:
    """Run ``sql``, which places a message at ``NEXT_POS`` (``params`` from ``pos_params``);
    when that slot is full, at the first free position after it instead."""
    try:
        return db.execute(sql, params)
    except sqlite3.IntegrityError as exc:
        # A full slot's NEXT_POS is the next slot's first position, usually taken by then.
        if "messages.pos" not in str(exc):
            raise
    free = spill_pos(db, params["base"])
    return db.execute(sql, {**params, "base": free, "top": free})


def dumps(value: Any) -> str:
    if isinstance(value, list) and not value:  # most messages: no attachments, no likes
        return "[]"
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


_STATES = {state.value: state for state in MessageState}


def message_row(row: Sequence[Any]) -> MessageRow:
    # Hot path (every page of every thread): most messages have no attachments, likes or quote,
    # so those skip JSON and pydantic entirely.
    reply_text = row[10]
    if reply_text is not None:
        from console.store.text import one_line

        reply_text = one_line(reply_text)
    return MessageRow(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        bool(row[6]),
        row[7],
        datetime.fromtimestamp(row[8] / 1000, tz=UTC),
        row[9],
        reply_text,
        [] if row[11] == "[]" else _models("Attachment", row[11]),
        [] if row[12] == "[]" else _models("Like", row[12]),
        bool(row[13]),
        bool(row[14]),
        _STATES[row[15]],
        row[16],
        row[17],
    )


def _models(name: str, text: str) -> list[Any]:
    """A stored JSON list of API models (attachments, likes). pydantic is imported on first
    use: ``import console.store`` stays light."""
    from console.api import models

    model = getattr(models, name)
    return [model.model_validate(item) for item in json.loads(text)]


def chat_row(row: Sequence[Any]) -> ChatRow:
    return ChatRow(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        bool(row[7]),
        dt(row[8]),
        dt(row[9]),
        bool(row[10]),
        bool(row[11]),
        bool(row[12]),
        bool(row[13]),
        row[14],
        dt(row[15]),
        row[16],
        _iso(row[17]),
        _iso(row[18]),
        bool(row[19]),
    )


def _iso(value: str | None) -> datetime | None:
    """A time the subscription's JSON holds (ISO 8601, as pydantic writes it)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def preview(text: str | None, has_attachments: int | None) -> str:
    """The chat list's one-line preview of a message (an SQL function on the writer)."""
    from console.store.text import one_line

    line = one_line(text or "")
    return line or ("(attachment)" if has_attachments else "")


def _connect(path: Path, read_only: bool, sealed: bool = False) -> sqlite3.Connection:
    if sealed:
        conn = connect_sealed(path)
    else:
        conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.executescript(
        f"""PRAGMA foreign_keys=ON;
        PRAGMA busy_timeout={BUSY_TIMEOUT_MS};
        PRAGMA synchronous=NORMAL;
        PRAGMA temp_store=MEMORY;
        PRAGMA cache_size=-16000;
        PRAGMA query_only={1 if read_only or sealed else 0};"""
    )
    if not (read_only or sealed):
        # Commits never checkpoint: StoreCore runs checkpoints on a third connection, so a
        # write (and the webhook answer waiting on it) does not pay for copying the WAL back.
        conn.execute("PRAGMA wal_autocheckpoint=0")
        conn.create_function("preview", 2, preview, deterministic=True)
    return conn


class DbThread:
    """One sqlite3 connection owned by one thread; the event loop awaits functions run there.

    A whole unit of work (a transaction, a search with its follow-up queries) is one function,
    so it costs one thread hop instead of one per statement. Jobs run in submission order.
    """

    def __init__(self, path: Path, *, read_only: bool, name: str, sealed: bool = False) -> None:
        self._path = path
        self._read_only = read_only
        #: The file is opened read-only (``mode=ro``), not only queried read-only.
        self._sealed = sealed
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._conn: sqlite3.Connection | None = None
        self._closed = False

    async def start(self) -> None:
        """Start the thread and open the connection (raises if it cannot be opened)."""
        await self.run(lambda conn: None)

    def submit(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Queue ``fn(conn, *args)``; its future resolves on the caller's loop."""
        if self._closed:
            raise sqlite3.ProgrammingError("the store is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        if not self._thread.is_alive():
            self._thread.start()
        self._jobs.put((future, fn, args))
        return future

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(conn, *args)`` on the connection's thread."""
        return await self.submit(fn, *args)

    async def fetchall(self, sql: str, params: Any = ()) -> list[Any]:
        return await self.run(_fetchall, sql, params)

    async def close(self) -> None:
        """Finish the queued jobs, then close the connection and end the thread."""
        if self._closed:
            return
        if not self._thread.is_alive():
            self._closed = True
            return
        try:
            await self.run(_close)
        finally:
            self._closed = True
            self._jobs.put(None)

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                break
            future, fn, args = job
            try:
                if self._conn is None:
                    self._conn = _connect(self._path, self._read_only, self._sealed)
                result = fn(self._conn, *args)
            except BaseException as exc:  # handed to the awaiting task, never lost
                # A damaged page can be met at any query, not only at open: say which file.
                _deliver(future, None, cache_problem(self._path, exc))
            else:
                _deliver(future, result, None)
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()


_Job = tuple["asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...]]


def _fetchall(conn: sqlite3.Connection, sql: str, params: Any) -> list[Any]:
    return conn.execute(sql, params).fetchall()


def _close(conn: sqlite3.Connection) -> None:
    conn.close()


def settle_future(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    """Resolve ``future`` unless its caller gave up (cancelled); on its own loop only."""
    if future.done():  # the caller was cancelled; the work itself is done or undone
        return
    if exc is None:
        future.set_result(result)
    else:
        future.set_exception(exc)


def _deliver(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting
        future.get_loop().call_soon_threadsafe(settle_future, future, result, exc)


def checkpoint(conn: sqlite3.Connection) -> None:
    # PASSIVE: copies what no reader still needs, never waits for the writer nor blocks it.
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


def in_transaction(conn: sqlite3.Connection, fn: Callable[..., T], *args: Any) -> T:
    """``fn(conn, *args)`` inside BEGIN IMMEDIATE … COMMIT, rolled back on any error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn, *args)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


def _counted_transaction(
    conn: sqlite3.Connection, fn: Callable[..., T], *args: Any
) -> tuple[T, int]:
    """``in_transaction``, and how many messages it left unindexed (read before COMMIT)."""
    return in_transaction(conn, _and_backlog, fn, *args)


def _and_backlog(conn: sqlite3.Connection, fn: Callable[..., T], *args: Any) -> tuple[T, int]:
    return fn(conn, *args), pending_count(conn)


def one(db: sqlite3.Connection, sql: str, params: Any = ()) -> Any:
    """The first row of ``sql``, or ``None``."""
    return db.execute(sql, params).fetchone()


def _no_events() -> bool:
    return False


def ensure_chat(db: sqlite3.Connection, account_id: str, chat_id: str, fan_id: str | None) -> None:
    """The chat's row exists (a stub until the gateway lists it); a known fan is kept."""
    db.execute(
        "INSERT INTO chats(chat_id, account_id, fan_id, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(chat_id) DO UPDATE SET fan_id = COALESCE(chats.fan_id, excluded.fan_id)",
        (chat_id, account_id, fan_id, now_ms()),
    )


class KnownAccounts:
    """What a writer knows of the accounts without reading them, so the hot write paths (an
    event, a page of messages) skip a lookup. One per writer: the store's, or an ingest
    worker's (:mod:`console.store.ingest`); only its writer's transactions change it."""

    def __init__(self) -> None:
        #: account id → creator's Fansly id, for accounts known to be stored (never stubs).
        self.creators: dict[str, str | None] = {}
        #: Accounts whose row is committed (stubs included; accounts are never deleted).
        self.stored: set[str] = set()

    def load(self, db: sqlite3.Connection) -> None:
        """Learn every stored account's creator id."""
        for account_id, creator_id in db.execute(
            "SELECT account_id, fansly_account_id FROM accounts"
        ):
            self.creators[account_id] = creator_id

    def ensure(self, db: sqlite3.Connection, account_id: str) -> None:
        """The account's row exists (a stub named after its id until the gateway lists it)."""
        if account_id in self.creators or account_id in self.stored:
            return
        db.execute(
            "INSERT INTO accounts(account_id, name, position, updated_at) "
            "VALUES (?, ?, (SELECT COALESCE(MAX(position) + 1, 0) FROM accounts), ?) "
            "ON CONFLICT(account_id) DO NOTHING",
            (account_id, account_id, now_ms()),
        )

    def creator_id(self, db: sqlite3.Connection, account_id: str) -> str | None:
        """The creator's Fansly id (tells the creator's messages and likes from a fan's)."""
        if account_id in self.creators:
            return self.creators[account_id]
        row = one(db, "SELECT fansly_account_id FROM accounts WHERE account_id = ?", (account_id,))
        return None if row is None else row[0]


class StoreCore:
    """Connections on one file, each on its own thread: a writer and two readers (the UI's
    lane and the search lane, see ``_readers.py``).

    WAL lets the reader see every committed state while a write transaction runs, so the UI's
    queries never wait on sync work, and never see a half-applied event. Writes are serialised
    by the writer's job queue: each is one function running a whole transaction.
    """

    def __init__(self, path: Path, writer: DbThread, reader: DbThread):
        from console.store._chatlist import ChatWindows
        from console.store._readers import SearchLane

        self.path = path
        self._writer = writer
        #: The UI lane: small reads. Searches have a lane of their own (see ``_readers.py``).
        self._reader = reader
        self._searcher = SearchLane(path, sealed=reader._sealed)
        #: The chat list's known rows, for reading its windows by keyset (``_chatlist.py``).
        self._chat_windows = ChatWindows()
        self._checkpointer = DbThread(path, read_only=True, name="store-checkpoint")
        self._commits_since_checkpoint = 0
        self._checkpointing: asyncio.Future[None] | None = None
        self.known = KnownAccounts()
        #: Whether events wait for the writer (the event log sets it; indexing and idle
        #: maintenance give way to them).
        self.events_waiting: Callable[[], bool] = _no_events
        # Deferred indexing (see _fts.py): at most one chunk queued on the writer at a time.
        self._index_lock = threading.Lock()
        self._indexing = False
        self._index_timer: asyncio.TimerHandle | None = None
        #: Pending (unindexed) messages as of the last commit that counted them.
        self.fts_backlog = 0
        # Idle maintenance (see _retention.py): the event log's retention, WAL truncation.
        #: Events older than this (ms) are pruned when the writer is idle.
        self.event_retention_ms = retention_ms(EVENT_RETENTION_DAYS)
        #: Seconds without a commit after which the writer counts as idle.
        self.idle_after = IDLE_AFTER
        self._last_commit = 0.0
        self._last_maintenance = 0.0
        self._idle_timer: asyncio.TimerHandle | None = None
        self._maintaining: asyncio.Task[Maintenance] | None = None

    async def _write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(db, *args)`` as one write transaction on the writer's thread."""
        result, backlog = await self._writer.run(_counted_transaction, fn, *args)
        self._committed()
        self._index_soon(backlog)
        return result

    def _index_soon(
        self, backlog: int, *, events_waiting: bool | None = None, now: bool = False
    ) -> None:
        """After a commit that left ``backlog`` messages unindexed: queue a chunk of indexing
        on the writer, unless one is queued or events wait (and the backlog is not large).

        Less than a chunk waits ``INDEX_DELAY`` for more (a chunk costs less per row the
        larger it is), unless ``now``; so a steady stream is indexed a full chunk at a time.
        """
        if events_waiting is None:
            events_waiting = self.events_waiting()
        with self._index_lock:
            self.fts_backlog = backlog
            if self._indexing or backlog == 0 or (events_waiting and backlog < INDEX_CATCHUP):
                return
            if backlog < INDEX_CHUNK and not now:
                if self._index_timer is None:
                    loop = asyncio.get_running_loop()
                    self._index_timer = loop.call_later(INDEX_DELAY, self._index_due)
                return
            self._indexing = True
        try:
            job = self._writer.submit(index_chunk)
        except sqlite3.ProgrammingError:  # closing: the rows stay pending for the next open
            with self._index_lock:
                self._indexing = False
            return
        job.add_done_callback(self._indexed)

    def _index_due(self) -> None:
        with self._index_lock:
            self._index_timer = None
            backlog = self.fts_backlog
        self._index_soon(backlog, now=True)

    def _indexed(self, job: asyncio.Future[int]) -> None:
        with self._index_lock:
            self._indexing = False
        if job.cancelled() or job.exception() is not None:
            return  # the rows stay pending; the next commit tries again
        self._committed()
        self._index_soon(job.result(), now=True)

    async def flush_index(self) -> None:
        """Index every pending message now (benches and tests; the writer does it when idle)."""
        await self._writer.run(index_all)
        with self._index_lock:
            self.fts_backlog = 0

    def _committed(self) -> None:
        """Count a commit; every ``CHECKPOINT_EVERY`` start a background checkpoint."""
        self._note_commit()
        self._commits_since_checkpoint += 1
        if self._commits_since_checkpoint < CHECKPOINT_EVERY or self._checkpointing is not None:
            return
        self._commits_since_checkpoint = 0
        try:
            self._checkpointing = self._checkpointer.submit(checkpoint)
        except sqlite3.ProgrammingError:  # closing
            return
        self._checkpointing.add_done_callback(self._checkpoint_done)

    def _note_commit(self) -> None:
        """A commit happened: maintenance is due once the writer has been idle a while."""
        loop = asyncio.get_running_loop()
        self._last_commit = loop.time()
        if self._last_maintenance == 0.0:
            self._last_maintenance = self._last_commit
        if self._idle_timer is None:
            self._idle_timer = loop.call_later(self.idle_after, self._idle_check)

    def _idle_check(self) -> None:
        self._idle_timer = None
        if self._maintaining is not None:
            return  # running; a commit after it schedules the next check
        loop = asyncio.get_running_loop()
        quiet = loop.time() - self._last_commit
        overdue = loop.time() - self._last_maintenance >= MAINTAIN_EVERY
        if (quiet < self.idle_after and not overdue) or self.events_waiting():
            wait = self.idle_after - quiet if quiet < self.idle_after else self.idle_after
            self._idle_timer = loop.call_later(max(wait, 0.01), self._idle_check)
            return
        self._maintaining = asyncio.ensure_future(self.maintain())
        self._maintaining.add_done_callback(self._maintained)

    def _maintained(self, task: asyncio.Task[Maintenance]) -> None:
        self._maintaining = None
        if not task.cancelled():
            task.exception()  # a failure is retried at the next idle moment

    async def maintain(self) -> Maintenance:
        """Prune the event log past the retention, then truncate the WAL if nobody reads or
        writes. Runs by itself when the writer is idle; pruning stops early when events come
        (each batch is its own short transaction)."""
        self._last_maintenance = asyncio.get_running_loop().time()
        cutoff = now_ms() - self.event_retention_ms
        pruned = 0
        while True:
            deleted = await self._writer.run(prune_events, cutoff)
            pruned += deleted
            if deleted < PRUNE_BATCH or self.events_waiting():
                break
        try:
            truncated = await self._checkpointer.run(truncate_wal)
        except sqlite3.Error:
            truncated = False
        return Maintenance(pruned, truncated)

    def _checkpoint_done(self, done: asyncio.Future[None]) -> None:
        self._checkpointing = None
        if not done.cancelled():
            # A busy or failed checkpoint is retried by the next one; the WAL only grows.
            done.exception()

    async def _read(self, sql: str, params: Any = ()) -> list[Any]:
        return await self._reader.fetchall(sql, params)

    async def _read_one(self, sql: str, params: Any = ()) -> Any:
        for row in await self._reader.fetchall(sql, params):
            return row
        return None

    async def close(self) -> None:
        """Close both connections (the WAL is checkpointed by SQLite on the last close)."""
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        if self._maintaining is not None:
            with contextlib.suppress(Exception):
                await self._maintaining
        with self._index_lock:
            if self._index_timer is not None:  # pending rows are indexed after the next open
                self._index_timer.cancel()
                self._index_timer = None
        for db in (self._searcher, self._reader, self._checkpointer, self._writer):
            with contextlib.suppress(Exception):
                await db.close()


class Part:
    """One part of the store (its outbox, its event log, its queries, ...) over the one core
    the parts share. The shortcuts below keep a part's methods reading like the core's."""

    def __init__(self, core: StoreCore) -> None:
        self._core = core

    async def _write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(db, *args)`` as one write transaction on the writer's thread."""
        return await self._core._write(fn, *args)

    async def _read(self, sql: str, params: Any = ()) -> list[Any]:
        return await self._core._read(sql, params)

    async def _read_one(self, sql: str, params: Any = ()) -> Any:
        return await self._core._read_one(sql, params)

    @property
    def _reader(self) -> DbThread:
        return self._core._reader

    @property
    def _known(self) -> KnownAccounts:
        return self._core.known
