"""SVG snapshot of team mode's presence: teammates' names in the chat list and the thread's
header (the team server unreachable here: the presence comes from notices, as the stream gives
them; the notes pane says the server cannot be reached)."""

from __future__ import annotations

from typing import Any

from support.snapshots import settle, snapshot_app
from textual.pilot import Pilot

from console.team.client import TeamClient, TeamNotice
from console.tui.chat_list import ChatList
from console.tui.team_ui import TeamUI


def test_presence_in_the_chat_list_and_the_header(snap_compare: Any) -> None:
    app = snapshot_app()
    # Port 9 (discard) refuses: every call to the server fails fast, as with a server gone.
    # A still clock: "is typing" never ages out on a slow machine before the shot.
    team = TeamUI(
        TeamClient("http://127.0.0.1:9", "fct_0_x"), None, me="you", accounts=[], clock=lambda: 0.0
    )  # type: ignore[arg-type]
    app.team = team

    async def act(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        rows = app.query_one(ChatList).rows
        open_chat, other = app.chats_screen.chat_id, rows[2].chat_id

        def seen(who: str, chat: str | None, typing: bool) -> TeamNotice:
            return TeamNotice(1, "presence", "", chat, {"chatter": who, "typing": typing})

        team.notice(seen("anna", open_chat, True))
        team.notice(seen("[b]ben[/b]", other, False))
        await settle(pilot)

    assert snap_compare(app, terminal_size=(120, 36), run_before=act)
