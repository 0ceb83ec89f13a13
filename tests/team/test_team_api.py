"""The team API on a real PostgreSQL, over real HTTP and websockets: access on every route,
the double-reply guard, shared notes, read state and presence, attribution of a sale."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.routing import Route
from support.hub import Console
from support.sync import set_faults
from support.team import OTHER_ACCOUNT, Instance, chatter, clients, delivery, instance
from support.webhooks import ACCOUNT, CHAT, FAN, message_object

from console.api.client import FanslyClient
from console.sandbox.server import SandboxServer
from console.team.client import SendResult, TeamClient, TeamNotice, TeamNotSent

OTHER_CHAT = "200000000000000099"
OTHER_FAN = "600000000000000099"


@pytest.fixture
async def one(team_db: str) -> AsyncIterator[Instance]:
    async with instance(team_db) as first:
        # A chat in each account, from webhooks.
        await first.deliver(delivery(data=message_object(content="hello from a fan")))
        other = {**message_object(content="secret other"), "groupId": OTHER_CHAT}
        other["senderId"] = OTHER_FAN
        await first.deliver(delivery(data=other, account=OTHER_ACCOUNT))
        yield first


def team_paths(instance: Instance) -> list[tuple[str, str]]:
    """Every team route (method, path) with the path's parameters filled in with the
    *other* account's chat, fan and account: what a chatter of ACCOUNT must not reach."""
    found = []
    for route in instance.team.app.routes:
        if not isinstance(route, Route) or not route.path.startswith("/team/"):
            continue
        path = (
            route.path.replace("{account}", OTHER_ACCOUNT)
            .replace("{chat}", OTHER_CHAT)
            .replace("{fan}", OTHER_FAN)
        )
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                found.append((method, path))
    return found


BODIES: dict[str, dict[str, Any]] = {
    "send": {"content": "hi", "confirm": True},
    "actions": {"kind": "like", "payload": {}},
    "read": {"up_to": "1"},
    "notes": {"text": "a note"},
    "presence": {"chat_id": OTHER_CHAT, "typing": True},
}


async def test_every_route_refuses_another_chatters_account(team_db: str, one: Instance) -> None:
    anna = await chatter(team_db, "anna", [ACCOUNT])
    paths = team_paths(one)
    assert len(paths) >= 13  # a new route is tried here the day it is added
    scoped = re.compile(r"/team/(accounts/|chats/)")
    for method, path in paths:
        body = BODIES.get(path.rsplit("/", 1)[-1])
        # No token, or a wrong one: 401 everywhere.
        for token in ("", "fct_nope_nope"):
            answer = await one.call(method, path, token, json=body)
            assert answer.status_code == 401, (method, path)
        answer = await one.call(method, path, anna, json=body)
        text = answer.text
        assert OTHER_CHAT not in text and "secret other" not in text, (method, path)
        if scoped.search(path) or path == "/team/presence":
            assert answer.status_code in (403, 404), (method, path, answer.status_code)
        else:
            assert answer.status_code == 200, (method, path, text)
            assert OTHER_ACCOUNT not in text, (method, path)
    # Nothing was queued, noted or marked on the other account.
    rows = await one.team.pool.fetchval(
        "SELECT (SELECT count(*) FROM outbox) + (SELECT count(*) FROM notes) + "
        "(SELECT count(*) FROM read_state) + (SELECT count(*) FROM presence)"
    )
    assert rows == 0
    # And the same chatter reaches their own account.
    own = await one.call("GET", f"/team/accounts/{ACCOUNT}/chats", anna)
    assert own.status_code == 200 and own.json()["chats"][0]["chat_id"] == CHAT


async def test_two_consoles_racing_a_reply_one_is_asked_first(team_db: str, one: Instance) -> None:
    tokens = [await chatter(team_db, name, [ACCOUNT]) for name in ("anna", "ben")]
    async with clients(one, *tokens) as (anna, ben):
        results: list[SendResult] = await asyncio.gather(
            anna.send(CHAT, "I'll take this one"), ben.send(CHAT, "hey there!")
        )
        sent = [r for r in results if r.queued]
        asked = [r for r in results if not r.queued]
        assert len(sent) == 1 and len(asked) == 1
        winner = "anna" if results[0].queued else "ben"
        assert [o["name"] for o in asked[0].others] == [winner]
        assert asked[0].others[0]["sent_seconds_ago"] is not None
        # Asked, the chatter confirms: it goes.
        loser = ben if results[0].queued else anna
        again = await loser.send(CHAT, "sending anyway", client_id=asked[0].client_id, confirm=True)
        assert again.queued
        items = await anna.outbox(CHAT)
    assert sorted(item["chatter"] for item in items) == ["anna", "ben"]


