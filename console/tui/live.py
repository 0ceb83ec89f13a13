"""How the console follows the layers below: the sync layer's updates (new and changed
messages, chats, fans, connection, sync progress, the outbox) and the events hub's state,
turned into typed messages and handled here, with bursts coalesced; and the offline banner
they drive.

A layer of :class:`~console.tui.chats_screen.ChatsScreen` over the chats view
(console.tui.chats_view), whose state (``source``, ``views``, the open chat, the widgets) and
actions it reads. The screen handles these while another screen (help, search, automations) is
shown over it: the widgets behind keep up.
"""

from __future__ import annotations

import asyncio
from datetime import UTC
from typing import Any

from textual import on, work
from textual.notifications import SeverityLevel

from console.changes import (
    OFFLINE_MODE,
    AccountSetAside,
    ChatChanged,
    ConnectionChanged,
    CreditsChanged,
    EventApplied,
    FanChanged,
    MessageAdded,
    MessageChanged,
    OutboxChanged,
    SyncProgress,
    Update,
)
from console.tui.account_switcher import tab_name
from console.tui.account_tabs import AccountTabs
from console.tui.chat_list import ChatList
from console.tui.chats_view import ChatsView
from console.tui.followup import FollowUpStrip
from console.tui.messages import (
    ChatsStale,
    EventArrived,
    FanStale,
    HubChanged,
    StatusChanged,
    ThreadChanged,
    UnreadStale,
)
from console.tui.panes import OfflineBanner, StatusLine
from console.tui.text import clean, fan_label
from console.tui.thread import Thread

#: Toasts are for news: an event older than this (a hub sending a console what it missed
#: while closed, a gateway's late retry) updates the list and the badges without a toast.
NEWS_SECONDS = 300
#: Unread badges: counting them reads every chat of the cache (~10 ms on a million messages),
#: on the reader the open thread waits for; a quarter second is fresh enough for a badge.
BADGE_INTERVAL = 0.25
#: Seconds an alert waits for the profile of a fan whose spend was never fetched.
SPEND_WAIT = 5.0


