"""The chatter's chats: the console's main screen (the app's default one).

Three layers, each calling only the ones below: the chats view's layout and how it moves
(console.tui.chats_view), the live updates that keep it current (console.tui.live), and here
the screen's keys (console.tui.bindings), its start, the actions on the open chat and the tools
that open over it: history search, automated messages, the fan's note and lists. The app
(console.tui.app) keeps the themes, the services, the command palette and the screen stack.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on, work
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Static

from console.api.errors import ApiError
from console.changes import OFFLINE_MODE
from console.tui.account_tabs import AccountTabs
from console.tui.bindings import ACTIONS, CHATS_BINDINGS
from console.tui.chat_list import ChatList
from console.tui.composer import Composer
from console.tui.confirm import ConfirmUnsend
from console.tui.followup import FollowUpStrip
from console.tui.help_screen import CHAT_LIST_MARKS, TAB_BADGE
from console.tui.live import LiveUpdates
from console.tui.messages import UnreadStale
from console.tui.panes import ReplyBar, StatusLine
from console.tui.pinned_strip import PinnedStrip
from console.tui.profile import FanProfile, ListPicker, NoteEditor
from console.tui.selling import open_scripts, open_vault
from console.tui.source import MessageRow, MessageState, SearchResult
from console.tui.text import clean, fan_label
from console.tui.thread import Thread

_AFTER_FIRST_PAINT_AT_THE_LATEST = 1.0  # seconds after mount, should the list never paint
_OWN_ACTIONS = {a.action.split("(")[0] for a in ACTIONS.values() if a.target == "chats"}


class ChatsScreen(LiveUpdates):
    """The chatter's chats (the app's default screen)."""

    BINDINGS: ClassVar[list[BindingType]] = CHATS_BINDINGS

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Under another screen (help, search, automations) the chats' keys are off: a palette
        # command run there would change a chat nobody is looking at, and the footer left in
        # view behind a modal shows only the app's keys.
        return self.is_active or action not in _OWN_ACTIONS

    async def on_mount(self) -> None:
        self.query_one(ReplyBar).display = False
        self.query_one(PinnedStrip).display = False
        self.query_one(FollowUpStrip).display = False
        self._render_filter_bar()
        # What the marks mean, on hover (the help screen says it for the keyboard).
        self.query_one(ChatList).tooltip = CHAT_LIST_MARKS.format(
            waiting=self.console.waiting_alert_minutes
        )
        self.query_one(AccountTabs).tooltip = TAB_BADGE
        status = self.query_one(StatusLine)
        status.budget = self.source.budget()
        status.credits = self.source.credits()
        status.apply(self.source.connection())
        self._show_banner()
        self._load_queued()
        self.update_layout()
        self._pump_updates()
        if self.account_id is not None:
            self._show_account(self.account_id)
            # The cached chats paint first; the servers and the workspace's network side
            # start once they are on screen (or after a moment if that never happens).
            self.set_timer(_AFTER_FIRST_PAINT_AT_THE_LATEST, self._after_first_paint)
        else:
            self._after_first_paint()
            waiting = (
                "No cached accounts yet: run the console online (or `fansly-console sync`) once."
                if self.source.connection().detail == OFFLINE_MODE
                else "Waiting for the gateway to list the connected accounts…"
            )
            self.query_one("#thread-title", Static).update(Content(waiting))
        self.post_message(UnreadStale())
        self.query_one(ChatList).focus()
        if self.console.team is not None:  # team mode: presence, the guard's question, notes
            from console.tui.team_view import attach

            attach(self, self.console.team)
            self.query_one(FanProfile).shared_notes = True
        if self.console.queue_default and self.accounts:
            self.call_after_refresh(self.action_queue)  # [queue] default_view

    @on(ChatList.FirstPainted)
    def _after_first_paint(self) -> None:
        """What the first screen can do without: the footer's keys (a widget per key, built
        for every change of the focus) and the servers, the clients and the sync."""
        self.console.after_first_paint()

    # -- actions on the open chat -----------------------------------------------------------

    def _selected_row(self) -> MessageRow | None:
        view = self.query_one(Thread).selected
        return view.row if view is not None else None

    # The keys to a text box move the focus with set_focus, at once: the keys read after
    # them go into the box (focus() waits behind them; console/tui/key_order.py).

    def action_reply(self) -> None:
        self.set_focus(self.query_one(Composer))

    def action_reply_to(self) -> None:
        row = self._selected_row()
        if row is None:
            return
        self._set_reply_to(row)
        self.set_focus(self.query_one(Composer))

    def action_like(self) -> None:
        row = self._selected_row()
        if row is not None and self.account_id and self.chat_id:
            self._run(
                self.source.set_like(
                    self.account_id, self.chat_id, row.key, not row.liked_by_creator
                )
            )

    def action_pin(self) -> None:
        row = self._selected_row()
        if row is not None and self.account_id and self.chat_id:
            self._run(self.source.set_pin(self.account_id, self.chat_id, row.key, not row.pinned))

    def action_unsend(self) -> None:
        row = self._selected_row()
        if row is None or not (self.account_id and self.chat_id):
            return
        if not row.from_creator or row.state is MessageState.UNSENT:
            self.notify("Only your own messages can be unsent", severity="warning")
            return
        account_id, chat_id, message_id = self.account_id, self.chat_id, row.key

        def answered(yes: bool | None) -> None:
            if yes:
                payload: dict[str, object] = {"message_id": message_id}
                self._run(self.source.act(account_id, chat_id, "unsend", payload))

        self.app.push_screen(ConfirmUnsend(row.text), answered)

    @work(group="actions", exit_on_error=False)
    async def action_mute(self) -> None:
        if not (self.account_id and self.chat_id and self.fan_id):
            return
        account_id, chat_id = self.account_id, self.chat_id
        row = await self.source.chat(account_id, chat_id)
        muted = bool(row and row.muted)
        await self._act(self.source.set_mute(account_id, self.fan_id, not muted))
        # The stored (optimistic) state, everywhere it shows, at once: the thread's title,
        # the list's row (even while a new order waits for a pause) and the profile.
        await self.show_chat_state(account_id, chat_id)
        who = fan_label(row.fan_name, row.fan_username) if row else fan_label(self.fan_name)
        self.notify(
            f"{'Unmuted' if muted else 'Muted'} {who} · {self.account_name(self.account_id)}",
            markup=False,
        )

    def action_retry(self) -> None:
        row = self._selected_row()
        thread = self.query_one(Thread)
        if row is None or row.state.value != "failed":
            failed = [r for r in thread.rows if r.state.value == "failed"]
            row = failed[-1] if failed else None
        if row is None or self.account_id is None:
            self.notify("No failed message to retry.", markup=False)
            return
        self._run(self.source.retry(self.account_id, row.key))

    @work(group="actions", exit_on_error=False)
    async def action_next_unread(self) -> None:
        after = (self.account_id, self.chat_id) if self.account_id and self.chat_id else None
        found = await self.source.next_unread_chat(after)
        if found is None:
            self.notify("No unread chats.", markup=False)
            return
        self.jump_to(*found)

    def action_toggle_profile(self) -> None:
        profile = self.query_one(FanProfile)
        self.show_profile = not profile.display
        self.update_layout()

    # -- the queue, accounts, reminders and follow-ups (issue 16) ----------------------------

    def action_queue(self) -> None:
        self.queue_mode.show()

    def answer_chat(self, account_id: str, chat_id: str) -> None:
        """Open ``chat_id`` with the composer focused (from the queue)."""
        self.jump_to(account_id, chat_id)
        self.call_after_refresh(self.query_one(Composer).focus)

    def action_switch_account(self) -> None:
        """``g``: the account switcher (console/tui/account_switcher.py)."""
        from console.tui.account_switcher import AccountChoice, AccountSwitcher

        choices = [
            AccountChoice(
                a.account_id,
                a.name,
                getattr(a, "username", None) or "",
                self._unread.get(a.account_id, 0),
                self.account_layout.group_of(a),
                i,
            )
            for i, a in enumerate(self.accounts)
        ]

        def chosen(account_id: str | None) -> None:
            if account_id is None:
                return
            queue = self.queue_mode
            if queue.shown and queue.screen is not None:
                queue.screen.dismiss(None)
            index = next(i for i, a in enumerate(self.accounts) if a.account_id == account_id)
            self.action_account(index)
            self.query_one(ChatList).focus()

        self.app.push_screen(AccountSwitcher(choices), chosen)

    def action_remind(self) -> None:
        from console.tui.followup import ask_reminder

        ask_reminder(self)

    def action_follow_up(self) -> None:
        from console.tui.followup import ask_follow_up

        ask_follow_up(self)

    def action_cancel_follow_ups(self) -> None:
        from console.tui.followup import cancel_follow_ups

        cancel_follow_ups(self)

    @work(group="queue-tick", exclusive=True, exit_on_error=False)
    async def queue_tick(self) -> None:
        """Due reminders come back to the queue, long waits alert, follow-ups missed while no
        console ran are asked about (the app runs this every few seconds)."""
        from console.tui.followup import ask_missed

        await self.queue_mode.tick()
        if self.is_active:
            await ask_missed(self, self._missed_asked)

    # -- search ------------------------------------------------------------------------------

    def action_find(self) -> None:
        # The screens come in when first opened: the first paint does not wait for them.
        from console.tui.search import SearchScreen

        accounts = {a.account_id: a.name for a in self.accounts}

        def chosen(result: SearchResult | None) -> None:
            if result is not None:
                self.jump_to(result.account_id, result.chat_id, result.message_id)

        self.app.push_screen(SearchScreen(self.source, accounts, clock=self.clock), chosen)

    # -- selling from the composer (console.tui.selling) ---------------------------------------

    def action_vault(self) -> None:
        open_vault(self, self.source)

    def action_scripts(self) -> None:
        name = next((a.name for a in self.accounts if a.account_id == self.account_id), "")
        open_scripts(self, self.source, name)

    # -- automated messages ------------------------------------------------------------------

    def action_automations(self) -> None:
        from console.tui.automations import AutomationsScreen

        if self.account_id is None:
            self.notify("No account yet.", markup=False)
            return
        name = next((a.name for a in self.accounts if a.account_id == self.account_id), "")
        self.app.push_screen(AutomationsScreen(self.source, self.account_id, name))

    # -- the fan's note and lists ------------------------------------------------------------

    async def action_edit_note(self) -> None:
        self._before_note = self.focused
        profile = self.query_one(FanProfile)
        if not profile.display:
            self.show_profile = True
            self.update_layout()
        if not await profile.edit_note():
            self.notify("Open a chat first.", severity="warning", markup=False)

    @on(NoteEditor.Saved)
    async def _note_saved(self, message: NoteEditor.Saved) -> None:
        team = self.console.team
        if team is not None:  # team mode: a note is added to the team's, with its author
            await self._team_note_saved(message, team)
        else:
            await self._act(self.source.save_note(message.account_id, message.fan_id, message.text))
            self.notify("Note saved (on this machine only).", markup=False)
            if message.fan_id == self.fan_id and self.chat_id is not None:
                self._load_fan(message.account_id, self.chat_id)
        # Back where the chatter was (a key typed next must not land in another box).
        before = getattr(self, "_before_note", None)
        if before is not None and before.is_attached and before is not self.focused:
            before.focus()

    async def _team_note_saved(self, message: NoteEditor.Saved, team: Any) -> None:
        from console.tui.team_view import load_notes

        if not message.text:
            return
        try:
            await team.add_note(message.account_id, message.fan_id, message.text)
        except Exception:
            # Nothing is lost: the next N opens the editor with the text.
            self.query_one(FanProfile).unsent_note = (message.fan_id, message.text)
            self.notify(
                "Note not added: the team server cannot be reached. N opens it again.",
                severity="warning",
                markup=False,
            )
            return
        self.notify("Note added for the team.", markup=False)
        await load_notes(self, team)

    def action_team_stats(self) -> None:
        team = self.console.team
        if team is None:
            self.notify("Team stats need team mode (fansly-console --team URL).", markup=False)
            return
        from console.tui.team_screens import TeamStatsScreen

        self.app.push_screen(TeamStatsScreen(team))

    @work(group="lists", exclusive=True, exit_on_error=False)
    async def action_edit_lists(self) -> None:
        account_id, fan_id, fan_name = self.account_id, self.fan_id, self.fan_name
        if account_id is None or fan_id is None:
            self.notify("Open a chat first.", severity="warning", markup=False)
            return
        try:
            choices = await self.source.fan_lists(account_id, fan_id)
        except ApiError as exc:
            self.notify(clean(f"Lists need the gateway: {exc}"), severity="warning", markup=False)
            return
        if not choices:
            self.notify("This account has no lists.", markup=False)
            return

        def picked(changes: list[tuple[str, bool]] | None) -> None:
            if changes:
                self._apply_lists(account_id, fan_id, changes)

        self.app.push_screen(ListPicker(fan_name, choices), picked)

    @work(group="lists", exclusive=True, exit_on_error=False)
    async def _apply_lists(
        self, account_id: str, fan_id: str, changes: list[tuple[str, bool]]
    ) -> None:
        for list_id, member in changes:
            try:
                await self.source.set_fan_list(account_id, fan_id, list_id, member)
            except ApiError as exc:
                self.notify(clean(str(exc)), severity="error", markup=False)
                return
        self.notify("Lists updated.", markup=False)
        if self.chat_id is not None and self.fan_id == fan_id:
            self._load_fan(account_id, self.chat_id)

    def help_groups_extra(self) -> list[tuple[str, list[Any]]]:
        from console.tui.automation_form import AutomationForm
        from console.tui.automations import AutomationsScreen
        from console.tui.search import SearchScreen as Search

        def own(owner: Any) -> list[Any]:
            return [b for b in owner.BINDINGS if isinstance(b, Binding)]

        from console.tui.account_switcher import AccountSwitcher
        from console.tui.queue import QueueList, QueueScreen

        return [
            ("Queue (w)", own(QueueScreen) + own(QueueList)),
            ("Account switcher (g)", own(AccountSwitcher)),
            ("Search", own(Search)),
            ("Automated messages", own(AutomationsScreen) + own(AutomationForm)),
            ("Fan note", own(NoteEditor)),
            ("Lists", own(ListPicker)),
        ]
