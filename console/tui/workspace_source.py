"""The sync engine's :class:`~console.sync.engine.Workspace` (and its store) as a
:class:`~console.tui.source.ConsoleSource`.

Reads go to the store's query API; actions to the workspace, which stores them first and
delivers them through the outbox. The store's rows are the console's rows; a message gets the
actions queued on it here (the outbox is read beside the page).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from console.changes import OFFLINE_MODE, ConnectionChanged, OutboxChanged, UpdateBus
from console.store import OutboxState, Store
from console.store.actions import ACTIONS
from console.store.rows import MediaMarks, VaultAlbumRow, VaultItem
from console.tui.source import (
    ChatFilter,
    ChatRow,
    FanCard,
    ListChoice,
    MessagePage,
    MessageRow,
    QueueRow,
    SearchResult,
    SearchResults,
)

if TYPE_CHECKING:
    # pydantic models (built after the first paint, imported there; the first frame is
    # painted from the store's plain rows).
    from console.api.credits import CreditStatus
    from console.api.models import Account, AutomatedMessage, RateBudget

    # Imported when the workspace is opened, after the first paint: it brings the API client
    # and httpx, which the cached screen does not need.
    from console.sync.engine import Workspace
    from console.tui.followup import FollowUpRow

#: Chats read for the first frame: a screen up to ~80 lines tall, and the list's margin.
PRELOADED_ROWS = 80

_WAITING = (OutboxState.QUEUED, OutboxState.IN_FLIGHT, OutboxState.UNKNOWN)


def _position(message_id: str) -> str | int:
    """Search hits on local-only messages are named ``pos:N`` (they have no server id)."""
    if message_id.startswith("pos:") and message_id[4:].isdigit():
        return int(message_id[4:])
    return message_id


def _likes(row: MessageRow, me: str | None) -> list[Any]:
    """The message's likes as the creator's own flag says: a like or unlike waiting in the
    outbox (or delivered, the gateway answering only "ok") changes ``liked_by_creator`` at
    once, while the likes list is the last one the gateway or a webhook gave. Without this, a
    like on a message with no likes showed nothing and an unlike left the count as it was."""
    likes = row.likes
    if me is None:
        if row.liked_by_creator and not likes:
            from console.api.models import Like

            return [Like.model_construct(user_id="", type=1)]
        return likes
    if any(like.user_id == me for like in likes) == row.liked_by_creator:
        return likes
    others = [like for like in likes if like.user_id != me]
    if not row.liked_by_creator:
        return others
    from console.api.models import Like

    return [*others, Like.model_construct(user_id=me, type=1)]


def to_row(row: MessageRow, queued: tuple[str, ...] = (), me: str | None = None) -> MessageRow:
    """A store message as the thread shows it: with the actions waiting on it, and the
    creator's own like as the store's flag says (``me`` is the creator's user id)."""
    likes = _likes(row, me) if row.likes or row.liked_by_creator else row.likes
    if likes is row.likes and not queued:
        return row  # the usual message: as the store built it
    return row._replace(likes=likes, queued=queued)


#: A chat opened with fewer messages cached than this reads one gateway page (10 messages, the
#: most a page holds: one credit) before it shows.
OPEN_FETCH = 10


def _follow_up_row(item: Any) -> FollowUpRow:
    from console.tui.followup import FollowUpRow

    due = item.payload.get("due_ms")
    when = datetime.fromtimestamp(due / 1000, UTC) if isinstance(due, int) else item.next_attempt_at
    return FollowUpRow(
        item.account_id, item.chat_id, item.client_id, when, str(item.payload.get("content", ""))
    )


class WorkspaceSource:
    """Adapts a Workspace to what the console needs. Given only the open ``store`` and the
    ``bus``, it serves the cache at once and takes the workspace later (:meth:`attach`):
    actions asked before then wait for it."""

    def __init__(
        self,
        workspace: Workspace | None = None,
        *,
        store: Store | None = None,
        bus: UpdateBus | None = None,
        offline: bool = False,
    ) -> None:
        self._workspace = workspace
        if workspace is not None:
            store, bus = workspace.store, workspace.bus
        if store is None or bus is None:
            raise TypeError("a workspace, or the store and bus it will use")
        self.store = store
        self.bus: UpdateBus = bus
        self._ready = asyncio.Event()
        if workspace is not None:
            self._ready.set()
        # What a workspace says before it starts (Workspace.__init__), until there is one.
        self._before = ConnectionChanged(
            "offline" if offline else "live",
            datetime.now(UTC),
            OFFLINE_MODE if offline else "",
        )
        #: The store's account rows (same fields as ``Account``) until the workspace lists its own.
        self._cached_accounts: list[Any] = []
        self._first_window: tuple[str, int, list[ChatRow]] | None = None
        self._fans_to_refresh: list[tuple[str, str]] = []
        self._refresher: asyncio.Task[None] | None = None
        #: Team mode: the team's credits (the server spends, this console does not).
        self.team_credits: Callable[[], CreditStatus | None] | None = None
        #: Team mode: copies a chat's page older than a time from the team server into the
        #: cache, and says how many messages came (``TeamUI.fetch_older``). Set, the cache's
        #: first message is not the chat's (see :class:`~console.tui.source.MessagePage`).
        self.older_history: Callable[[str, str, datetime], Awaitable[int]] | None = None

    def attach(self, workspace: Workspace) -> None:
        """The workspace is open: actions go to it from now on."""
        self._workspace = workspace
        self._ready.set()
        if self._fans_to_refresh:
            self._refresh_when_attached(workspace)

    def _refresh_when_attached(self, workspace: Workspace) -> None:
        """Fetch the fans asked for so far once the workspace has attached its accounts.

        The chat open at start is read from the cache, before the workspace has listed its
        accounts (or is even open): asked then, the workspace has no account to fetch the fan
        with and does nothing, and the profile showed "Lifetime spend: —" until the chatter
        moved away and back."""
        if self._refresher is not None and not self._refresher.done():
            return

        async def refresh() -> None:
            await workspace.wait_attached()
            pending, self._fans_to_refresh = self._fans_to_refresh, []
            for account_id, fan_id in dict.fromkeys(pending):
                workspace.refresh_fan(account_id, fan_id)

        self._refresher = asyncio.get_running_loop().create_task(
            refresh(), name="fans-asked-before-attach"
        )

    def close(self) -> None:
        """Stop waiting to fetch fans (the workspace is stopping)."""
        if self._refresher is not None:
            self._refresher.cancel()

    @property
    def workspace(self) -> Workspace:
        if self._workspace is None:
            raise RuntimeError("the workspace is not open yet")
        return self._workspace

    async def _opened(self) -> Workspace:
        await self._ready.wait()
        return self.workspace

    async def preload(self) -> None:
        """Read the cached accounts before the workspace starts, so the first screen has its
        tabs and chat list at once (the workspace lists the same ones once started)."""
        only = self._workspace.only_accounts if self._workspace is not None else set()
        self._cached_accounts = [
            row for row in await self.store.accounts() if not only or row.account_id in only
        ]
        if self._cached_accounts:
            first = self._cached_accounts[0].account_id
            total, rows = await self.chat_window(first, ChatFilter.ALL, "", 0, PRELOADED_ROWS)
            self._first_window = (first, total, rows)

    def preloaded_chats(self, account_id: str) -> tuple[int, list[ChatRow]] | None:
        window, self._first_window = self._first_window, None
        if window is None or window[0] != account_id:
            return None
        return window[1], window[2]

    # -- reading -------------------------------------------------------------------------

    def accounts(self) -> Sequence[Account]:
        listed = self._workspace.accounts if self._workspace is not None else []
        return listed or self._cached_accounts

    def budget(self) -> RateBudget | None:
        return self._workspace.budget() if self._workspace is not None else None

    def credits(self) -> CreditStatus | None:
        team = self.team_credits() if self.team_credits is not None else None
        if team is not None:
            return team
        return self._workspace.credits() if self._workspace is not None else None

    def connection(self) -> ConnectionChanged:
        return self._workspace.connection if self._workspace is not None else self._before

    async def chats(
        self, account_id: str, filter: ChatFilter, search: str, offset: int, limit: int
    ) -> list[ChatRow]:
        return await self.store.chats(
            account_id, filter=filter, search=search or None, offset=offset, limit=limit
        )

    async def count_chats(self, account_id: str, filter: ChatFilter, search: str) -> int:
        return await self.store.count_chats(account_id, filter, search or None)

    async def chat_window(
        self, account_id: str, filter: ChatFilter, search: str, offset: int, limit: int
    ) -> tuple[int, list[ChatRow]]:
        return await self.store.chat_window(
            account_id, filter=filter, search=search or None, offset=offset, limit=limit
        )

    async def chat(self, account_id: str, chat_id: str) -> ChatRow | None:
        return await self.store.chat(chat_id)

    async def find_chats(self, name: str, limit: int) -> list[ChatRow]:
        found: list[ChatRow] = []
        for account in self.accounts():
            found.extend(await self.store.chats(account.account_id, search=name, limit=limit))
        return found[:limit]

    async def queue(
        self, account_ids: Sequence[str], sort: str, offset: int, limit: int, now: datetime
    ) -> list[QueueRow]:
        return await self.store.queue.window(
            account_ids, sort=sort, now=now, offset=offset, limit=limit
        )

    async def queue_count(self, account_ids: Sequence[str], now: datetime) -> int:
        return await self.store.queue.count(account_ids, now=now)

    async def queue_spend_known(self, account_ids: Sequence[str]) -> tuple[int, int]:
        return await self.store.queue.spend_known(account_ids)

    async def set_reminder(self, account_id: str, chat_id: str, due: datetime) -> None:
        await self.store.queue.set_reminder(account_id, chat_id, due)

    async def clear_reminder(self, account_id: str, chat_id: str) -> bool:
        return await self.store.queue.clear_reminder(chat_id)

    async def reminder(self, account_id: str, chat_id: str) -> datetime | None:
        return await self.store.queue.reminder(chat_id)

    async def follow_up(self, account_id: str, chat_id: str, text: str, due: datetime) -> str:
        return await (await self._opened()).follow_up(account_id, chat_id, text, due)

    async def follow_ups(self, account_id: str, chat_id: str) -> list[FollowUpRow]:
        return [_follow_up_row(item) for item in await self.store.queue.follow_ups(chat_id)]

    async def cancel_follow_up(self, account_id: str, client_id: str) -> bool:
        done = await self.store.queue.cancel_follow_up(client_id)
        if done:
            pending, failed = await self.store.outbox.counts(account_id)
            self.bus.publish(OutboxChanged(account_id, pending, failed))
        return done

    async def missed_follow_ups(self, account_ids: Sequence[str]) -> list[FollowUpRow]:
        return [_follow_up_row(i) for i in await self.store.queue.missed_follow_ups(account_ids)]

    async def settle_missed_follow_up(self, account_id: str, client_id: str, send: bool) -> None:
        if send:
            await self.store.queue.confirm_follow_up(client_id)
            workspace = self._workspace
            engine = workspace.engines.get(account_id) if workspace is not None else None
            if engine is not None and engine.sender is not None:
                engine.sender.wake()
        else:
            await self.store.queue.cancel_follow_up(client_id)
        pending, failed = await self.store.outbox.counts(account_id)
        self.bus.publish(OutboxChanged(account_id, pending, failed))

    async def _queued(self, account_id: str, chat_id: str) -> dict[str, tuple[str, ...]]:
        """Actions still in the outbox that show as queued (likes, pins), per message."""
        found: dict[str, tuple[str, ...]] = {}
        for item in await self.store.outbox.items(account_id, _WAITING):
            action = ACTIONS[item.kind]
            target = action.target(item)
            if item.chat_id == chat_id and action.shows_queued and target:
                found[target] = (*found.get(target, ()), item.kind.value)
        return found

    async def _rows(
        self, account_id: str, chat_id: str, rows: list[MessageRow]
    ) -> list[MessageRow]:
        queued = await self._queued(account_id, chat_id) if rows else {}
        me = self._creator(account_id)
        return [to_row(r, queued.get(r.key, ()), me) for r in rows]

    def _creator(self, account_id: str) -> str | None:
        """The creator's user id on the gateway (their likes and messages carry it)."""
        for account in self.accounts():
            if account.account_id == account_id:
                return account.fansly_account_id or None
        return None

    async def latest_messages(self, account_id: str, chat_id: str, limit: int) -> MessagePage:
        rows = await self.store.latest_messages(chat_id, limit)
        workspace = self._workspace
        if len(rows) < OPEN_FETCH and workspace is not None and account_id in workspace.engines:
            # Next to nothing cached: a lean sync left this chat's history to its first open
            # (console/sync/backfill.py). One gateway page is fetched now, once (the cache's
            # gaps say where); more comes as the chatter scrolls, a credit a page.
            await workspace.load_older(account_id, chat_id, None, OPEN_FETCH)
            rows = await self.store.latest_messages(chat_id, limit)
        # Team mode: the server may have older messages than the cache's (``messages_before``
        # asks it when the chatter scrolls up).
        at_start = len(rows) < limit and self.older_history is None
        return MessagePage(await self._rows(account_id, chat_id, rows), at_start=at_start)

    async def messages_before(
        self, account_id: str, chat_id: str, before_id: str, limit: int
    ) -> MessagePage:
        anchor = await self.store.message(_position(before_id))
        if anchor is None:
            return MessagePage(at_start=True)
        workspace = await self._opened()
        rows = await workspace.load_older(account_id, chat_id, anchor.pos, limit)
        if len(rows) < limit and self.older_history is not None:
            # Team mode, past the cache: the server's older page is written into the cache
            # (shown offline from then on), and the cache read again.
            oldest = rows[0] if rows else anchor
            if await self.older_history(account_id, chat_id, oldest.created_at):
                rows = await workspace.load_older(account_id, chat_id, anchor.pos, limit)
        at_start = len(rows) < limit
        return MessagePage(await self._rows(account_id, chat_id, rows), at_start=at_start)

    async def messages_after(
        self, account_id: str, chat_id: str, after_id: str, limit: int
    ) -> list[MessageRow]:
        anchor = await self.store.message(_position(after_id))
        if anchor is None:
            return []
        rows = await self.store.messages_after(chat_id, anchor.pos, limit)
        return await self._rows(account_id, chat_id, rows)

    async def messages_around(
        self, account_id: str, chat_id: str, message_id: str, limit: int
    ) -> list[MessageRow]:
        rows = await self.store.messages_around(chat_id, _position(message_id), limit)
        return await self._rows(account_id, chat_id, rows)

    async def message(self, account_id: str, chat_id: str, message_id: str) -> MessageRow | None:
        row = await self.store.message(_position(message_id))
        if row is None:
            return None
        return (await self._rows(account_id, chat_id, [row]))[0]

    async def pinned_messages(self, account_id: str, chat_id: str) -> list[MessageRow]:
        rows = await self.store.pinned_messages(chat_id, limit=5)
        me = self._creator(account_id)
        return [to_row(r, (), me) for r in reversed(rows)]

    async def fan_card(self, account_id: str, chat_id: str) -> FanCard | None:
        chat = await self.store.chat(chat_id)
        if chat is None or chat.fan_id is None:
            return None
        row = await self.store.fan(account_id, chat.fan_id)
        history: list[Any] = []
        from console.api.models import Fan

        if row is None:
            fan = Fan.model_construct(
                id=chat.fan_id, username=chat.fan_username, display_name=chat.fan_name, lists=[]
            )
        else:
            history = row.spend_history
            fan = Fan.model_construct(
                id=row.fan_id,
                username=row.username,
                display_name=row.display_name,
                avatar_url=row.avatar_url,
                created_at=None,
                subscription=row.subscription,
                lifetime_spend_millis=row.lifetime_spend_millis,
                tips_millis=row.tips_millis,
                last_purchase_at=row.last_purchase_at,
                last_purchase_millis=row.last_purchase_millis,
                lists=row.lists,
            )
        note = await self.store.local.get_note(account_id, chat.fan_id)
        purchases = await self.store.vault.purchases(account_id, chat.fan_id)
        return FanCard(
            account_id,
            fan,
            muted=chat.muted,
            note=note.text if note else "",
            note_updated=note.updated_at if note else None,
            spend_history=list(history),
            purchases=purchases,
        )

    async def search(self, query: str, limit: int) -> list[SearchResult]:
        hits = await self.store.search(query, limit=limit)
        results = SearchResults(
            SearchResult(
                account_id=hit.account_id,
                chat_id=hit.chat_id,
                fan_name=hit.fan_name,
                message_id=hit.message_id or f"pos:{hit.pos}",
                created_at=hit.created_at,
                from_creator=hit.from_creator,
                text=hit.snippet.text,
                highlights=tuple(hit.snippet.highlights),
            )
            for hit in hits
        )
        results.since = hits.since
        return results

    async def queued_counts(self) -> dict[str, OutboxChanged]:
        counts: dict[str, OutboxChanged] = {}
        for account in self.accounts():
            pending, failed = await self.store.outbox.counts(account.account_id)
            counts[account.account_id] = OutboxChanged(account.account_id, pending, failed)
        return counts

    async def save_note(self, account_id: str, fan_id: str, text: str) -> None:
        await self.store.local.set_note(account_id, fan_id, text)

    async def fan_lists(self, account_id: str, fan_id: str) -> list[ListChoice]:
        rows = await (await self._opened()).fan_lists(account_id, fan_id)
        return [ListChoice(row.id, row.label, member) for row, member in rows]

    async def set_fan_list(self, account_id: str, fan_id: str, list_id: str, member: bool) -> None:
        await (await self._opened()).set_fan_list(account_id, fan_id, list_id, member)

    async def automations(self, account_id: str) -> list[AutomatedMessage]:
        return await self.store.automations.rules(account_id)

    async def refresh_automations(self, account_id: str) -> list[AutomatedMessage]:
        return await (await self._opened()).refresh_automations(account_id)

    async def create_automation(self, account_id: str, rule: AutomatedMessage) -> AutomatedMessage:
        return await (await self._opened()).create_automation(account_id, rule)

    async def delete_automation(self, account_id: str, rule_id: str) -> None:
        await (await self._opened()).delete_automation(account_id, rule_id)

    def refresh_fan(self, account_id: str, fan_id: str) -> None:
        workspace = self._workspace
        if workspace is not None and account_id in workspace.engines:
            workspace.refresh_fan(account_id, fan_id)  # nothing when offline: the cache shows
            return
        self._fans_to_refresh.append((account_id, fan_id))
        if workspace is not None:
            self._refresh_when_attached(workspace)

    async def unread_counts(self) -> dict[str, int]:
        return await self.store.unread_counts()

    async def next_unread_chat(self, after: tuple[str, str] | None) -> tuple[str, str] | None:
        if after is None:
            return await self.store.next_unread_chat()
        return await self.store.next_unread_chat(after[0], after[1])

    async def draft(self, account_id: str, chat_id: str) -> str:
        return await self.store.local.get_draft(chat_id)

    async def save_draft(self, account_id: str, chat_id: str, text: str) -> None:
        await self.store.local.set_draft(chat_id, text)

    # -- actions ---------------------------------------------------------------------------

    async def send(self, account_id: str, chat_id: str, text: str, reply_to: str | None) -> str:
        return await (await self._opened()).send(account_id, chat_id, text, reply_to)

    async def send_media(
        self,
        account_id: str,
        chat_id: str,
        text: str,
        media_ids: Sequence[str],
        price_dollars: float | None,
        preview_id: str | None,
        reply_to: str | None,
    ) -> str:
        return await (await self._opened()).send_media(
            account_id,
            chat_id,
            text,
            media_ids,
            price_dollars=price_dollars,
            preview_id=preview_id,
            reply_to=reply_to,
        )

    async def vault(self, account_id: str) -> tuple[list[VaultAlbumRow], list[VaultItem]]:
        return await self.store.vault.contents(account_id)

    async def refresh_vault(self, account_id: str) -> int:
        return await (await self._opened()).refresh_vault(account_id)

    async def media_marks(self, account_id: str, chat_id: str) -> MediaMarks:
        return await self.store.vault.media_marks(account_id, chat_id)

    async def set_like(self, account_id: str, chat_id: str, message_id: str, liked: bool) -> None:
        if liked:
            await (await self._opened()).like(account_id, chat_id, message_id)
        else:
            await (await self._opened()).unlike(account_id, chat_id, message_id)

    async def set_pin(self, account_id: str, chat_id: str, message_id: str, pinned: bool) -> None:
        if pinned:
            await (await self._opened()).pin(account_id, chat_id, message_id)
        else:
            await (await self._opened()).unpin(account_id, chat_id, message_id)

    async def set_mute(self, account_id: str, fan_id: str, muted: bool) -> None:
        if muted:
            await (await self._opened()).mute(account_id, fan_id)
        else:
            await (await self._opened()).unmute(account_id, fan_id)

    async def act(
        self, account_id: str, chat_id: str, kind: str, payload: dict[str, object]
    ) -> None:
        await (await self._opened()).act(account_id, chat_id, kind, payload)

    async def typing(self, account_id: str, chat_id: str) -> None:
        await (await self._opened()).typing(account_id, chat_id)

    async def retry(self, account_id: str, message_id: str) -> None:
        row = await self.store.message(message_id)
        if row is None or row.client_id is None:
            raise ValueError("this message has no queued send to retry")
        await (await self._opened()).retry(row.client_id)

    async def mark_read(self, account_id: str, chat_id: str) -> None:
        await (await self._opened()).mark_read(account_id, chat_id)
