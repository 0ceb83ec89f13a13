"""Issue 17, the cap: background work stops at the budget minus the chatter's reserve and says
so, replies go on until the budget itself; a 402 from the gateway mid-sync pauses background
work (said once) until the next billing cycle, on a simulated clock. Real sandbox, real HTTP,
real cache."""

from __future__ import annotations

import argparse
import asyncio
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from support.sync import count_in_sandbox, last_progress, open_workspace, settings_for

from console.api.errors import CreditBudgetReached, InsufficientCreditsError
from console.commands.sync import EXIT_BUDGET, _sync
from console.config import BudgetSettings
from console.sandbox.server import SandboxServer
from console.store import OutboxState

DAY = 24 * 3600.0


class Clock:
    """Epoch seconds that a test moves forward (the meter's billing month follows it)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(20):
        # Polled: the engine resumes on the meter's own poll of its clock; nothing to await.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_the_cap_stops_background_work_and_not_replies(tmp_path: Path) -> None:
    async with SandboxServer(seed=7, size="small", requests_per_minute=1_000_000) as server:
        workspace = await open_workspace(server, tmp_path / "cache.sqlite3", concurrency=1)
        workspace.settings.budget = BudgetSettings(monthly_credits=60, reserve_credits=20)
        workspace.meter.budget, workspace.meter.reserve = 60, 20
        async with workspace, workspace.bus.subscribe() as updates:
            await workspace.start()
            await workspace.wait_backfilled()  # the start-up wait ends at the cap
            account = workspace.accounts[0].account_id
            engine = workspace.engine(account)
            assert isinstance(engine.error, CreditBudgetReached)
            # Paused, so no longer shown as a sync in progress ("⟳ sync 20/40" stayed).
            last = last_progress(updates)
            assert last.finished and last.error is None
            assert engine.error.kind == "background"
            assert "kept for replies" in str(engine.error)
            used = workspace.meter.used
            assert 40 <= used < 42  # a full sync of 40 chats costs ~80: it stopped at 60 - 20
            stopped = [n for n in workspace.credit_notices if n.kind == "background-cap"]
            assert len(stopped) == 1 and "Background sync stopped" in stopped[0].text
            requests = sum(server.gateway.usage.requests.values())
            # A profile refresh is background work too: refused here, nothing sent.
            [row] = await workspace.store.chats(account, limit=1)
            task = workspace.refresh_fan(account, row.fan_id or "")
            assert task is not None
            await task
            assert sum(server.gateway.usage.requests.values()) == requests
            # The chatter's reply goes out, out of the reserve.
            await workspace.send(account, row.chat_id, "still here for you")
            async with asyncio.timeout(20):
                await workspace.drain_outbox()
            assert count_in_sandbox(server, row.chat_id, "still here for you") == 1
            # Spend the reserve: at the budget itself, a reply is refused before it is sent.
            client = next(iter(workspace.clients.values()))
            while workspace.meter.used < 60:
                await client.me(account)
            client_id = await workspace.send(account, row.chat_id, "one too many")
            async with asyncio.timeout(20):
                await workspace.drain_outbox()
            item = await workspace.store.outbox.item(client_id)
            assert item is not None and item.state is OutboxState.FAILED
            assert "credit budget is spent" in (item.last_error or "")
            assert count_in_sandbox(server, row.chat_id, "one too many") == 0
            assert [n.kind for n in workspace.credit_notices].count("budget-spent") == 1


async def test_a_402_mid_sync_pauses_and_resumes_next_cycle(tmp_path: Path) -> None:
    async with SandboxServer(
        seed=7, size="small", requests_per_minute=1_000_000, credits=30
    ) as server:
        workspace = await open_workspace(server, tmp_path / "cache.sqlite3", concurrency=1)
        clock = Clock(workspace.meter.clock())
        workspace.meter.clock, workspace.meter.poll = clock, 0.02
        async with workspace:
            await workspace.start()
            await workspace.wait_backfilled()  # ended by the 402, not by a finished backfill
            account = workspace.accounts[0].account_id
            engine = workspace.engine(account)
            assert isinstance(engine.error, InsufficientCreditsError)
            assert workspace.meter.status().exhausted and workspace.meter.paused()
            said = [n for n in workspace.credit_notices if n.kind == "exhausted"]
            assert len(said) == 1 and "paused until the next cycle" in said[0].text
            assert server.gateway.usage.statuses.get(402) is None  # 402s are not "answered"
            done_before = 0
            for row in await workspace.store.chats(account, limit=100):
                state = await workspace.store.sync_state.get_backfill(account, row.chat_id)
                done_before += state is not None and state.done
            assert done_before < 40
            # Still paused a few polls later: nothing more was sent.
            requests = sum(server.gateway.usage.requests.values())
            await asyncio.sleep(0.1)
            assert sum(server.gateway.usage.requests.values()) == requests
            assert engine.report is None or engine.error is not None
            # The next month: the gateway's allowance is whole again, the clock turns.
            async with httpx.AsyncClient() as http:
                answer = await http.post(
                    f"{server.url}/_sandbox/credits",
                    json={"new_cycle": True, "limit": 10_000},
                    headers=server.headers,
                )
            assert answer.status_code == 200
            clock.now += 32 * DAY
            await _until(lambda: engine.error is None and engine.report is not None)
            assert [n.kind for n in workspace.credit_notices].count("exhausted") == 1
            assert any(n.kind == "resumed" for n in workspace.credit_notices)
            for row in await workspace.store.chats(account, limit=100):
                state = await workspace.store.sync_state.get_backfill(account, row.chat_id)
                assert state is not None and state.done


async def test_sync_stops_at_the_cap_says_so_and_exits_3(
    console_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with SandboxServer(seed=7, size="small", requests_per_minute=1_000_000) as server:
        settings = settings_for(server, concurrency=1)
        settings.budget = BudgetSettings(monthly_credits=40, reserve_credits=10)
        args = argparse.Namespace(account=None, profile=None, full=True, dry_run=False)
        assert await _sync(args, settings) == EXIT_BUDGET
        err = capsys.readouterr().err
        assert "Background sync stopped" in err and "the last 10 are kept for replies" in err
        assert re.search(r"Credits: 30 spent by this run; 30 of the 40 budgeted", err), err
        # The next run knows the month's spending from the cache: it sends nothing.
        before = sum(server.gateway.usage.requests.values())
        assert await _sync(args, settings) == EXIT_BUDGET
        after = sum(server.gateway.usage.requests.values())
        assert after - before <= 2  # listing the accounts and the creator's /me: chatter-free
