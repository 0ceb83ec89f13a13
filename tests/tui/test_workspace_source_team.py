"""The real source in team mode: the cache's first message is not the chat's first (the team
server holds the whole history), so the source says a short cached page may have older ones,
and past the cache asks the server before it says the start is reached. The thread only
listens (tests/tui/test_tui_team_ui.py follows an older page from the server to the screen)."""

from __future__ import annotations

from pathlib import Path

from support.store import ACCOUNT, CREATOR, account, chat, message

from console.config import Settings
from console.store import Store
from console.sync.engine import Workspace
from console.team.client import TeamClient
from console.tui.team_ui import TeamUI
from console.tui.workspace_source import WorkspaceSource


async def test_in_team_mode_a_short_cached_page_is_not_the_chats_start(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "cache.sqlite3")
    messages = [message(f"m{n}", minutes=n) for n in range(5)]
    await store.upsert_accounts([account()])
    await store.upsert_chats(ACCOUNT, [chat(last=messages[-1])])
    await store.upsert_messages(ACCOUNT, "c1", messages, creator_id=CREATOR)
    workspace = Workspace(Settings(), store, offline=True, owns_store=True)
    await workspace.start(backfill=False)
    # Port 9 (discard) refuses: a team server that is gone.
    team = TeamUI(TeamClient("http://127.0.0.1:9", "fct_0_gone"), store, me="anna", accounts=[])
    try:
        source = WorkspaceSource(workspace)
        solo = await source.latest_messages(ACCOUNT, "c1", 30)
        assert len(solo) == 5 and solo.at_start  # solo: the cache's history is the chat's
        source.older_history = team.fetch_older
        latest = await source.latest_messages(ACCOUNT, "c1", 30)
        assert [r.key for r in latest] == [r.key for r in solo] and not latest.at_start
        older = await source.messages_before(ACCOUNT, "c1", latest[2].key, 30)
        # The server asked and gone: the cache answers, and nothing older can be had now.
        assert [r.key for r in older] == ["m0", "m1"] and older.at_start
        full = await source.messages_before(ACCOUNT, "c1", latest[3].key, 2)
        assert [r.key for r in full] == ["m1", "m2"] and not full.at_start
    finally:
        await team.aclose()
        await workspace.stop()
