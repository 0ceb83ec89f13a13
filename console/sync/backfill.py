"""Backfill: bring an account's cache up to date with the gateway, resumably.

Two phases. First the whole chat list, page by page, newest activity first; every page is
stored with its cursor, so a killed run continues from the page it stopped at. A chat whose
newest message is not the one its last pass ended on (or that was never synced) is marked for
the second phase: the latest ``messages_per_chat`` messages of each marked chat, a few chats
at a time, each chat's cursor saved after every page.

A chat's pass stops early when it reaches a message the cache already had: everything older
is known. When it stops on the count instead, the messages between the oldest one fetched and
the newest older one in the cache are missing: that is recorded as a gap, filled later when
the chatter scrolls into it (:meth:`History.older`).

**Lean or full.** Every message page costs a credit (console/api/credits.py), and a full pass
fetched a page or three for every chat: about one credit per chat an agency has. The default
("lean") pass reads the chat list, whose rows carry each chat's last message, and fetches
history only for what a chatter reads soon: chats with more unread messages than that last
one, VIP chats and the top of the list. Every other chat keeps its last message and a gap below
it, filled from the gateway when the chatter opens or scrolls it; webhooks keep the cache
current from then on. ``full=True`` (``sync --full``) is the old pass, every chat's latest
``messages_per_chat``. :meth:`Backfill.plan` says what a pass would fetch before it does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from console.api.client import MESSAGES_PAGE_MAX, FanslyClient
from console.api.errors import NotFoundError
from console.api.models import Chat, Message
from console.changes import SyncProgress, Update
from console.store import Store
from console.store.rows import BackfillState, MessageRow

#: Chats per chat-list request (the gateway allows up to 100).
CHATS_PAGE = 100
#: A lean pass fetches the history of this many chats at the top of each account's list (the
#: first screen shows them) beside the unread and VIP ones.
LEAN_TOP = 5


@dataclass(frozen=True, slots=True)
class SyncPlan:
    """What a backfill would fetch (``sync --dry-run``): requests and credits, estimated."""

    account_id: str
    chats: int
    #: Chat-list pages and what they cost (read to make the plan; the sync reads them again).
    list_pages: int
    list_credits: float
    #: Chats whose history would be fetched, and the message pages that takes (at most).
    chats_with_history: int
    message_pages: int

    @property
    def requests(self) -> int:
        return 1 + self.list_pages + self.message_pages  # 1: the creator's /me

    @property
    def credits(self) -> float:
        # A page of at most ten messages stays far below 80 KB: one credit each.
        return 1 + self.list_credits + self.message_pages


@dataclass(slots=True)
class BackfillReport:
    """What one backfill run did."""

    account_id: str
    chats: int = 0
    chats_synced: int = 0
    #: Cached chats the gateway no longer knows (404): skipped, kept as they are.
    chats_gone: int = 0
    messages: int = 0
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Walk:
    """The outcome of walking a chat's history towards older messages."""

    fetched_ids: tuple[str, ...]
    oldest_id: str | None
    #: Reached a message the cache already had: nothing is missing below.
    connected: bool
    #: Reached the start of the chat (the gateway has nothing older).
    exhausted: bool
    #: Where to continue (older than this), when neither of the above.
    cursor: str | None


