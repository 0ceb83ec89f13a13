"""Issue 17 on the demo console: the status line shows the credits used this month against the
budget, and the console warns once at 80% (a month already 83% spent in the cache, a console
started on it) and once more at 95%."""

from __future__ import annotations

import time
from pathlib import Path

from support.tui import OPTIONS, until
from textual.content import Content

from console.config import BudgetSettings, Settings
from console.credit_rule import day_of
from console.store import Store
from console.tui.launch import build_demo
from console.tui.panes import StatusLine


def _status(app: object) -> str:
    status = app.screen.query_one(StatusLine)  # type: ignore[attr-defined]
    rendered = status.render()
    return rendered.plain if isinstance(rendered, Content) else str(rendered)


async def test_status_line_shows_the_months_credits_and_warns_once_at_80_and_95(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "demo.sqlite3"
    async with await Store.open(cache) as store:  # earlier runs spent 1,000 this month
        await store.usage.add([("earlier", "messages", day_of(time.time()), 1000, 0, 1000.0)])
    settings = Settings(budget=BudgetSettings(monthly_credits=1200, reserve_credits=100))
    app, running, _sandbox = await build_demo(
        seed=7,
        size="small",
        simulate_per_minute=0,
        cache=cache,
        settings=settings,
        workspace_options=OPTIONS,
    )
    app.open_delay = 0
    try:
        async with app.run_test(size=(160, 36)) as pilot:
            await until(app, pilot, lambda: running.workspace.engines != {})
            await running.workspace.wait_backfilled()
            workspace = running.workspace
            await until(app, pilot, lambda: "/1,200 this month" in _status(app))
            used = workspace.meter.used
            assert 1000 < used < 1140  # the lean sync of 40 chats spent a few dozen
            assert f"credits {int(-(-used // 1)):,}/1,200 this month" in _status(app)

            def said(words: str) -> list[str]:
                return [n.message for n in app._notifications if words in n.message]

            await until(app, pilot, lambda: bool(said("80% of this month's credit budget")))
            assert said("95%") == []
            # The chatter's own work goes on; past 95% the second (and last) warning.
            account = app.chats_screen.account_id or ""
            client = next(iter(workspace.clients.values()))
            while workspace.meter.used < 0.95 * 1200:
                await client.me(account)  # chatter calls: not capped before 1,200
            await until(app, pilot, lambda: bool(said("95% of this month's credit budget")))
            await client.me(account)
            await pilot.pause()
            assert len(said("80% of")) == 1 and len(said("95% of")) == 1
    finally:
        await running.stop()
