"""Issue 17 in team mode: the team server meters what it spends (its gateway calls and the
webhook deliveries it takes) into the team database, counted once across instances; ``usage``
reads it; the server's sync stops at the budget minus the reserve, a chatter's send at the
budget. Real PostgreSQL, real serve instances and sandbox over HTTP, real signed POSTs."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from support.api import UNLIMITED
from support.team import OTHER_ACCOUNT, Instance, chatter, clients, delivery, instance
from support.webhooks import ACCOUNT, PATH, message_object

from console.api.client import FanslyClient
from console.credit_rule import cycle_of, day_of, webhook_credits
from console.sandbox.server import SandboxServer
from console.team.cache import TOKEN_ENV
from console.team.credits import add_usage, month_total, totals


async def _stats(sandbox: SandboxServer) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{sandbox.url}/_sandbox/stats", headers=sandbox.headers)
    data: dict[str, Any] = answer.json()["data"]
    return data


async def _table(one: Instance) -> dict[tuple[str, str], tuple[int, float]]:
    """The team database's usage: (account, feature) → (requests, credits), every day."""
    cells = await totals(one.team.pool, day_of(0), "9999-12-31")
    return {(c.account_id, c.feature): (c.requests, c.credits) for c in cells}


async def _settled(one: Instance, client_id: str) -> tuple[str, str | None]:
    async with asyncio.timeout(20):
        while True:
            row = await one.team.pool.fetchrow(
                "SELECT state, error FROM outbox WHERE client_id = $1", client_id
            )
            if row is not None and row[0] in ("sent", "failed"):
                return row[0], row[1]
            await asyncio.sleep(0.05)


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServer]:
    async with SandboxServer(seed=7, size="small", requests_per_minute=UNLIMITED) as server:
        yield server


@pytest.fixture
async def gateway(sandbox: SandboxServer) -> AsyncIterator[FanslyClient]:
    client = FanslyClient(sandbox.base_url, sandbox.api_key, requests_per_minute=UNLIMITED)
    try:
        yield client
    finally:
        await client.aclose()


async def test_the_teams_meter_agrees_with_the_sandboxs_bill_within_one_credit(
    team_db: str, sandbox: SandboxServer, gateway: FanslyClient
) -> None:
    creator = next(iter(sandbox.world.accounts.values()))
    async with instance(team_db, secrets=(sandbox.webhook_secret,), client=gateway) as one:
        assert one.team.credits is not None
        sandbox.simulator.webhook_url = one.server.url + PATH
        token = await chatter(team_db, "anna", [creator.account_id])
        async with clients(one, token) as (anna,):
            # Reads through serve: the accounts, a chat list, three chats' history.
            assert creator.account_id in (await anna.me())["accounts"]
            assert (await one.call("GET", "/team/accounts", token)).status_code == 200
            chats = [c["chat_id"] for c in await anna.chats(creator.account_id)]
            for chat in chats[:3]:
                assert await anna.messages(chat)
            # A send, through the team outbox.
            sent = await anna.send(chats[0], "thanks for the tip!", confirm=True)
            assert await _settled(one, sent.client_id) == ("sent", None)
        # Deliveries: 60 fan events (and the automated replies they trigger), every one
        # delivered twice (the gateway's retries: billed each time, stored once).
        async with httpx.AsyncClient() as http:
            knobs = await http.post(
                f"{sandbox.url}/_sandbox/faults",
                json={"webhook_duplicate_rate": 1.0},
                headers=sandbox.headers,
            )
            assert knobs.status_code == 200
            made = await http.post(
                f"{sandbox.url}/_sandbox/simulate", json={"count": 60}, headers=sandbox.headers
            )
            assert made.status_code == 201
        async with asyncio.timeout(30):
            await sandbox.simulator.drain()
        await one.team.credits.flush()
        stats = await _stats(sandbox)
        table = await _table(one)
        total = await month_total(one.team.pool, cycle_of(time.time()))
        stored = await one.team.pool.fetchval("SELECT count(*) FROM events WHERE kind='webhook'")
        meter = one.team.credits.meter.used
    billed = stats["credits"]["used"]
    delivered = stats["webhooks"]["delivered"]
    assert delivered >= 120 and stats["webhooks"]["duplicates"] >= 60
    assert stored == delivered - stats["webhooks"]["duplicates"]  # duplicates stored once
    assert abs(total - billed) <= 1, (total, billed)
    assert meter == pytest.approx(total)  # the instance's caps hold the database's figure
    # Every delivery is counted, a duplicate too, per account.
    webhooks = {a: v for (a, f), v in table.items() if f == "webhooks"}
    assert sum(n for n, _ in webhooks.values()) == delivered
    assert sum(c for _, c in webhooks.values()) == pytest.approx(webhook_credits(delivered))
    # Per feature as the sandbox billed them; per account for every route whose path names
    # one (as the solo meter's test: a lookup by id is billed to no account by the sandbox).
    theirs = {
        (account, feature): credits
        for account, features in stats["credits"]["by_account"].items()
        for feature, credits in features.items()
    }
    mine = {key: credits for key, (_, credits) in table.items() if key[1] != "webhooks"}

    def by_feature(cells: dict[tuple[str, str], float]) -> dict[str, float]:
        summed: dict[str, float] = defaultdict(float)
        for (_account, feature), credits in cells.items():
            summed[feature] += credits
        return dict(summed)

    assert by_feature(mine) == pytest.approx(by_feature(theirs))
    scoped = {k: v for k, v in theirs.items() if k[0] and k[1] != "profiles"}
    assert {k: mine[k] for k in scoped} == pytest.approx(scoped)
    assert table[(creator.account_id, "sends")] == (1, 1)
    assert table[(creator.account_id, "messages")][0] == 3