async def test_a_teammate_typing_makes_a_send_ask_first_and_presence_shows_within_a_second(
    team_db: str, one: Instance
) -> None:
    tokens = [await chatter(team_db, name, [ACCOUNT]) for name in ("anna", "ben")]
    async with clients(one, *tokens) as (anna, ben):
        seen = Console()
        async with ben.events(seen.on_event) as reader:
            await reader.connected.wait()
            loop = asyncio.get_running_loop()
            started = loop.time()
            await anna.presence(CHAT, typing=True)
            await seen.wait_for(1)
            assert loop.time() - started < 1.0
        notice = seen.events[0]
        assert isinstance(notice, TeamNotice) and notice.type == "presence"
        assert notice.data["chatter"] == "anna" and notice.data["typing"] is True
        listed = await ben.chats(ACCOUNT)
        assert listed[0]["presence"] == [{"name": "anna", "typing": True}]
        result = await ben.send(CHAT, "hi!")
        assert not result.queued
        assert result.others == [{"name": "anna", "sent_seconds_ago": None, "typing": True}]
        # Anna leaves the chat: no one is typing, nothing to ask.
        await anna.presence(None)
        assert (await ben.send(CHAT, "hi!")).queued


async def test_notes_and_read_state_are_shared_at_once(team_db: str, one: Instance) -> None:
    tokens = [await chatter(team_db, name, [ACCOUNT]) for name in ("anna", "ben")]
    async with clients(one, *tokens) as (anna, ben):
        seen = Console()
        async with ben.events(seen.on_event) as reader:
            await reader.connected.wait()
            await anna.add_note(ACCOUNT, FAN, "likes cats; birthday in May")
            await anna.mark_read(CHAT, "msg-1")
            await seen.wait_for(2)
        kinds = [e.type for e in seen.events if isinstance(e, TeamNotice)]
        assert kinds == ["note.added", "chat.read"]
        notes = await ben.notes(ACCOUNT, FAN)
        assert [(n["text"], n["author"]) for n in notes] == [
            ("likes cats; birthday in May", "anna")
        ]
        assert notes[0]["at"]
        chats = await ben.chats(ACCOUNT)
        assert chats[0]["read_up_to"] == "msg-1" and chats[0]["read_by"] == "anna"


async def test_a_ppv_sale_is_credited_to_the_chatter_who_sent_it(team_db: str) -> None:
    async with SandboxServer(seed=7, size="small", requests_per_minute=100_000) as sandbox:
        creator = next(iter(sandbox.world.accounts.values()))
        chat = next(iter(creator.chats.values()))
        gateway = FanslyClient(sandbox.base_url, sandbox.api_key, requests_per_minute=100_000)
        try:
            async with instance(team_db, client=gateway) as one:
                tokens = [
                    await chatter(team_db, name, [creator.account_id]) for name in ("anna", "ben")
                ]
                async with clients(one, *tokens) as (anna, ben):
                    listed = await anna.chats(creator.account_id)  # fetched from the gateway
                    assert chat.id in {c["chat_id"] for c in listed}
                    media = next(iter(creator.vault))  # the sandbox sells from the vault
                    sent = await anna.send(chat.id, "just for you", media_ids=[media])
                    assert sent.queued
                    await _until_sent(anna, chat.id, sent.client_id)
                    # Ben sends a plain reply after (confirming the guard): not a PPV.
                    assert (await ben.send(chat.id, "enjoy!", confirm=True)).queued
                    sale = {
                        "orderId": "880000000000000001",
                        "accountMediaId": media,
                        "accountId": chat.fan_id,
                        "chatGroupId": chat.id,
                        "orderMetadata": {"accountMediaPrice": 14990},
                        "createdAt": int(time.time() * 1000),
                    }
                    body = delivery("sale.completed", sale, account=creator.account_id)
                    assert (await one.deliver(body)).status_code == 200
                    stats = {row["chatter"]: row for row in await anna.stats("1d")}
            assert stats["anna"]["ppvs_sent"] == 1 and stats["anna"]["ppvs_bought"] == 1
            assert stats["anna"]["revenue_millis"] == 14990
            assert stats["ben"]["ppvs_bought"] == 0 and stats["ben"]["revenue_millis"] == 0
            history = await _messages(team_db, chat.id)
            assert ("just for you", "anna") in history
        finally:
            await gateway.aclose()


async def _until_sent(client: TeamClient, chat_id: str, client_id: str) -> None:
    async with asyncio.timeout(15):
        while True:
            items = {item["client_id"]: item for item in await client.outbox(chat_id)}
            if items.get(client_id, {}).get("state") == "sent":
                return
            assert items.get(client_id, {}).get("state") in ("queued", "sending"), items
            await asyncio.sleep(0.05)


async def _messages(url: str, chat_id: str) -> list[tuple[str, str | None]]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT body, (SELECT name FROM chatters WHERE id = sent_by) FROM messages "
            "WHERE chat_id = $1",
            chat_id,
        )
    finally:
        await conn.close()
    return [(json.loads(row[0])["content"], row[1]) for row in rows]