class LiveUpdates(ChatsView):
    """The updates pump and its handlers (see the module's docstring)."""

    @work(group="updates", exit_on_error=False)
    async def _pump_updates(self) -> None:
        async with self.source.bus.subscribe() as queue:
            while True:
                self._route(await queue.get())

    def _route(self, update: Update) -> None:
        self.console.collector.activity()
        post = self.post_message
        if isinstance(update, MessageAdded | MessageChanged):
            added = isinstance(update, MessageAdded)
            post(ThreadChanged(update.account_id, update.chat_id, update.message_id, added))
            if added:
                post(ChatsStale(update.account_id))
                post(UnreadStale())
        elif isinstance(update, ChatChanged):
            post(ChatsStale(update.account_id))
            post(UnreadStale())
        elif isinstance(update, FanChanged):
            post(FanStale(update.account_id, update.fan_id))
        elif isinstance(update, ConnectionChanged | SyncProgress | OutboxChanged):
            post(StatusChanged(update))
            if isinstance(update, SyncProgress) and update.finished:
                post(ChatsStale(update.account_id))
                post(UnreadStale())
                if update.error:
                    name = self.account_name(update.account_id)
                    self.notify(
                        clean(
                            f"Sync of {name} stopped: {update.error}. Cached chats work; it "
                            "runs again when the gateway comes back.",
                            one_line=True,
                        ),
                        severity="warning",
                        markup=False,
                    )
        elif isinstance(update, EventApplied):
            post(EventArrived(update.event))
        elif isinstance(update, AccountSetAside):
            self._account_set_aside(update)
        elif isinstance(update, CreditsChanged):
            self._credits_changed(update)

    def _credits_changed(self, update: CreditsChanged) -> None:
        """The meter says something once (80%, 95%, a cap, the gateway's 402, a new month):
        shown as a notice, and the status line's figure is brought up to date."""
        severity: SeverityLevel = "error"
        if update.kind in ("warn80", "warn95", "background-cap"):
            severity = "warning"
        elif update.kind == "resumed":
            severity = "information"
        self.notify(
            clean(update.text), title="Credits", severity=severity, timeout=20, markup=False
        )
        status = self.part(StatusLine)
        if status is not None:
            status.credits = self.source.credits()
            status.render_status()

    def _account_set_aside(self, update: AccountSetAside) -> None:
        """Another creator behind a tab: say so until read, and leave the old world's chat
        (it now lives in the set-aside tab; a reply typed there must not go to the new one)."""
        self.notify(
            clean(update.text()),
            title="Account changed",
            severity="error",
            timeout=120,
            markup=False,
        )
        view = self.views.get(update.account_id)
        if view is not None:
            view.chat_id = None
            if self.account_id == update.account_id:
                self._show_account(update.account_id)

    @on(ChatsStale)
    async def _chats_stale(self, message: ChatsStale) -> None:
        if message.account_id not in self.views:
            await self._refresh_accounts()
        if message.account_id == self.account_id:
            self._throttled("chats", self._reload_chats)
        self._throttled("queue", self.queue_mode.stale)

    def _reload_chats(self) -> None:
        # Updates can still be queued while the app shuts down and its widgets are gone.
        chat_list = self.part(ChatList)
        if chat_list is not None:
            chat_list.reload()
            if self.account_id and self.chat_id:
                self._open_chat_state(self.account_id, self.chat_id)
                self.refresh_follow_ups()

    @work(group="follow-ups", exclusive=True, exit_on_error=False)
    async def refresh_follow_ups(self) -> None:
        """The open chat's follow-ups under its title (after a change to the chat)."""
        account_id, chat_id = self.account_id, self.chat_id
        if account_id is None or chat_id is None:
            return
        rows = await self.source.follow_ups(account_id, chat_id)
        strip = self.part(FollowUpStrip)
        if strip is not None and (account_id, chat_id) == (self.account_id, self.chat_id):
            strip.show(rows)

    @work(group="chat-state", exclusive=True, exit_on_error=False)
    async def _open_chat_state(self, account_id: str, chat_id: str) -> None:
        # The open chat's muted state as stored now (the gateway may have refused a mute).
        await self.show_chat_state(account_id, chat_id)

    @on(UnreadStale)
    def _unread_stale(self) -> None:
        self._throttled("unread", self._load_unread, self.console.badge_interval)

    @work(group="unread", exclusive=True, exit_on_error=False)
    async def _load_unread(self) -> None:
        self._unread = await self.source.unread_counts()
        tabs = self.part(AccountTabs)
        if tabs is None:
            return
        # A tab made from the cache may carry a placeholder name (an account first seen in a
        # webhook) until the gateway lists the account: take the listed name.
        listed = {a.account_id: a for a in self.source.accounts()}
        for i, account in enumerate(self.accounts):
            newer = listed.get(account.account_id)
            if newer is not None and newer.name != account.name:
                self.accounts[i] = newer
        tabs.set_names(tab_name(a.name) for a in self.accounts)
        tabs.show_unread(
            {i: self._unread.get(a.account_id, 0) for i, a in enumerate(self.accounts)}
        )

    @on(ThreadChanged)
    async def _thread_changed(self, message: ThreadChanged) -> None:
        if (message.account_id, message.chat_id) != (self.account_id, self.chat_id):
            return
        row = await self.source.message(message.account_id, message.chat_id, message.message_id)
        thread = self.part(Thread)
        if row is None or thread is None:
            return
        if message.added:
            await thread.message_added(row)
            if not row.from_creator:
                # The chatter is reading this chat: it must not count as unread.
                self._mark_read(message.account_id, message.chat_id)
        else:
            await thread.message_changed(row)
            self._refresh_pins()

    @on(FanStale)
    def _fan_stale(self, message: FanStale) -> None:
        self._throttled("queue", self.queue_mode.stale)  # the fan's badges
        if message.account_id == self.account_id and message.fan_id == self.fan_id:
            self._load_fan(message.account_id, self.chat_id or "")

    @on(StatusChanged)
    def _status_changed(self, message: StatusChanged) -> None:
        status = self.part(StatusLine)
        if status is None:
            return
        if self.console.team is not None and getattr(message.update, "detail", "") == OFFLINE_MODE:
            return  # team mode: the workspace is offline by design; the team server's is shown
        status.budget = self.source.budget()
        status.credits = self.source.credits()
        status.apply(message.update)
        update = message.update
        if isinstance(update, ConnectionChanged):
            self.connection_changed(update)
        else:
            self._show_banner()
        # A chat opened before its account reached the gateway shows what the cache had (maybe
        # only the chat list's last message): the gateway can fill it once the account syncs,
        # or once the gateway is back.
        back = isinstance(update, ConnectionChanged) and update.state == "live"
        syncing = isinstance(update, SyncProgress) and update.account_id == self.account_id
        thread = self.part(Thread) if back or syncing else None
        if thread is not None:
            thread.reread_if_thin(again=back)

    @on(HubChanged)
    def _hub_changed(self, message: HubChanged) -> None:
        status = self.part(StatusLine)
        if status is None:
            return
        status.hub = message.state
        status.render_status()
        if message.state.state == "offline":
            self.notify(
                clean(f"Live events stopped: {message.state.detail}", one_line=True),
                severity="error",
                markup=False,
            )

    @on(EventArrived)
    @work(group="alerts", exit_on_error=False)
    async def _event_arrived(self, message: EventArrived) -> None:
        from console.events import EventType  # loaded with the event itself

        event = message.event
        if (event.account_id, event.chat_id) == (self.account_id, self.chat_id):
            return  # the chatter is looking at it
        occurred = event.occurred_at
        if occurred.tzinfo is None:
            occurred = occurred.replace(tzinfo=UTC)
        if (self.clock() - occurred).total_seconds() > NEWS_SECONDS:
            return  # old news (a hub catching up a console that was closed): badges only
        name = "A fan"
        row = None
        if event.chat_id:
            row = await self.source.chat(event.account_id, event.chat_id)
            if row is not None:
                if row.muted:
                    return
                name = fan_label(row.fan_name, row.fan_username)
        # Which creator the fan wrote to: the chatter works several at once.
        account = self.account_name(event.account_id)
        row = await self._with_spend(event, row)
        self._alert_for(event, row, name)
        if event.type is EventType.TIP_RECEIVED and (event.amount_millis or 0) >= (
            self.console.tip_alert_millis
        ):
            amount = (event.amount_millis or 0) / 1000
            self.notify(f"{name} tipped ${amount:,.2f}", title=f"Tip · {account}", markup=False)
            self.app.bell()
        elif event.type is EventType.MESSAGE_RECEIVED and event.message is not None:
            preview = clean(event.message.content[:400], one_line=True)[:80]
            self.notify(f"{name}: {preview}", title=account, timeout=4, markup=False)

    async def _with_spend(self, event: Any, row: Any) -> Any:
        """A fan whose spend was never fetched writes while the whale alert is on: fetch their
        profile first (three billed calls, once), so a whale rings even before anyone opened
        their chat. Waits at most ``SPEND_WAIT`` seconds, in this background worker."""
        if row is None or row.spend_millis is not None or not row.fan_id:
            return row
        if not self.console.notifier.channels("whale"):
            return row
        self.source.refresh_fan(event.account_id, row.fan_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SPEND_WAIT
        while loop.time() < deadline:
            await asyncio.sleep(0.2)  # the fetch publishes FanChanged; the row is re-read
            fresh = await self.source.chat(event.account_id, event.chat_id)
            if fresh is not None and fresh.spend_millis is not None:
                return fresh
        return row

    def _alert_for(self, event: Any, row: Any, name: str) -> None:
        """The bell, desktop notice or hook a new event asks for (``[notify]``, issue 16)."""
        from console.events import EventType
        from console.tui.notify import Alert

        if not any(a.account_id == event.account_id for a in self.accounts):
            return  # a hidden account
        base = Alert(
            "",
            event.account_id,
            self.account_name(event.account_id),
            event.chat_id,
            getattr(row, "fan_id", None),
            name,
        )
        notifier = self.console.notifier
        if event.type is EventType.TIP_RECEIVED:
            notifier.tipped(base, event.amount_millis or 0)
        elif event.type is EventType.MESSAGE_RECEIVED and row is not None:
            tier = self.console.badge_rules.tier(row.spend_millis or 0)
            notifier.fan_wrote(base, tier=tier, vip=bool(row.vip))

    # -- the offline banner ----------------------------------------------------------------

    def _show_banner(self) -> None:
        banner = self.part(OfflineBanner)
        status = self.part(StatusLine)
        if banner is None or status is None:
            return
        queued = sum(o.pending for o in status.outbox.values())
        banner.show(status.connection, queued)
        thread = self.part(Thread)
        if thread is not None:
            thread.set_online(status.connection.state == "live")

    @work(group="outbox-counts", exclusive=True, exit_on_error=False)
    async def _load_queued(self) -> None:
        """Counts of actions already waiting at start (queued in an earlier session)."""
        status = self.part(StatusLine)
        if status is None:
            return
        for account_id, update in (await self.source.queued_counts()).items():
            if account_id not in status.outbox:
                status.apply(update)
        self._show_banner()

    def connection_changed(self, update: ConnectionChanged) -> None:
        if update.state == "live":
            where = "team server" if self.console.team is not None else "gateway"
            self.notify(f"The {where} is back: queued actions are being delivered.", markup=False)
        self._show_banner()