async def test_two_instances_count_each_delivery_once_and_the_total_adds_up(
    team_db: str, sandbox: SandboxServer
) -> None:
    clients_ = [
        FanslyClient(sandbox.base_url, sandbox.api_key, requests_per_minute=UNLIMITED)
        for _ in range(2)
    ]
    account = next(iter(sandbox.world.accounts))
    try:
        async with (
            instance(team_db, client=clients_[0]) as first,
            instance(team_db, client=clients_[1]) as second,
        ):
            assert first.team.credits is not None and second.team.credits is not None
            token = await chatter(team_db, "boss", [], admin=True)
            # 90 deliveries at once, spread over both instances and two accounts, adding to
            # the same (account, "webhooks", day) rows concurrently; one delivered to both.
            bodies = [
                delivery(
                    data={**message_object(), "groupId": f"30000000000000{n:04d}"},
                    account=ACCOUNT if n % 3 else OTHER_ACCOUNT,
                )
                for n in range(90)
            ]
            answers = await asyncio.gather(
                *((first if n % 2 else second).deliver(body) for n, body in enumerate(bodies)),
                first.deliver(bodies[0]),  # the gateway's retry, to the other instance
            )
            assert [a.status_code for a in answers] == [200] * 91
            # Gateway calls on both: a chat list on one, a chat's history on the other.
            async with (
                clients(first, token) as (boss_first,),
                clients(second, token) as (boss_second,),
            ):
                chats = await boss_first.chats(account)
                await boss_second.messages(chats[0]["chat_id"])
            await asyncio.gather(first.team.credits.flush(), second.team.credits.flush())
            table = await _table(first)
            total = await month_total(first.team.pool, cycle_of(time.time()))
            # Each instance's meter now holds the team's month (what its caps compare).
            await asyncio.gather(first.team.credits.flush(), second.team.credits.flush())
            seen = [first.team.credits.meter.used, second.team.credits.meter.used]
        billed = (await _stats(sandbox))["credits"]["used"]
    finally:
        for client in clients_:
            await client.aclose()
    by_account = {ACCOUNT: 60, OTHER_ACCOUNT: 30 + 1}  # bodies[0] (OTHER_ACCOUNT's) twice
    for delivered_to, count in by_account.items():
        requests, credits = table[(delivered_to, "webhooks")]
        assert requests == count
        assert credits == pytest.approx(webhook_credits(count))
    assert table[(account, "chats")][0] >= 1 and table[(account, "messages")][0] >= 1
    calls = sum(c for (_, f), (_, c) in table.items() if f != "webhooks")
    assert calls == pytest.approx(billed)  # both instances' calls, each once
    assert total == pytest.approx(billed + webhook_credits(91))
    assert seen == pytest.approx([total, total])