class History:
    """One account's message history against the gateway: walks, gaps, per-chat locks."""

    def __init__(self, account_id: str, store: Store, client: FanslyClient) -> None:
        self.account_id = account_id
        self.store = store
        self.client = client
        self._locks: dict[str, asyncio.Lock] = {}
        #: Messages fetched from the gateway (for reports).
        self.fetched = 0

    def lock(self, chat_id: str) -> asyncio.Lock:
        return self._locks.setdefault(chat_id, asyncio.Lock())

    async def _known(self, messages: Sequence[Message]) -> set[str]:
        known: set[str] = set()
        for message in messages:
            if await self.store.message(message.id) is not None:
                known.add(message.id)
        return known

    async def walk(
        self,
        chat_id: str,
        *,
        cursor: str | None,
        want: int,
        publish: Callable[[Update], None],
        trust_first_page: bool = True,
    ) -> Walk:
        """Fetch up to ``want`` messages older than ``cursor`` (the newest when ``None``),
        storing every page, until the cache is reached or the chat has nothing older.

        ``trust_first_page=False`` is for a resumed pass: the first page may have been stored
        by the killed run, so finding it cached proves nothing.
        """
        creator_id = await self.client.creator_id(self.account_id)
        fetched: list[str] = []
        oldest: str | None = None
        connected = exhausted = False
        first = True
        while len(fetched) < want:
            page = await self.client.messages_page(
                self.account_id,
                chat_id,
                cursor=cursor,
                limit=min(MESSAGES_PAGE_MAX, want - len(fetched)),
            )
            if not page.items:
                exhausted = True
                break
            known = await self._known(page.items)
            for update in await self.store.upsert_messages(
                self.account_id, chat_id, page.items, creator_id=creator_id
            ):
                publish(update)
            self.fetched += len(page.items)
            fetched.extend(m.id for m in page.items)
            oldest_message = min(page.items, key=lambda m: (m.created_at, len(m.id), m.id))
            oldest = oldest_message.id
            cursor = page.next_cursor
            if oldest in known and (trust_first_page or not first):
                connected = True
                break
            first = False
            if cursor is None:
                exhausted = True
                break
        return Walk(tuple(fetched), oldest, connected, exhausted, cursor)

    async def settle_gaps(self, chat_id: str, walk: Walk) -> None:
        """Update the chat's gaps after a walk: holes it went through are closed or moved to
        where it stopped, and a walk that stopped on its count leaves a new one."""
        fetched = set(walk.fetched_ids)
        complete = walk.connected or walk.exhausted
        for gap in await self.store.sync_state.gaps(self.account_id, chat_id):
            if gap.from_message_id in fetched and gap.from_message_id != walk.oldest_id:
                await self.store.sync_state.clear_gap(gap.id)
            elif gap.from_message_id == walk.oldest_id and complete:
                await self.store.sync_state.clear_gap(gap.id)
        if complete or walk.oldest_id is None:
            return
        below = await self._cached_below(walk.oldest_id)
        await self.store.sync_state.record_gap(self.account_id, chat_id, walk.oldest_id, below)

    async def _cached_below(self, message_id: str) -> str | None:
        """The newest cached server message older than ``message_id``."""
        row = await self.store.message(message_id)
        if row is None:
            return None
        for older in reversed(await self.store.messages_before(row.chat_id, row.pos, 20)):
            if older.message_id is not None:
                return older.message_id
        return None

    async def older(
        self,
        chat_id: str,
        before: MessageRow | int | None,
        limit: int,
        publish: Callable[[Update], None],
        *,
        online: bool,
    ) -> list[MessageRow]:
        """Up to ``limit`` messages older than ``before`` (the newest when ``None``), oldest
        first, from the cache; a gap in that range is filled from the gateway first when
        ``online``."""
        rows = await self._cached(chat_id, before, limit)
        if not online:
            return rows
        boundary = {row.message_id for row in rows if row.message_id}
        if isinstance(before, MessageRow) and before.message_id:
            boundary.add(before.message_id)
        elif isinstance(before, int):
            anchor = await self.store.message(before)
            if anchor is not None and anchor.message_id:
                boundary.add(anchor.message_id)
        gaps = await self.store.sync_state.gaps(self.account_id, chat_id)
        hit = [g for g in gaps if g.from_message_id in boundary]
        if not hit and not rows and before is None:
            # Never synced: fetch the newest page so the thread is not empty.
            state = await self.store.sync_state.get_backfill(self.account_id, chat_id)
            if state is None or not state.done:
                async with self.lock(chat_id):
                    walk = await self.walk(chat_id, cursor=None, want=limit, publish=publish)
                    await self.settle_gaps(chat_id, walk)
                return await self._cached(chat_id, before, limit)
        if not hit:
            return rows
        async with self.lock(chat_id):
            for gap in hit:
                current = await self.store.sync_state.gaps(self.account_id, chat_id)
                if gap.id not in {g.id for g in current}:
                    continue  # filled meanwhile
                walk = await self.walk(
                    chat_id, cursor=gap.from_message_id, want=max(limit, 1), publish=publish
                )
                # The walk starts below the gap's own message, so it never lists it: the old
                # gap goes, and settle_gaps leaves a new one where the walk stopped, if any.
                if walk.fetched_ids or walk.connected or walk.exhausted:
                    await self.store.sync_state.clear_gap(gap.id)
                await self.settle_gaps(chat_id, walk)
        return await self._cached(chat_id, before, limit)

    async def _cached(
        self, chat_id: str, before: MessageRow | int | None, limit: int
    ) -> list[MessageRow]:
        return await self.cached(self.store, chat_id, before, limit)

    @staticmethod
    async def cached(
        store: Store, chat_id: str, before: MessageRow | int | None, limit: int
    ) -> list[MessageRow]:
        """The cache alone: the newest ``limit`` messages, or those older than ``before``."""
        if before is None:
            return await store.latest_messages(chat_id, limit)
        return await store.messages_before(chat_id, before, limit)


