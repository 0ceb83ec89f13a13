"""``fansly-console sync`` says what it has done, what is left and where the time goes (the
gateway's rate limit, the gateway, or us): the meter on a fake clock, then a real run against
the sandbox with a 429 on the way."""

from __future__ import annotations

import argparse
import re

import pytest
from support.sync import set_faults, settings_for

from console.api.timing import Split, TimeSplit
from console.changes import SyncProgress
from console.commands.sync import Pace, _sync, progress_line, where_time_went
from console.sandbox.server import SandboxServer


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_time_split_is_wall_time_and_the_rate_limit_comes_first() -> None:
    clock = FakeClock()
    meter = TimeSplit(clock)
    clock.now += 1  # ours
    with meter.in_flight():
        clock.now += 2  # the gateway
        with meter.held():  # a second request waits for the budget meanwhile
            clock.now += 3
        clock.now += 0.5
    clock.now += 0.25
    split = meter.split()
    assert split == Split(rate_limit=3, gateway=2.5, ours=1.25)
    assert split.total == pytest.approx(6.75)  # wall time, not a sum over requests
    assert where_time_went(split) == "44% rate limit, 37% gateway, 19% us"


def test_pace_estimates_what_is_left_from_this_runs_chats() -> None:
    clock = FakeClock()
    pace = Pace(clock)
    start = SyncProgress("a", 10, 110, phase="messages", messages=0)
    assert "estimating" in progress_line(start, pace, None)
    clock.now += 20
    later = SyncProgress("a", 30, 110, phase="messages", messages=412)
    line = progress_line(later, pace, Split(1, 2, 1))
    # 20 chats in 20 s; 80 to go.
    assert line.startswith("chats 30/110, 412 messages · about 1 min 20 s left · time: ")
    listing = SyncProgress("a", 0, 300, phase="chats")
    assert progress_line(listing, pace, None).startswith("chat list: 300 chats so far")


async def test_sync_reports_progress_and_the_rate_limits_share(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with SandboxServer(seed=7, size="small", requests_per_minute=100_000) as server:
        # One 429 (Retry-After: the client's default of 1 s) on the first chat-list page.
        await set_faults(server, {"route": "list_chats", "status": 429})
        # One chat at a time, each answer 40 ms late: long enough to estimate what is left.
        server.gateway.faults.configure({"latency_ms": 40})
        settings = settings_for(server, concurrency=1)
        args = argparse.Namespace(account=None, profile=None, full=True, dry_run=False)
        code = await _sync(args, settings)
    out = capsys.readouterr().out
    assert code == 0, out
    lines = out.splitlines()
    assert any(re.search(r"chats \d+/40, [\d,]+ messages · about .* left", line) for line in lines)
    done = re.search(r"chats 40/40, [\d,]+ messages · done · time: (.*)", out)
    assert done and all(w in done.group(1) for w in ("% rate limit", "% gateway", "% us"))
    held = re.search(r"Time: ([\d.]+) s held back by the gateway's rate limit", out)
    assert held and float(held.group(1)) >= 0.9, out
    assert "waiting for the gateway's answers" in out and "our own work" in out


def test_the_summary_says_how_many_cached_chats_the_gateway_no_longer_knows() -> None:
    from pathlib import Path
    from types import SimpleNamespace

    from console.commands.sync import _summary
    from console.sync.backfill import BackfillReport

    reports = [BackfillReport("a", chats=41, chats_synced=40, chats_gone=1, messages=600)]
    workspace = SimpleNamespace(store=SimpleNamespace(path=Path("cache.sqlite3")))
    text = _summary(reports, 2.0, workspace, Split(0, 0, 0))  # type: ignore[arg-type]
    assert "1 cached chat the gateway no longer knows (404) was skipped and kept" in text
    assert "no longer knows" not in _summary(
        [BackfillReport("a", chats=40)],
        2.0,
        workspace,  # type: ignore[arg-type]
        Split(0, 0, 0),
    )
