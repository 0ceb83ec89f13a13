"""Issue 17: the credit meter. The rule (console/api/credits.py) on its own, then the client's
meter against the sandbox's own bill over a scripted session on real HTTP (sync, a chatter's
actions, refused and retried calls, webhook deliveries to a real listener), and the cache's
figures against both."""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.sync import open_workspace, set_faults

from console.api.errors import NotFoundError
from console.api.routes import ROUTES
from console.credit_rule import (
    MEDIA_MB_BYTES,
    RESPONSE_BLOCK_BYTES,
    call_credits,
    day_of,
    feature_of,
    media_credits,
    response_credits,
    webhook_credits,
)
from console.sandbox.server import SandboxServer
from console.serving import EmbeddedServer
from console.sync.engine import Workspace
from console.webhooks.app import DEFAULT_PATH, create_listener_app
from console.webhooks.sinks import as_sink


def test_the_rule_bills_by_size_media_by_the_mb_and_webhooks_by_80() -> None:
    assert response_credits(0) == 1
    assert response_credits(RESPONSE_BLOCK_BYTES) == 1
    assert response_credits(RESPONSE_BLOCK_BYTES + 1) == 2
    assert response_credits(3 * RESPONSE_BLOCK_BYTES + 5) == 4
    assert media_credits(10) == 2 and media_credits(MEDIA_MB_BYTES + 1) == 4
    assert webhook_credits(80) == 1 and webhook_credits(40) == 0.5
    # Refused before any work: no credit.
    for status in (401, 402, 429):
        assert call_credits("list_chats", status, 10_000) == 0
    assert call_credits("list_chats", 404, 100) == 1
    assert call_credits("media_download", 200, 3 * MEDIA_MB_BYTES) == 6


def test_every_route_is_counted_under_a_feature_of_the_credits_table() -> None:
    features = {name: feature_of(name) for name in ROUTES}
    assert "other" not in features.values(), features
    assert features["list_messages"] == "messages" and features["send_message"] == "sends"
    assert features["fan_earnings"] == "profiles" and features["list_lists"] == "lists"
    assert feature_of("vault_albums") == "media"


async def _stats(server: SandboxServer) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{server.url}/_sandbox/stats", headers=server.headers)
    data: dict[str, Any] = answer.json()["data"]
    return data


async def _listener(server: SandboxServer, workspace: Workspace) -> EmbeddedServer:
    listener = EmbeddedServer(
        create_listener_app(as_sink(workspace.apply_event), secrets=[server.webhook_secret]),
        host="127.0.0.1",
        port=0,
    )
    await listener.start()
    server.simulator.webhook_url = listener.url + DEFAULT_PATH
    return listener


async def test_the_meter_agrees_with_the_sandbox_within_one_credit(tmp_path: Path) -> None:
    async with SandboxServer(seed=7, size="default", requests_per_minute=1_000_000) as server:
        workspace = await open_workspace(server, tmp_path / "cache.sqlite3", full=False)
        listener = await _listener(server, workspace)
        try:
            async with workspace:
                # Background: the lean sync of three accounts (150 KB chat-list pages: 2 each).
                await workspace.start()
                await workspace.wait_backfilled()
                account = workspace.accounts[0].account_id
                chats = await workspace.store.chats(account, limit=40)
                # A chatter: replies, likes, scrolls a chat, opens a fan.
                latest = await workspace.store.latest_messages(chats[0].chat_id, 1)
                assert latest[0].message_id is not None
                for row in chats[:3]:
                    await workspace.send(account, row.chat_id, f"hi {row.fan_name}")
                await workspace.like(account, chats[0].chat_id, latest[0].message_id)
                async with asyncio.timeout(20):
                    await workspace.drain_outbox()
                await workspace.load_older(account, chats[30].chat_id, None, 30)
                task = workspace.refresh_fan(account, chats[1].fan_id or "")
                assert task is not None
                await task
                # A 500 answered and retried (both billed), a 404, a 429 (not billed).
                await set_faults(
                    server,
                    {"route": "list_messages", "status": 500},
                    {"route": "list_chats", "status": 429},
                )
                client = next(iter(workspace.clients.values()))
                await client.messages_page(account, chats[5].chat_id)
                await client.chats_page(account, limit=10)
                with pytest.raises(NotFoundError):
                    await client.messages_page(account, "no-such-chat")
                # Webhooks: 170 events and the automated replies they trigger.
                async with httpx.AsyncClient() as http:
                    sent = await http.post(
                        f"{server.url}/_sandbox/simulate",
                        json={"count": 170},
                        headers=server.headers,
                    )
                assert sent.status_code == 201
                async with asyncio.timeout(30):
                    await server.simulator.drain()
                stats = await _stats(server)
                await workspace.flush_credits()
                meter = workspace.meter.used
                billed = stats["credits"]["used"]
                assert stats["credits"]["webhook_events"] >= 170
                assert stats["statuses"].get("500") == 1 and stats["statuses"].get("429") == 1
                assert abs(meter - billed) <= 1, (meter, billed)
                # Per feature too; per account for every route whose path names one (the
                # sandbox cannot know which account a profile lookup by fan id was for).
                mine: dict[tuple[str, str], float] = defaultdict(float)
                for row in await workspace.store.usage.totals(day_of(0), "9999-12-31"):
                    mine[(row.account_id, row.feature)] += row.credits
                theirs = {
                    (acc, feature): credits
                    for acc, features in stats["credits"]["by_account"].items()
                    for feature, credits in features.items()
                }

                def by_feature(cells: dict[tuple[str, str], float]) -> dict[str, float]:
                    totals: dict[str, float] = defaultdict(float)
                    for (_account, feature), credits in cells.items():
                        if feature != "webhooks":
                            totals[feature] += credits
                    return dict(totals)

                assert by_feature(mine) == by_feature(theirs)
                scoped = {k: v for k, v in theirs.items() if k[0] and k[1] != "profiles"}
                assert {k: mine[k] for k in scoped} == scoped
                webhooks = sum(v for k, v in mine.items() if k[1] == "webhooks")
                assert webhooks == pytest.approx(stats["credits"]["webhook_events"] / 80)
                # The cache holds what the meter counted (the month's total survives).
                assert await workspace.store.usage.credits_in_month(
                    workspace.meter.status().cycle
                ) == pytest.approx(meter)
        finally:
            await listener.stop()