async def test_the_demo_teammate_works_chats_through_the_api(team_db: str, one: Instance) -> None:
    from console.team import teammate

    token = await chatter(team_db, "anna", [ACCOUNT])
    async with clients(one, token) as (anna,):
        task = asyncio.create_task(teammate.work(anna, ACCOUNT, pace=0.05))
        try:
            async with asyncio.timeout(20):
                while True:
                    if await one.team.pool.fetchval(
                        "SELECT (SELECT count(*) FROM outbox) > 0 AND "
                        "(SELECT count(*) FROM events WHERE type = 'presence') > 0"
                    ):
                        break
                    await asyncio.sleep(0.05)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def test_the_team_outbox_is_drained_once_across_instances_within_one_budget(
    team_db: str,
) -> None:
    async with SandboxServer(seed=7, size="small", requests_per_minute=100_000) as sandbox:
        creator = next(iter(sandbox.world.accounts.values()))
        gateways = [
            FanslyClient(sandbox.base_url, sandbox.api_key, requests_per_minute=100_000)
            for _ in range(2)
        ]
        try:
            async with (
                instance(team_db, client=gateways[0], requests_per_minute=12) as first,
                instance(team_db, client=gateways[1], requests_per_minute=12) as second,
            ):
                token = await chatter(team_db, "anna", [creator.account_id])
                async with clients(first, token) as (anna,):
                    chats = [c["chat_id"] for c in await anna.chats(creator.account_id)]
                    texts = [f"drain {i}" for i in range(16)]
                    for i, text in enumerate(texts):
                        sent = await anna.send(chats[i % len(chats)], text, confirm=True)
                        assert sent.queued
                    async with asyncio.timeout(20):
                        while True:
                            states = await first.team.pool.fetch(
                                "SELECT state, count(*) FROM outbox GROUP BY state"
                            )
                            counts = {row[0]: row[1] for row in states}
                            if counts.get("sent", 0) >= 12:
                                break
                            await asyncio.sleep(0.05)
                    await asyncio.sleep(0.5)  # a second sender overstepping would show now
                    counts = {
                        row[0]: row[1]
                        for row in await first.team.pool.fetch(
                            "SELECT state, count(*) FROM outbox GROUP BY state"
                        )
                    }
                    windows = [
                        row[0]
                        for row in await first.team.pool.fetch(
                            "SELECT count(*) FROM outbox WHERE state = 'sent' "
                            "GROUP BY date_trunc('minute', sent_at)"
                        )
                    ]
                calls = [s.team.outbox.calls for s in (first, second)]  # type: ignore[union-attr]
        finally:
            for gateway in gateways:
                await gateway.aclose()
        delivered = [
            m["content"]
            for chat in creator.chats.values()
            for m in chat.messages
            if m["content"].startswith("drain ")
        ]
    # The shared budget (12 a minute) holds across both instances; nothing twice. (A run that
    # crosses a minute boundary may send the other 4 in the next minute's budget.)
    assert max(windows) <= 12 and counts["sent"] >= 12, (windows, counts)
    assert counts["sent"] + counts.get("queued", 0) == 16 and set(counts) <= {"sent", "queued"}
    assert len(delivered) == len(set(delivered)) == counts["sent"] == sum(calls)


async def test_a_send_the_gateway_refused_goes_again_when_the_chatter_retries_it(
    team_db: str, sandbox_async: SandboxServer
) -> None:
    """A send the team outbox failed (the gateway refused it) is known not to be at the
    gateway: the chatter's retry (`e`: the same client id posted again) queues it again and it
    goes, once. Before, the server took the retry for a duplicate and answered "failed" again."""
    sandbox = sandbox_async
    creator = next(iter(sandbox.world.accounts.values()))
    gateway = FanslyClient(sandbox.base_url, sandbox.api_key, requests_per_minute=100_000)
    try:
        async with instance(team_db, client=gateway) as one:
            token = await chatter(team_db, "anna", [creator.account_id])
            async with clients(one, token) as (anna,):
                chat = (await anna.chats(creator.account_id))[0]["chat_id"]
                await set_faults(sandbox, {"route": "send_message", "status": 400})
                with pytest.raises(TeamNotSent) as refused:
                    await anna.send(chat, "second try", client_id="c1", confirm=True, wait=True)
                assert refused.value.state == "failed"
                retried = await anna.send(chat, "second try", client_id="c1", wait=True)
                assert retried.queued and retried.message is not None
                # Posted once more (a console that lost the answer): a duplicate, still once.
                again = await anna.send(chat, "second try", client_id="c1", wait=True)
                assert again.queued
    finally:
        await gateway.aclose()
    sent = [m for m in creator.chats[chat].messages if m["content"] == "second try"]
    assert len(sent) == 1