class Backfill:
    """One account's backfill run (see the module docstring)."""

    def __init__(
        self,
        history: History,
        publish: Callable[[Update], None],
        *,
        messages_per_chat: int,
        concurrency: int,
        full: bool = False,
    ) -> None:
        self.history = history
        self.full = full
        #: Lean pass: messages to fetch per chat marked in the chat-list phase.
        self._want: dict[str, int] = {}
        self.store = history.store
        self.client = history.client
        self.account_id = history.account_id
        self._publish = publish
        self.messages_per_chat = messages_per_chat
        self.concurrency = concurrency
        self.report = BackfillReport(self.account_id)
        self._done = 0
        self._total = 0
        self._phase: Literal["chats", "messages"] = "chats"
        self._fetched_before = history.fetched

    def _progress(self, finished: bool = False) -> None:
        messages = self.history.fetched - self._fetched_before
        self._publish(
            SyncProgress(self.account_id, self._done, self._total, finished, self._phase, messages)
        )

    async def run(self) -> BackfillReport:
        started = time.monotonic()
        self._fetched_before = fetched_before = self.history.fetched
        await self.client.creator_id(self.account_id)  # one /me, before the fan-out
        self._phase = "chats"
        await self._chat_list()
        self._phase = "messages"
        await self._messages()
        self.report.messages = self.history.fetched - fetched_before
        self.report.seconds = time.monotonic() - started
        self._progress(finished=True)
        return self.report

    # -- phase 1: the chat list ------------------------------------------------------------

    async def _chat_list(self) -> None:
        state = await self.store.sync_state.get_backfill(self.account_id)
        resuming = state is not None and not state.done
        cursor = state.cursor if state is not None and resuming else None
        seen = state.fetched if state is not None and resuming else 0
        if not resuming:
            await self.store.sync_state.set_backfill(
                self.account_id, cursor=None, done=False, fetched=0
            )
        self._total = await self.store.count_chats(self.account_id)
        self._done = await self._count_done()
        self._progress()
        while True:
            page = await self.client.chats_page(
                self.account_id, cursor=cursor, sort="newest", limit=CHATS_PAGE
            )
            await self._mark_stale(page.items, seen)
            for update in await self.store.upsert_chats(self.account_id, page.items):
                self._publish(update)
            seen += len(page.items)
            cursor = page.next_cursor if page.items else None
            await self.store.sync_state.set_backfill(
                self.account_id, cursor=cursor, done=cursor is None, fetched=seen
            )
            self._total = await self.store.count_chats(self.account_id)
            self._progress()
            if cursor is None:
                break

    async def _stale(self, chat: Chat) -> tuple[bool, BackfillState | None]:
        """Whether a listed chat has messages the cache may lack, and its pass state."""
        state = await self.store.sync_state.get_backfill(self.account_id, chat.id)
        last = chat.last_message
        # A finished chat keeps, as its cursor, the newest message the pass saw: anything
        # else on top (even a message already cached, like our own send) may hide a
        # message that arrived while nobody was listening.
        changed = last is not None and state is not None and last.id != state.cursor
        return state is None or (state.done and changed), state

    async def _lean_want(
        self, chat: Chat, position: int, state: BackfillState | None = None
    ) -> int:
        """Messages a lean pass fetches for a stale chat: 0 when its last message (carried
        by the list row) is all a chatter needs soon."""
        if state is not None and state.fetched > 0:
            # Its history was fetched before and more came since: the walk stops where the
            # cache is, and no hole is left between the cached messages and the new ones
            # (a thread shows the newest cached messages without looking for gaps).
            return self.messages_per_chat
        unread = max(chat.unread_count, 0)
        cached = await self.store.chat(chat.id)
        vip = cached is not None and cached.vip
        if unread > 1 or vip or position < LEAN_TOP:
            # Every unread message, and at least a page for context.
            return min(max(unread, MESSAGES_PAGE_MAX), max(self.messages_per_chat, unread))
        return 0

    async def _mark_stale(self, chats: Sequence[Chat], first_position: int = 0) -> None:
        """Before a page is stored: which of its chats need their messages fetched."""
        for position, chat in enumerate(chats, start=first_position):
            stale, state = await self._stale(chat)
            if not stale:
                continue
            want = (
                self.messages_per_chat
                if self.full
                else await self._lean_want(chat, position, state)
            )
            if want == 0 and chat.last_message is not None:
                # Left to the chatter: the last message (stored with the page) and a gap
                # below it, down to what the cache had, filled on open or scroll.
                below = state.cursor if state is not None else None
                await self.store.sync_state.record_gap(
                    self.account_id, chat.id, chat.last_message.id, below
                )
                await self.store.sync_state.set_backfill(
                    self.account_id, chat.id, cursor=chat.last_message.id, done=True, fetched=0
                )
                if state is None:
                    self._done += 1
                continue
            self._want[chat.id] = want or self.messages_per_chat
            await self.store.sync_state.set_backfill(
                self.account_id, chat.id, cursor=None, done=False, fetched=0
            )
            if state is not None:
                self._done -= 1

    async def plan(self) -> SyncPlan:
        """What :meth:`run` would fetch now, from the chat list and the cache; reads the
        chat list (its credits are counted) and writes nothing."""
        await self.client.creator_id(self.account_id)
        spent_before = self.client.meter.used
        cursor: str | None = None
        position = pages = with_history = message_pages = 0
        while True:
            page = await self.client.chats_page(
                self.account_id, cursor=cursor, sort="newest", limit=CHATS_PAGE
            )
            pages += 1
            for chat in page.items:
                stale, state = await self._stale(chat)
                if stale:
                    want = (
                        self.messages_per_chat
                        if self.full
                        else await self._lean_want(chat, position, state)
                    )
                    if want:
                        with_history += 1
                        # A chat with history cached stops where the cache is: a page, mostly.
                        had = state is not None and state.fetched > 0
                        message_pages += 1 if had else -(-want // MESSAGES_PAGE_MAX)
                position += 1
            cursor = page.next_cursor if page.items else None
            if cursor is None:
                break
        list_credits = self.client.meter.used - spent_before
        return SyncPlan(self.account_id, position, pages, list_credits, with_history, message_pages)

    async def _count_done(self) -> int:
        done = 0
        for chat_id in await self._chat_ids():
            state = await self.store.sync_state.get_backfill(self.account_id, chat_id)
            done += state is not None and state.done
        return done

    async def _chat_ids(self) -> list[str]:
        ids: list[str] = []
        offset = 0
        while True:
            rows = await self.store.chats(self.account_id, offset=offset, limit=500)
            ids.extend(row.chat_id for row in rows)
            if len(rows) < 500:
                return ids
            offset += len(rows)

    # -- phase 2: the latest messages of each chat -------------------------------------------

    async def _messages(self) -> None:
        chat_ids = await self._chat_ids()
        self.report.chats = len(chat_ids)
        self._total = len(chat_ids)
        todo: list[str] = []
        for chat_id in chat_ids:
            state = await self.store.sync_state.get_backfill(self.account_id, chat_id)
            if state is None or not state.done:
                todo.append(chat_id)
        self._done = len(chat_ids) - len(todo)
        self._progress()
        queue: asyncio.Queue[str] = asyncio.Queue()
        for chat_id in todo:  # newest activity first: the store's list order
            queue.put_nowait(chat_id)

        async def worker() -> None:
            while True:
                try:
                    chat_id = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                await self._chat(chat_id)
                self._done += 1
                self.report.chats_synced += 1
                self._progress()

        workers = [asyncio.create_task(worker()) for _ in range(max(1, self.concurrency))]
        try:
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def _chat(self, chat_id: str) -> None:
        history = self.history
        async with history.lock(chat_id):
            state = await self.store.sync_state.get_backfill(self.account_id, chat_id)
            if state is not None and state.done:
                return
            resumed = state is not None and (state.cursor is not None or state.fetched > 0)
            cursor = state.cursor if state is not None else None
            already = state.fetched if state is not None else 0
            wanted = self.messages_per_chat if self.full else self._want.get(chat_id)
            want = max(0, (wanted or MESSAGES_PAGE_MAX) - already)
            try:
                walk = await self._walk_saving(chat_id, cursor, want, resumed, already)
            except NotFoundError:
                # The gateway no longer knows the chat (the fan left, or a chat a webhook
                # brought that it has since dropped): what the cache holds stays, and one
                # such chat no longer stops the whole backfill. It is not asked again.
                self.report.chats_gone += 1
                await self.store.sync_state.set_backfill(
                    self.account_id, chat_id, cursor=None, done=True, fetched=already
                )
                return
            await history.settle_gaps(chat_id, walk)
            await self.store.sync_state.set_backfill(
                self.account_id,
                chat_id,
                cursor=await self._newest_server_id(chat_id),
                done=True,
                fetched=already + len(walk.fetched_ids),
            )

    async def _newest_server_id(self, chat_id: str) -> str | None:
        for row in reversed(await self.store.latest_messages(chat_id, 20)):
            if row.message_id is not None:
                return row.message_id
        return None

    async def _walk_saving(
        self, chat_id: str, cursor: str | None, want: int, resumed: bool, already: int
    ) -> Walk:
        """Walk in slices of one page, saving the cursor after each so a kill resumes here."""
        fetched: list[str] = []
        first = True
        last: Walk | None = None
        while len(fetched) < want:
            step = await self.history.walk(
                chat_id,
                cursor=cursor,
                want=min(MESSAGES_PAGE_MAX, want - len(fetched)),
                publish=self._publish,
                trust_first_page=not (resumed and first),
            )
            first = False
            fetched.extend(step.fetched_ids)
            last = step
            if step.connected or step.exhausted or step.cursor is None:
                break
            cursor = step.cursor
            await self.store.sync_state.set_backfill(
                self.account_id,
                chat_id,
                cursor=cursor,
                done=False,
                fetched=already + len(fetched),
            )
        if last is None:
            return Walk((), None, False, want == 0, cursor)
        return Walk(tuple(fetched), last.oldest_id, last.connected, last.exhausted, last.cursor)