async def test_usage_json_against_the_team_matches_the_database(
    team_db: str,
    sandbox: SandboxServer,
    gateway: FanslyClient,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from console.__main__ import main

    creator = next(iter(sandbox.world.accounts.values()))
    async with instance(
        team_db, client=gateway, monthly_credits=20_000, reserve_credits=1_500
    ) as one:
        assert one.team.credits is not None
        boss = await chatter(team_db, "boss", [], admin=True)
        anna = await chatter(team_db, "anna", [creator.account_id])
        assert (await one.call("GET", "/team/accounts", boss)).status_code == 200
        async with clients(one, boss) as (team,):
            await team.chats(creator.account_id)
        await one.deliver(delivery(account=creator.account_id))
        await one.deliver(delivery(account=OTHER_ACCOUNT))  # an account anna does not work
        await one.team.credits.flush()
        # A chatter's console: the rows of the accounts she works, the whole team's month.
        monkeypatch.setenv(TOKEN_ENV, anna)
        assert await asyncio.to_thread(main, ["usage", "--team", one.server.url, "--json"]) == 0
        mine = json.loads(capsys.readouterr().out)
        monkeypatch.setenv(TOKEN_ENV, boss)
        assert await asyncio.to_thread(main, ["--team", one.server.url, "usage", "--json"]) == 0
        everything = json.loads(capsys.readouterr().out)
        assert await asyncio.to_thread(main, ["usage", "--team", one.server.url]) == 0
        printed = capsys.readouterr().out
        now = time.time()
        month = await totals(one.team.pool, f"{cycle_of(now)}-01", f"{cycle_of(now)}-31")
        today = await totals(one.team.pool, day_of(now), day_of(now))
        total = await month_total(one.team.pool, cycle_of(now))
    # The operator on the server's host reads the database itself: the same table.
    monkeypatch.setenv("FANSLY_CONSOLE_BUDGET__MONTHLY_CREDITS", "20000")
    monkeypatch.setenv("FANSLY_CONSOLE_BUDGET__RESERVE_CREDITS", "1500")
    assert await asyncio.to_thread(main, ["usage", "--database", team_db, "--json"]) == 0
    direct = json.loads(capsys.readouterr().out)

    assert everything["month"] == cycle_of(now) and everything["budget"] == 20_000
    assert everything["reserve"] == 1_500
    assert everything["used_this_month"] == pytest.approx(total)
    cells = {(r["account_id"], r["feature"]): r for r in everything["rows"]}
    assert {k: v["month"] for k, v in cells.items()} == {
        (u.account_id, u.feature): pytest.approx(u.credits) for u in month
    }
    assert {k: v["requests_today"] for k, v in cells.items()} == {
        (u.account_id, u.feature): u.requests for u in today
    }
    assert cells[(creator.account_id, "webhooks")]["requests_month"] == 1
    assert {a["account_id"] for a in everything["accounts"]} == {
        "",
        creator.account_id,
        OTHER_ACCOUNT,
    }
    # Anna sees her account's rows (and the API key's), the team's total for the budget.
    assert {r["account_id"] for r in mine["rows"]} == {"", creator.account_id}
    assert mine["used_this_month"] == pytest.approx(total)
    assert mine["rows_this_month"] < total
    # The table the chatter reads, and the operator's straight from the database.
    assert "by the team on" in printed and "of 20,000 credits" in printed
    assert "webhooks" in printed and "chats" in printed
    assert direct["rows"] == everything["rows"]
    assert direct["used_this_month"] == pytest.approx(total)


async def test_the_cap_stops_the_servers_sync_and_not_a_chatters_send(
    team_db: str,
    sandbox: SandboxServer,
    gateway: FanslyClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="console.team")
    creator = next(iter(sandbox.world.accounts.values()))
    chat = next(iter(creator.chats.values()))
    now = time.time()
    async with instance(
        team_db,
        client=gateway,
        monthly_credits=100,
        reserve_credits=10,
    ) as one:
        assert one.team.credits is not None
        # Another instance spent 90 of this month's 100 credits (the cap of background work).
        await add_usage(one.team.pool, [(creator.account_id, "chats", day_of(now), 90, 0, 90.0)])
        await one.team.credits.flush()
        token = await chatter(team_db, "anna", [creator.account_id])
        async with clients(one, token) as (anna,):
            # The team's sync (the chat list the database does not hold yet) stops: nothing
            # is sent to the gateway, the chatter's list is what webhooks brought.
            assert await anna.chats(creator.account_id) == []
            assert await anna.chats(creator.account_id) == []
            assert sandbox.gateway.usage.requests.get("list_chats", 0) == 0
            # A fan writes (a real signed delivery): the chat is in the team's tables.
            body = delivery(
                data={**message_object(sender=chat.fan_id), "groupId": chat.id},
                account=creator.account_id,
            )
            assert (await one.deliver(body)).status_code == 200
            # The chatter's reply still goes out: the reserve is hers.
            sent = await anna.send(chat.id, "here for you", confirm=True)
            assert await _settled(one, sent.client_id) == ("sent", None)
            assert sandbox.gateway.usage.requests["send_message"] == 1
            # At the budget itself, a send is refused before it leaves the server.
            await add_usage(
                one.team.pool, [(creator.account_id, "chats", day_of(now), 10, 0, 10.0)]
            )
            await one.team.credits.flush()
            refused = await anna.send(chat.id, "one more", confirm=True)
            state, error = await _settled(one, refused.client_id)
    assert (state, sandbox.gateway.usage.requests["send_message"]) == ("failed", 1)
    assert error is not None and "budget is spent" in error
    assert one.team.credits.meter.refused >= 3
    # serve's log says each cap once, however often it refused.
    said = [r.getMessage() for r in caplog.records if r.name == "console.team"]
    assert sum("Background sync stopped" in text for text in said) == 1, said
    assert sum("This month's credit budget is spent" in text for text in said) == 1, said
