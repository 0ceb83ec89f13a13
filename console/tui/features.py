"""Issue 6 on the console: history search, automated messages, the fan's note and lists, and
the offline banner. A mixin of :class:`~console.tui.app.ConsoleApp` (kept apart so the app
module stays about layout and chats).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work
from textual.binding import Binding, BindingType

from console.api.errors import ApiError
from console.changes import ConnectionChanged
from console.tui.panes import OfflineBanner, StatusLine
from console.tui.profile import FanProfile, ListPicker, NoteEditor
from console.tui.source import SearchResult
from console.tui.text import clean
from console.tui.thread import Thread

if TYPE_CHECKING:
    from console.tui.app import ConsoleApp

    _Base = ConsoleApp
else:
    _Base = object

FEATURE_BINDINGS: list[BindingType] = [
    Binding(
        "ctrl+f",
        "find",
        "Search",
        priority=True,
        id="search",
        tooltip="Search every account's message history (works offline)",
    ),
    Binding(
        "slash",
        "find",
        "Search",
        show=False,
        id="search_slash",
        tooltip="Search every account's message history (works offline)",
    ),
    Binding(
        "a",
        "automations",
        "Automations",
        id="automations",
        tooltip="The account's automated messages: welcome, renewals, tip thanks",
    ),
    Binding(
        "N",
        "edit_note",
        "Note",
        id="note",
        tooltip="Edit the team's private note on the fan (ctrl+s or esc saves)",
    ),
    Binding(
        "L",
        "edit_lists",
        "Lists",
        show=False,
        id="lists",
        tooltip="Put the fan on lists, or take them off",
    ),
]


#: App actions that stay available on every screen (the rest act on the main screen only).
_EVERYWHERE = {"quit", "help", "command_palette", "switch_account"}


class ConsoleFeatures(_Base):
    """Actions and handlers for search, automations, notes, lists and the offline banner."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The app's keys act on the chats screen; over another screen (automated messages,
        # search, help) they would change a chat nobody is looking at.
        if action in _EVERYWHERE or len(self.screen_stack) <= 1:
            return True
        own = {b.action.split("(")[0] for b in type(self).BINDINGS if isinstance(b, Binding)}
        return action not in own or self.screen is self.screen_stack[0]

    # -- search ------------------------------------------------------------------------------

    def action_find(self) -> None:
        # The screens come in when first opened: the first paint does not wait for them.
        from console.tui.search import SearchScreen

        accounts = {a.account_id: a.name for a in self.accounts}

        def chosen(result: SearchResult | None) -> None:
            if result is not None:
                self.jump_to(result.account_id, result.chat_id, result.message_id)

        self.push_screen(SearchScreen(self.source, accounts, clock=self.clock), chosen)

    # -- automated messages ------------------------------------------------------------------

    def action_automations(self) -> None:
        from console.tui.automations import AutomationsScreen

        if self.account_id is None:
            self.notify("No account yet.", markup=False)
            return
        name = next((a.name for a in self.accounts if a.account_id == self.account_id), "")
        self.push_screen(AutomationsScreen(self.source, self.account_id, name))

    # -- the fan's note and lists ------------------------------------------------------------

    def action_edit_note(self) -> None:
        self._before_note = self.focused
        profile = self.query_one(FanProfile)
        if not profile.display:
            self.show_profile = True
            self._update_layout()
        if not profile.edit_note():
            self.notify("Open a chat first.", severity="warning", markup=False)

    # Named handler, not @on: decorated handlers are only collected from Textual classes, and
    # this mixin is a plain class.
    async def on_note_editor_saved(self, message: NoteEditor.Saved) -> None:
        await self._act(self.source.save_note(message.account_id, message.fan_id, message.text))
        self.notify("Note saved (on this machine only).", markup=False)
        if message.fan_id == self.fan_id and self.chat_id is not None:
            self._load_fan(message.account_id, self.chat_id)
        # Back where the chatter was (a key typed next must not land in another box).
        before = getattr(self, "_before_note", None)
        if before is not None and before.is_attached and before is not self.focused:
            before.focus()

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

        self.push_screen(ListPicker(fan_name, choices), picked)

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

    # -- offline banner ----------------------------------------------------------------------

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

    async def action_quit(self) -> None:
        """Quit, after asking when actions wait in the outbox (they stay queued either way)."""
        from console.tui.quit_screen import ConfirmQuit

        if isinstance(self.screen, ConfirmQuit):
            return
        counts = {a: update.pending for a, update in (await self.source.queued_counts()).items()}
        if not any(counts.values()):
            self.exit()
            return
        names = {account.account_id: account.name for account in self.accounts}

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit()

        self.push_screen(ConfirmQuit(counts, names), answered)

    def connection_changed(self, update: ConnectionChanged) -> None:
        if update.state == "live":
            self.notify("The gateway is back: queued actions are being delivered.", markup=False)
        self._show_banner()

    def help_groups_extra(self) -> list[tuple[str, list[Any]]]:
        from console.tui.automation_form import AutomationForm
        from console.tui.automations import AutomationsScreen
        from console.tui.search import SearchScreen as Search

        def own(owner: Any) -> list[Any]:
            return [b for b in owner.BINDINGS if isinstance(b, Binding)]

        return [
            ("Search", own(Search)),
            ("Automated messages", own(AutomationsScreen) + own(AutomationForm)),
            ("Fan note", own(NoteEditor)),
            ("Lists", own(ListPicker)),
        ]
