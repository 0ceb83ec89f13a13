"""The chats screen's team mode: what it does beside solo mode when ``app.team`` is set
(console/tui/team_ui.py says what and why). Each function is called from one hook of the chats
view; in solo mode ``app.team`` is ``None`` and none of them runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from textual.content import Content

from console.changes import ConnectionChanged
from console.tui.chat_list import ChatList
from console.tui.composer import Composer
from console.tui.panes import TEAM_SERVER, StatusLine
from console.tui.profile import FanProfile
from console.tui.team_screens import GuardQuestion
from console.tui.team_ui import CREDITS_EVERY, HEARTBEAT, TeamUI

if TYPE_CHECKING:
    from console.store.rows import MessageRow
    from console.tui.chats_screen import ChatsScreen
    from console.tui.chats_view import ChatsView

#: Seconds between two looks at who stopped typing or left (the server's rows age the same).
PRESENCE_TICK = 1.0


def attach(screen: ChatsScreen, team: TeamUI) -> None:
    """Wire team mode into the chats screen once it is mounted."""
    chat_list = screen.query_one(ChatList)
    chat_list.presence = team.label

    def changed() -> None:
        chat_list.refresh()
        screen.show_team_title()

    def asked(item: Any, others: list[dict[str, Any]]) -> None:
        screen.app.call_later(ask_about_queued, screen, team, item, others)

    def note(account_id: str, fan_id: str) -> None:
        if (account_id, fan_id) == (screen.account_id, screen.fan_id):
            screen.call_later(load_notes, screen, team)

    team.on_change, team.on_ask, team.on_note = changed, asked, note
    # The workspace is offline by design in team mode: the status line and the banner follow
    # the team server instead (launch.py publishes its stream's state).
    status = screen.query_one(StatusLine)
    status.apply(ConnectionChanged("live", datetime.now(UTC), TEAM_SERVER))
    screen._show_banner()
    screen.set_interval(PRESENCE_TICK, team.tick)
    screen.set_interval(HEARTBEAT, lambda: screen.run_worker(team.heartbeat(), group="team"))

    async def show_credits() -> None:
        if await team.refresh_credits():
            status.credits = team.credits
            status.render_status()

    screen.run_worker(show_credits(), group="team-credits")
    screen.set_interval(
        CREDITS_EVERY, lambda: screen.run_worker(show_credits(), group="team-credits")
    )


def title_label(team: TeamUI | None, chat_id: str | None) -> Content:
    """`` · anna is typing…`` after the fan's name in the thread's header (plain text)."""
    if team is None or chat_id is None:
        return Content("")
    label = team.label(chat_id)
    return Content.styled(f"  · {label}", "$text-accent") if label else Content("")


async def ask_before_send(
    screen: ChatsView,
    team: TeamUI,
    message: Composer.Submitted,
    quoted: MessageRow | None,
    send: Callable[[Composer.Submitted, MessageRow | None], Awaitable[None]],
) -> bool:
    """Ask first when the server's guard names a teammate; ``True`` when the question is
    asked (the send then happens, or not, on the answer: "no" puts the text back in the
    composer)."""
    chat_id = message.target.chat_id
    others = await team.ask_first(chat_id)
    if not others:
        return False

    async def answered(yes: bool | None) -> None:
        if yes:
            team.send_anyway.allow(chat_id)
            await send(message, quoted)
        else:  # nothing was queued
            sent_to = message.target
            await screen.put_back(
                sent_to.account_id, sent_to.chat_id, message.text, message.media, quoted
            )

    screen.app.push_screen(GuardQuestion(others, message.text), answered)
    return True


async def ask_about_queued(
    screen: ChatsScreen, team: TeamUI, item: Any, others: list[dict[str, Any]]
) -> None:
    """A queued send the server answered "ask first" (a race the keyboard's question could not
    see): the same question; yes retries it with the confirmation, no drops it and puts its
    text back in the composer."""
    text = str((item.payload or {}).get("content", ""))

    async def answer(yes: bool | None) -> None:
        if yes:
            await screen._act(team.retry(item.client_id))
            return
        await screen._act(team.discard(item.client_id))
        if await screen.put_back(item.account_id, item.chat_id, text):
            screen.notify("Not sent: your text is back in the composer.", markup=False)

    screen.app.push_screen(GuardQuestion(others, text), answer)


async def load_notes(screen: ChatsScreen, team: TeamUI) -> None:
    """The open fan's shared notes into the profile pane."""
    account_id, fan_id = screen.account_id, screen.fan_id
    if account_id is None or fan_id is None:
        return
    notes = await team.notes(account_id, fan_id)
    if (account_id, fan_id) == (screen.account_id, screen.fan_id):
        screen.query_one(FanProfile).show_shared(notes)
