"""The team's event log in PostgreSQL: the hub's :class:`~console.webhooks.hub.EventLog` and the
intake's sink, shared by every ``serve`` instance.

Writes go through one :class:`LogWriter` per instance, which commits what arrived while the
previous transaction ran in one transaction (group commit). Each transaction takes an advisory
lock held until it commits, then draws its seqs: across instances seqs are committed in order,
so the hub's "everything after seq N" never skips a seq that commits later (the hub's stream
relies on that). The idempotency key is unique: a retried delivery, on any instance, is a
duplicate with no effect. The same transaction applies the event to the team's tables (chats,
messages, credited sales) and NOTIFYs :data:`CHANNEL`; every instance follows it
(:class:`LogFollower`) and wakes its hub, so a console on any instance gets every event.

Team events (a note, a read mark, presence, typing, a send by a chatter) are entries of this
log too, of kind ``team``: they reach every console by the same path, in the same order, and
a console that resumes gets them as well. Their JSON has a ``"team"`` key naming what happened.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg

from console.credit_rule import webhook_usage
from console.events import Event, EventType
from console.team.credits import USAGE_UPSERT, add_usage, usage_columns

log = logging.getLogger("console.team")

#: The NOTIFY channel every instance listens on (its payload: the last seq committed).
CHANNEL = "fansly_console_events"
#: The advisory lock held by each log write until it commits (any constant).
WRITE_LOCK = 0x7EA0_0002
#: Most entries committed in one transaction.
MAX_BATCH = 256
#: Seconds between two looks at the log's top when no notification came (a lost LISTEN
#: connection is repaired meanwhile; consoles are never stuck longer than this).
FOLLOW_POLL = 1.0


@dataclass(slots=True)
class Logged:
    """One entry read back from the log (a :class:`~console.webhooks.hub.LogEntry`)."""

    seq: int
    account_id: str
    type: EventType | str
    text: str
    chat_id: str | None = None

    def model_dump_json(self) -> str:
        return self.text


@dataclass(slots=True)
class TeamEntry:
    """A team event to log: ``type`` like ``note.added``; ``data`` goes into its JSON."""

    type: str
    account_id: str
    chat_id: str | None
    data: dict[str, Any] = field(default_factory=dict)
    key: str = field(default_factory=lambda: f"team:{uuid.uuid4().hex}")
    #: Writes the team table rows it stands for, in the log's transaction (so the row and the
    #: entry every console sees commit together): ``await apply(conn, seq)``.
    apply: Callable[[asyncpg.Connection, int], Awaitable[None]] | None = None


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


#: Newest entries an instance keeps in memory for its consoles' streams.
TAIL_ENTRIES = 4096
#: Most entries one read of the tail brings.
TAIL_READ = 1000


class PgEventLog:
    """Reads of the log (the hub's side); writes go through :class:`LogWriter`.

    Every console's stream reads the log after each wake; with one query per console that is
    consoles × events queries a second. Instead the newest entries are kept here (the
    *tail*, at most :data:`TAIL_ENTRIES`): a wake marks it stale, the first stream to read
    after it brings the new entries with one query (the others wait for that read), and every
    stream takes its page from memory. It is complete because seqs commit in order: reading
    ``seq > top`` brings every entry committed since the last read. A console further back
    than the tail reads PostgreSQL directly.
    """

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._tail: list[Logged] = []
        #: The tail holds every entry with ``_tail_from < seq <= _top`` (None: not started).
        self._tail_from: int | None = None
        self._top = 0
        self._stale = True
        self._reading: asyncio.Task[None] | None = None
        #: Queries that read entries (tests, the bench).
        self.reads = 0

    async def start(self) -> None:
        """Begin keeping the tail from the log's current top."""
        self._top = await self.last_event_seq()
        self._tail_from = self._top
        self._stale = False

    def invalidate(self) -> None:
        """Something was committed: the next read of the tail asks PostgreSQL."""
        self._stale = True

    async def events_since(self, seq: int, limit: int = 500) -> Sequence[Logged]:
        if self._tail_from is None or seq < self._tail_from:
            return await self._read(seq, limit)
        while self._stale:
            if self._reading is None:
                self._reading = asyncio.create_task(self._read_tail())
            reading = self._reading
            try:
                await asyncio.shield(reading)
            finally:
                if self._reading is reading and reading.done():
                    self._reading = None
        tail = self._tail
        start = bisect.bisect_right(tail, seq, key=lambda entry: entry.seq)
        return tail[start : start + limit]

    async def _read_tail(self) -> None:
        # Cleared before the read: a commit noticed while it runs makes another read.
        self._stale = False
        try:
            while True:
                batch = await self._read(self._top, TAIL_READ)
                if batch:
                    self._tail.extend(batch)
                    self._top = batch[-1].seq
                if len(batch) < TAIL_READ:
                    break
        except BaseException:
            self._stale = True  # the next reader tries again
            raise
        if len(self._tail) > TAIL_ENTRIES:
            dropped = len(self._tail) - TAIL_ENTRIES
            self._tail_from = self._tail[dropped - 1].seq
            del self._tail[:dropped]

    async def _read(self, seq: int, limit: int) -> list[Logged]:
        self.reads += 1
        rows = await self.pool.fetch(
            "SELECT seq, account_id, kind, type, chat_id, body FROM events "
            "WHERE seq > $1 ORDER BY seq LIMIT $2",
            seq,
            limit,
        )
        return [
            Logged(
                row[0],
                row[1],
                EventType(row[3]) if row[2] == "webhook" else row[3],
                row[5],
                row[4],
            )
            for row in rows
        ]

    async def last_event_seq(self) -> int:
        return int(await self.pool.fetchval("SELECT coalesce(max(seq), 0) FROM events"))

    async def first_event_seq(self) -> int:
        return int(await self.pool.fetchval("SELECT pruned_through FROM log_state")) + 1

    async def prune(self, older_than_days: float) -> int:
        """Drop entries received more than ``older_than_days`` ago; how many. A console that
        asks for them later is told they were pruned (the hub's 4410)."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK)
            row = await conn.fetchrow(
                "WITH gone AS (DELETE FROM events WHERE received_at < "
                "now() - make_interval(secs => $1) RETURNING seq) "
                "SELECT count(*), max(seq) FROM gone",
                older_than_days * 86400.0,
            )
            if not row[0]:
                return 0
            await conn.execute(
                "UPDATE log_state SET pruned_through = greatest(pruned_through, $1)", row[1]
            )
            return int(row[0])


_Item = Event | TeamEntry


class LogWriter:
    """The instance's one writer: ``await writer.append(event)`` → its seq, or None for a
    duplicate. Entries arriving while a transaction runs wait and make the next one."""

    def __init__(self, pool: asyncpg.Pool, on_commit: Callable[[], None] | None = None) -> None:
        self.pool = pool
        #: Told after each commit, before its callers are answered (the log's tail).
        self._on_commit = on_commit
        self._queue: list[tuple[_Item, asyncio.Future[int | None]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        #: The connection the writes go through (taken from the pool at the first write).
        self._conn: asyncpg.pool.PoolConnectionProxy | None = None
        #: Transactions committed (a batch each), for the bench and tests.
        self.commits = 0

    async def append(self, item: _Item) -> int | None:
        """Log (and apply) one entry; its seq, or None when its key was logged before."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        self._wake.set()
        return await future

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await self.pool.release(conn)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                try:
                    seqs = await self._write([item for item, _ in batch])
                except asyncio.CancelledError:
                    for _, future in batch:
                        future.cancel()
                    raise
                except Exception as exc:
                    if len(batch) == 1:
                        if not batch[0][1].done():
                            batch[0][1].set_exception(exc)
                        continue
                    # One entry may be what failed: each alone, so it fails by itself and the
                    # others are committed (a poison delivery never takes its batch with it).
                    for item, future in batch:
                        try:
                            (seq,) = await self._write([item])
                        except asyncio.CancelledError:
                            future.cancel()
                            raise
                        except Exception as one:
                            if not future.done():
                                future.set_exception(one)
                        else:
                            self._committed()
                            if not future.done():
                                future.set_result(seq)
                    continue
                self._committed()
                for (_, future), seq in zip(batch, seqs, strict=True):
                    if not future.done():
                        future.set_result(seq)

    def _committed(self) -> None:
        self.commits += 1
        if self._on_commit is not None:
            self._on_commit()

    async def _write(self, items: list[_Item]) -> list[int | None]:
        # The writer keeps one connection: the pool's reset on each release is a round trip,
        # and round trips are what a batch waits on (bench/team.py).
        if self._conn is None:
            self._conn = await self.pool.acquire()
        conn = self._conn
        try:
            await conn.execute(_BEGIN_LOCKED)
            seqs = await self._log(conn, items)
            await conn.execute("COMMIT")
            return seqs
        except asyncio.CancelledError:
            self._conn = None
            conn.terminate()  # mid-statement: its state is unknown
            await self.pool.release(conn)
            raise
        except Exception:
            try:
                await conn.execute("ROLLBACK")
            except Exception:
                self._conn = None
                conn.terminate()
                await self.pool.release(conn)
            raise

    async def _log(self, conn: asyncpg.Connection, items: list[_Item]) -> list[int | None]:
        """Log and apply ``items`` in the open transaction (the write lock held): three round
        trips whatever the batch holds (the seqs of the new keys; the events, chats, messages
        and the deliveries' credits in one statement, with the NOTIFY), plus one per team
        entry or sale."""
        first: dict[str, int] = {}  # a key twice in one batch: the second is a duplicate
        for index, item in enumerate(items):
            first.setdefault(_key(item), index)
        keys = list(first)
        drawn = await conn.fetch(_FRESH_SEQS, keys)
        seqs: list[int | None] = [None] * len(items)
        # Every delivery the gateway made is billed, a duplicate too (as ``listen`` and the
        # embedded listener count): its credits commit with the batch, or not at all.
        usage = webhook_usage(
            [item.account_id or "" for item in items if isinstance(item, Event)], time.time()
        )
        if not drawn:
            await add_usage(conn, usage)
            return seqs
        fresh: list[tuple[_Item, int]] = []
        for row in drawn:
            index = first[keys[row[0] - 1]]
            seqs[index] = int(row[1])
            fresh.append((items[index], int(row[1])))
        fresh.sort(key=lambda pair: pair[1])
        from console.team.state import apply_later, table_rows

        events = [_row(item, seq) for item, seq in fresh]
        tables = table_rows(fresh)
        await conn.execute(
            _LOG_BATCH,
            *_columns(events, 7),
            *_columns(tables.chats, 4),
            *_columns(tables.messages, 6),
            *usage_columns(usage),
            CHANNEL,
            str(fresh[-1][1]),
        )
        await apply_later(conn, tables.later)
        return seqs


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows as one list per column (the arrays unnest() takes back apart)."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width


def _renumber(sql: str, offset: int) -> str:
    return re.sub(r"\$(\d+)", lambda m: f"${int(m.group(1)) + offset}", sql)


#: Opens a write: one round trip (a simple query may hold two statements; no parameters).
_BEGIN_LOCKED = f"BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
#: The seq of each key not logged yet ($1: the batch's keys, each once), by position.
_FRESH_SEQS = (
    "SELECT k.ord, nextval('events_seq') FROM unnest($1::text[]) WITH ORDINALITY AS k(key, ord) "
    "WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.idempotency_key = k.key) ORDER BY k.ord"
)


def _log_batch() -> str:
    from console.team.state import CHATS_UPSERT, MESSAGES_INSERT

    return (
        "WITH logged AS (INSERT INTO events (seq, idempotency_key, kind, type, account_id, "
        "chat_id, body) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], "
        "$5::text[], $6::text[], $7::text[])), "
        f"chats_written AS ({_renumber(CHATS_UPSERT, 7)}), "
        f"messages_written AS ({_renumber(MESSAGES_INSERT, 11)}), "
        f"usage_written AS ({_renumber(USAGE_UPSERT, 17)}) "
        "SELECT pg_notify($24, $25)"
    )


#: One batch's events, the chats and messages they bring, and the NOTIFY, in one statement.
_LOG_BATCH = _log_batch()


def _key(item: _Item) -> str:
    return item.idempotency_key if isinstance(item, Event) else item.key


def _row(item: _Item, seq: int) -> tuple[Any, ...]:
    if isinstance(item, Event):
        item.seq = seq
        return (
            seq,
            item.idempotency_key,
            "webhook",
            item.type.value,
            item.account_id,
            item.chat_id,
            item.model_dump_json(),
        )
    body = {
        "team": item.type,
        "seq": seq,
        "account_id": item.account_id,
        "chat_id": item.chat_id,
        "at": _now_iso(),
        **item.data,
    }
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    return (seq, item.key, "team", item.type, item.account_id, item.chat_id, text)


class LogFollower:
    """Wakes this instance's hub when any instance commits to the log: LISTEN on
    :data:`CHANNEL`, and a look at the log's top every :data:`FOLLOW_POLL` seconds in case
    a notification was lost (the listening connection is reopened when it drops)."""

    def __init__(self, url: str, log_: PgEventLog, wake: Callable[[], None]) -> None:
        self.url = url
        self.log = log_
        self._wake = wake
        self._notified = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._top = 0

    async def start(self) -> None:
        self._top = await self.log.last_event_seq()
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _on_notify(self, *_args: object) -> None:
        self._notified.set()

    async def _run(self) -> None:
        conn: asyncpg.Connection | None = None
        try:
            while True:
                if conn is None or conn.is_closed():
                    try:
                        conn = await asyncpg.connect(self.url)
                        await conn.add_listener(CHANNEL, self._on_notify)
                    except (OSError, asyncpg.PostgresError) as exc:
                        log.warning("team: cannot follow the event log (%s); retrying", exc)
                        conn = None
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(FOLLOW_POLL):
                        await self._notified.wait()
                if self._notified.is_set():
                    self._notified.clear()
                    self.log.invalidate()
                    self._wake()
                    continue
                try:
                    top = await self.log.last_event_seq()
                except (OSError, asyncpg.PostgresError):
                    continue
                if top != self._top:
                    self._top = top
                    self.log.invalidate()
                    self._wake()
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()
