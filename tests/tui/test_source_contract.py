"""One contract, every implementation: what the console needs of a ``ConsoleSource`` (and of
an event log), run against the test fake and the real thing.

Like mautrix-python's ``state_store/tests/store_test.py``, one fixture is parametrised over the
implementations and every test runs on each:

- ``memory``: the in-memory world (``tests/support/fakes_tui.py``);
- ``workspace``: the product's ``WorkspaceSource`` over an offline sync ``Workspace`` and a
  real SQLite cache on disk, filled with the very same world.

A fake that drifts from the product (a filter it ignores, a page in the wrong order, an action
that shows nothing) fails here, not in a UI test that trusted it. The event logs (the
in-memory one of ``tests/support/fakes_webhooks.py`` and the store) get the same treatment below.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.fakes_tui import MemorySource
from support.fakes_webhooks import MemoryEventLog

from console.api.models import Chat, Message
from console.changes import ChatChanged, MessageAdded, MessageChanged, Update
from console.config import Settings
from console.events import Event, EventType, Provider
from console.store import ChatFilter, ChatRow, MessageRow, MessageState, Store
from console.sync.engine import Workspace
from console.tui.source import ConsoleSource
from console.tui.workspace_source import WorkspaceSource
from console.webhooks.hub import EventLog

CHATS = 12
MESSAGES = 8


def world() -> MemorySource:
    """The reference world both implementations hold (no muted chat: muting is an action)."""
    memory = MemorySource(accounts=2, chats_per_account=CHATS, messages_per_chat=MESSAGES)
    for chats in memory._chats.values():
        for chat in chats:
            chat.muted = False
    return memory


async def fill(store: Store, memory: MemorySource) -> None:
    """Put the memory world in the cache the way sync would (chat list pages, message pages)."""
    await store.upsert_accounts(memory.accounts())
    for account in memory.accounts():
        for chat in memory._chats[account.account_id]:
            rows = chat.messages
            messages = [
                Message(
                    id=row.key,
                    chat_id=chat.chat_id,
                    sender_id=row.sender_id,
                    content=row.text,
                    created_at=row.created_at,
                    in_reply_to=row.reply_to_id,
                )
                for row in rows
            ]
            listed = Chat(
                id=chat.chat_id,
                account_id=account.account_id,
                fan=chat.fan,
                unread_count=chat.unread,
                last_message=messages[-1] if messages else None,
            )
            await store.upsert_chats(account.account_id, [listed])
            await store.upsert_messages(
                account.account_id, chat.chat_id, messages, creator_id=account.fansly_account_id
            )
            if chat.pinned:
                await store.local.set_chat_pinned(chat.chat_id, True)


@pytest.fixture(params=["memory", "workspace"])
async def source(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ConsoleSource]:
    memory = world()
    if request.param == "memory":
        yield memory
        return
    store = await Store.open(tmp_path / "cache.sqlite3")
    await fill(store, memory)
    workspace = Workspace(Settings(), store, offline=True, owns_store=True)
    await workspace.start(backfill=False)
    try:
        yield WorkspaceSource(workspace)
    finally:
        await workspace.stop()


def _account(source: ConsoleSource) -> str:
    return source.accounts()[0].account_id


async def _all_chats(source: ConsoleSource, filter: ChatFilter = ChatFilter.ALL) -> list[ChatRow]:
    account = _account(source)
    total = await source.count_chats(account, filter, "")
    rows: list[ChatRow] = []
    for offset in range(0, total, 5):  # in windows, as the list reads them
        rows += await source.chats(account, filter, "", offset, 5)
    assert len(rows) == total
    return rows


async def _published(queue: asyncio.Queue[Update], wanted: Callable[[Update], bool]) -> None:
    """Wait for the update ``wanted`` picks out (the bus delivers on the loop)."""
    async with asyncio.timeout(5):
        while not wanted(await queue.get()):
            pass


# -- the chat list ------------------------------------------------------------------------


async def test_the_list_is_windows_of_store_rows_pinned_first_then_newest(
    source: ConsoleSource,
) -> None:
    rows = await _all_chats(source)
    assert len(rows) == CHATS and all(isinstance(row, ChatRow) for row in rows)
    assert len({row.chat_id for row in rows}) == CHATS  # windows neither overlap nor skip
    pinned = [row.pinned for row in rows]
    assert pinned == sorted(pinned, reverse=True) and any(pinned)
    for group in (True, False):
        times = [row.last_activity for row in rows if row.pinned is group]
        assert times == sorted(times, reverse=True)  # type: ignore[type-var]
    for row in rows:
        assert row.account_id == _account(source) and row.fan_name and row.preview
        assert await source.chat(row.account_id, row.chat_id) == row


@pytest.mark.parametrize("filter", list(ChatFilter))
async def test_every_filter_of_the_store_is_honoured(
    source: ConsoleSource, filter: ChatFilter
) -> None:
    everything = await _all_chats(source)
    shown = await _all_chats(source, filter)
    keep = {
        ChatFilter.ALL: lambda row: True,
        ChatFilter.UNREAD: lambda row: row.unread > 0,
        ChatFilter.UNANSWERED: lambda row: row.waiting_since is not None,
        ChatFilter.VIP: lambda row: row.vip,
        ChatFilter.SUBSCRIBERS: lambda row: row.subscriber,
        ChatFilter.PINNED: lambda row: row.pinned,
        ChatFilter.MUTED: lambda row: row.muted,
    }[filter]
    assert [row.chat_id for row in shown] == [row.chat_id for row in everything if keep(row)]


@pytest.mark.parametrize("filter", list(ChatFilter))
async def test_the_lists_one_read_is_its_count_and_window(
    source: ConsoleSource, filter: ChatFilter
) -> None:
    account = _account(source)
    needle = (await _all_chats(source))[3].fan_name.split()[0]
    for search in ("", needle):
        total = await source.count_chats(account, filter, search)
        for offset, limit in ((0, 5), (2, 50), (max(0, total - 1), 5), (total + 2, 5), (0, 0)):
            window = await source.chat_window(account, filter, search, offset, limit)
            assert window == (total, await source.chats(account, filter, search, offset, limit))


async def test_a_name_search_narrows_the_list(source: ConsoleSource) -> None:
    account = _account(source)
    target = (await _all_chats(source))[4]
    needle = target.fan_name.split()[0].upper()  # any case
    found = await source.chats(account, ChatFilter.ALL, needle, 0, 50)
    assert target in found
    assert all(needle.casefold() in row.fan_name.casefold() for row in found)
    assert await source.count_chats(account, ChatFilter.ALL, needle) == len(found)


async def test_unread_counts_and_the_next_unread_chat_agree_with_the_list(
    source: ConsoleSource,
) -> None:
    counts = await source.unread_counts()
    for account in source.accounts():
        total = await source.count_chats(account.account_id, ChatFilter.ALL, "")
        rows = await source.chats(account.account_id, ChatFilter.ALL, "", 0, total)
        assert counts[account.account_id] == sum(row.unread for row in rows)
    first = await source.next_unread_chat(None)
    assert first is not None
    seen = [first]
    while len(seen) < 50:
        following = await source.next_unread_chat(seen[-1])
        assert following is not None
        if following == first:
            break
        seen.append(following)
    unread = [
        (row.account_id, row.chat_id)
        for account in source.accounts()
        for row in await source.chats(account.account_id, ChatFilter.UNREAD, "", 0, 100)
    ]
    assert seen == unread  # every unread chat once, in tab then list order, wrapping around


# -- a thread -----------------------------------------------------------------------------


async def test_pages_of_a_thread_join_up_in_time_order(source: ConsoleSource) -> None:
    account = _account(source)
    chat = (await _all_chats(source))[0]
    latest = await source.latest_messages(account, chat.chat_id, 3)
    assert len(latest) == 3 and all(isinstance(row, MessageRow) for row in latest)
    older = await source.messages_before(account, chat.chat_id, latest[0].key, 100)
    whole = [*older, *latest]
    assert len(whole) == MESSAGES
    assert [row.created_at for row in whole] == sorted(row.created_at for row in whole)
    assert len({row.key for row in whole}) == MESSAGES
    middle = whole[3]
    after = await source.messages_after(account, chat.chat_id, middle.key, 2)
    assert [row.key for row in after] == [row.key for row in whole[4:6]]
    around = await source.messages_around(account, chat.chat_id, middle.key, 5)
    assert middle.key in [row.key for row in around]
    assert [row.key for row in around] == [
        row.key for row in whole if around[0].created_at <= row.created_at <= around[-1].created_at
    ]
    assert await source.message(account, chat.chat_id, middle.key) == middle
    assert {row.chat_id for row in whole} == {chat.chat_id}
    for row in whole:
        assert row.state is MessageState.SENT and row.known_as(row.key)


async def test_a_page_says_whether_it_reaches_the_chats_first_message(
    source: ConsoleSource,
) -> None:
    # The thread stops asking for older pages on the source's word, not by counting rows
    # itself (in team mode a short cached page is not the chat's start).
    account = _account(source)
    chat = (await _all_chats(source))[0]
    latest = await source.latest_messages(account, chat.chat_id, 3)
    assert len(latest) == 3 and not latest.at_start
    older = await source.messages_before(account, chat.chat_id, latest[0].key, 3)
    assert len(older) == 3 and not older.at_start
    rest = await source.messages_before(account, chat.chat_id, older[0].key, 3)
    assert len(rest) == MESSAGES - 6 and rest.at_start
    assert (await source.latest_messages(account, chat.chat_id, MESSAGES + 1)).at_start


async def test_search_finds_cached_messages_and_leads_back_to_them(source: ConsoleSource) -> None:
    account = _account(source)
    chat = (await _all_chats(source))[2]
    newest = (await source.latest_messages(account, chat.chat_id, 1))[0]
    word = max(newest.text.split(), key=len).strip("!?,.")
    hits = await source.search(word, 500)
    assert hits and all(word.casefold() in hit.text.casefold() for hit in hits)
    hit = next(hit for hit in hits if hit.chat_id == chat.chat_id)
    page = await source.messages_around(hit.account_id, hit.chat_id, hit.message_id, 5)
    assert hit.message_id in [row.key for row in page]
    times = [h.created_at for h in hits]
    assert times == sorted(times, reverse=True)


# -- actions: shown at once, published ----------------------------------------------------


async def test_a_sent_message_shows_at_once_as_pending_and_is_published(
    source: ConsoleSource,
) -> None:
    account = _account(source)
    chat = (await _all_chats(source))[1]
    async with source.bus.subscribe() as queue:
        key = await source.send(account, chat.chat_id, "on my way", None)
        row = await source.message(account, chat.chat_id, key)
        assert row is not None and row.known_as(key)
        assert (row.text, row.from_creator) == ("on my way", True)
        assert row.state is MessageState.PENDING
        assert (await source.latest_messages(account, chat.chat_id, 1))[0].known_as(key)
        await _published(queue, lambda u: isinstance(u, MessageAdded) and u.chat_id == chat.chat_id)
    assert (await source.chat(account, chat.chat_id)).preview == "on my way"  # type: ignore[union-attr]


async def test_like_and_pin_show_at_once_and_are_published(source: ConsoleSource) -> None:
    account = _account(source)
    chat = (await _all_chats(source))[0]
    target = (await source.latest_messages(account, chat.chat_id, 2))[0]
    async with source.bus.subscribe() as queue:
        await source.set_like(account, chat.chat_id, target.key, True)
        await source.set_pin(account, chat.chat_id, target.key, True)
        row = await source.message(account, chat.chat_id, target.key)
        assert row is not None and row.liked_by_creator and row.pinned
        assert len(row.likes) == len(target.likes) + 1  # the creator's own like counts at once
        pins = await source.pinned_messages(account, chat.chat_id)
        assert target.key in [r.key for r in pins]
        await _published(
            queue, lambda u: isinstance(u, MessageChanged) and u.message_id == target.key
        )
    await source.set_like(account, chat.chat_id, target.key, False)
    row = await source.message(account, chat.chat_id, target.key)
    assert row is not None and not row.liked_by_creator and len(row.likes) == len(target.likes)


async def test_a_muted_fan_s_chat_shows_muted_and_is_published(source: ConsoleSource) -> None:
    account = _account(source)
    chat = (await _all_chats(source))[5]
    async with source.bus.subscribe() as queue:
        await source.set_mute(account, chat.fan_id or "", True)
        assert (await source.chat(account, chat.chat_id)).muted  # type: ignore[union-attr]
        muted = await _all_chats(source, ChatFilter.MUTED)
        assert [row.chat_id for row in muted] == [chat.chat_id]
        await _published(queue, lambda u: isinstance(u, ChatChanged) and u.chat_id == chat.chat_id)


async def test_reading_a_chat_clears_its_unread_count(source: ConsoleSource) -> None:
    account = _account(source)
    chat = (await _all_chats(source, ChatFilter.UNREAD))[0]
    before = (await source.unread_counts())[account]
    await source.mark_read(account, chat.chat_id)
    assert (await source.chat(account, chat.chat_id)).unread == 0  # type: ignore[union-attr]
    assert (await source.unread_counts())[account] == before - chat.unread


async def test_a_draft_is_kept_per_chat_and_an_empty_one_is_gone(source: ConsoleSource) -> None:
    account = _account(source)
    first, second = (await _all_chats(source))[:2]
    await source.save_draft(account, first.chat_id, "half a thought")
    assert await source.draft(account, first.chat_id) == "half a thought"
    assert await source.draft(account, second.chat_id) == ""
    await source.save_draft(account, first.chat_id, "")
    assert await source.draft(account, first.chat_id) == ""


async def test_a_note_on_a_fan_shows_on_their_card(source: ConsoleSource) -> None:
    account = _account(source)
    chat = (await _all_chats(source))[3]
    assert chat.fan_id is not None
    await source.save_note(account, chat.fan_id, "likes cats")
    card = await source.fan_card(account, chat.chat_id)
    assert card is not None and card.fan.id == chat.fan_id and card.note == "likes cats"


# -- event logs: the in-memory one and the store ------------------------------------------


@pytest.fixture(params=["memory", "store"])
async def event_log(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[MemoryEventLog | Store]:
    if request.param == "memory":
        yield MemoryEventLog()
        return
    async with await Store.open(tmp_path / "cache.sqlite3") as store:
        yield store


def _event(key: str, minutes: int) -> Event:
    at = datetime(2026, 11, 22, 12, tzinfo=UTC) + timedelta(minutes=minutes)
    message = Message(id=f"m-{key}", chat_id="c1", sender_id="100", content=key, created_at=at)
    return Event(
        type=EventType.MESSAGE_RECEIVED,
        provider=Provider.FANSLY_API,
        name="message.received",
        idempotency_key=key,
        account_id="fansly_acc_1",
        occurred_at=at,
        chat_id="c1",
        fan_id="100",
        message=message,
    )


def _seq(applied: object) -> int | None:
    return applied if applied is None or isinstance(applied, int) else applied.seq  # type: ignore[attr-defined]


async def test_an_event_log_records_each_key_once_in_order_and_resumes(
    event_log: MemoryEventLog | Store,
) -> None:
    assert isinstance(event_log, EventLog)  # what the hub resumes from
    assert await event_log.last_event_seq() == 0
    seqs = [_seq(await event_log.apply_event(_event(f"k{i}", i))) for i in range(5)]
    assert seqs == [1, 2, 3, 4, 5]
    assert await event_log.apply_event(_event("k2", 2)) is None  # a redelivery changes nothing
    assert await event_log.last_event_seq() == 5
    assert await event_log.first_event_seq() == 1
    resumed = await event_log.events_since(2)
    assert [(e.seq, e.idempotency_key) for e in resumed] == [(3, "k2"), (4, "k3"), (5, "k4")]
    assert [e.seq for e in await event_log.events_since(0, 2)] == [1, 2]
    assert [e.message.content for e in resumed if e.message] == ["k2", "k3", "k4"]