async def test_usage_json_matches_the_cache_and_the_table_reads_it(
    console_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.__main__ import main
    from console.credit_rule import cycle_of
    from console.store import Store, store_path

    async with SandboxServer(seed=7, size="small", requests_per_minute=1_000_000) as server:
        workspace = await open_workspace(server, store_path("default"), full=False)
        async with workspace:
            await workspace.start()
            await workspace.wait_backfilled()
            account = workspace.accounts[0].account_id
            [row] = await workspace.store.chats(account, limit=1)
            await workspace.send(account, row.chat_id, "thanks!")
            async with asyncio.timeout(20):
                await workspace.drain_outbox()
            spent = workspace.meter.used
    monkeypatch.setenv("FANSLY_CONSOLE_BUDGET__MONTHLY_CREDITS", "20000")
    assert await asyncio.to_thread(main, ["usage", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    now = time.time()
    async with await Store.open(store_path("default")) as store:
        month = await store.usage.totals(f"{cycle_of(now)}-01", f"{cycle_of(now)}-31")
        today = await store.usage.totals(day_of(now), day_of(now))
    assert report["month"] == cycle_of(now) and report["budget"] == 20000
    assert report["reserve"] == 2000  # a tenth of the budget unless set
    assert report["used_this_month"] == pytest.approx(spent)
    cells = {(r["account_id"], r["feature"]): r for r in report["rows"]}
    assert {k: v["month"] for k, v in cells.items()} == {
        (u.account_id, u.feature): pytest.approx(u.credits) for u in month
    }
    assert {k: v["requests_today"] for k, v in cells.items()} == {
        (u.account_id, u.feature): u.requests for u in today
    }
    assert cells[(account, "sends")]["month"] == 1
    assert {a["account_id"] for a in report["accounts"]} == {"", account}

    assert await asyncio.to_thread(main, ["usage"]) == 0
    table = capsys.readouterr().out
    lines = table.splitlines()
    assert lines[0].startswith(f"Credits spent, {cycle_of(now)}")
    assert any(line.startswith("chats") for line in lines)
    assert any(line.startswith("sends") and "1 / 1" in line for line in lines)
    assert "(the API key)" in table
    assert f"This month: {int(-(-spent // 1)):,} of 20,000 credits" in table


def test_the_meter_warns_once_caps_background_before_replies_and_turns_with_the_month() -> None:
    from datetime import UTC, datetime

    from console.api.credits import CreditMeter
    from console.api.errors import CreditBudgetReached

    now = [datetime(2026, 12, 30, 23, 0, tzinfo=UTC).timestamp()]
    meter = CreditMeter(budget=100, reserve=10, clock=lambda: now[0])
    said: list[str] = []
    meter.listen(lambda notice: said.append(notice.kind))
    meter.load("2026-12", 79)
    assert said == []
    meter.charge("a", "messages", 1)
    meter.charge("a", "messages", 1)
    assert said == ["warn80"]  # once, not at every credit past 80%
    meter.charge("a", "chats", 8)  # 89: background stops at 100 - 10 = 90
    meter.check(background=True)
    meter.charge("a", "chats", 1)
    try:
        meter.check(background=True)
        raise AssertionError("background work past the cap")
    except CreditBudgetReached as exc:
        assert exc.kind == "background"
    meter.check(background=False)  # a reply still goes
    meter.charge("a", "sends", 6)  # 96
    assert said == ["warn80", "background-cap", "warn95"]
    meter.charge("a", "sends", 4)  # 100: the budget itself
    try:
        meter.check(background=False)
        raise AssertionError("a reply past the budget")
    except CreditBudgetReached as exc:
        assert exc.kind == "budget"
    rows = meter.take_pending()
    assert sum(r[5] for r in rows) == 21 and {r[2] for r in rows} == {"2026-12-30"}
    assert meter.take_pending() == []
    # The month turns: nothing spent, every call allowed, the warnings may come again.
    now[0] += 26 * 3600
    assert meter.status().cycle == "2027-01" and meter.used == 0
    meter.check(background=True)
    meter.charge("a", "messages", 85)
    assert said[-1] == "warn80"
