"""A team send left ``unknown`` (its answer lost, or its instance killed mid-call) is looked up
at the gateway and settled, sent or failed, never sent blindly again: real team server over
HTTP, real sandbox gateway, real PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from support.sync import count_in_sandbox, set_faults
from support.team import Instance, chatter, clients, instance

from console.api.client import FanslyClient
from console.sandbox.server import SandboxServer
from console.team.outbox import NOT_ARRIVED, STALE_SENDING

UNLIMITED = 100_000


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServer]:
    async with SandboxServer(seed=7, size="small", requests_per_minute=UNLIMITED) as server:
        yield server


async def settled(one: Instance, client_id: str) -> tuple[str, str | None, str | None]:
    """Wait until the item leaves sending/unknown: (state, message_id, error)."""
    async with asyncio.timeout(20):
        while True:
            row = await one.team.pool.fetchrow(
                "SELECT state, message_id, error FROM outbox WHERE client_id = $1", client_id
            )
            if row is not None and row[0] in ("sent", "failed"):
                return row[0], row[1], row[2]
            await asyncio.sleep(0.05)


async def test_a_send_whose_answer_was_lost_is_found_at_the_gateway_and_settled_sent(
    team_db: str, sandbox: SandboxServer
) -> None:
    creator = next(iter(sandbox.world.accounts.values()))
    # The gateway takes the send, then answers after the server's client gave up.
    await set_faults(sandbox, {"route": "send_message", "delay_after_apply": 2.0})
    gateway = FanslyClient(
        sandbox.base_url, sandbox.api_key, requests_per_minute=UNLIMITED, timeout=0.4
    )
    try:
        async with instance(team_db, client=gateway) as one:
            token = await chatter(team_db, "anna", [creator.account_id])
            async with clients(one, token) as (anna,):
                chat = (await anna.chats(creator.account_id))[0]["chat_id"]
                sent = await anna.send(chat, "back in five, promise", confirm=True)
                assert sent.queued
                state, message_id, _ = await settled(one, sent.client_id)
            events = await one.team.pool.fetch(
                "SELECT type FROM events WHERE kind = 'team' AND body LIKE $1 ORDER BY seq",
                f"%{sent.client_id}%",
            )
    finally:
        await gateway.aclose()
    assert state == "sent"
    assert count_in_sandbox(sandbox, chat, "back in five, promise") == 1  # not sent again
    assert sandbox.gateway.usage.requests["send_message"] == 1
    assert message_id == sandbox.world.accounts[creator.account_id].chats[chat].messages[-1]["id"]
    # The team saw it queued, unknown, then sent.
    assert [row[0] for row in events] == ["send.queued", "send.unknown", "send.sent"]


async def test_sends_of_an_instance_killed_mid_call_are_settled_by_what_the_gateway_has(
    team_db: str, sandbox: SandboxServer
) -> None:
    creator = next(iter(sandbox.world.accounts.values()))
    gateway = FanslyClient(sandbox.base_url, sandbox.api_key, requests_per_minute=UNLIMITED)
    try:
        async with instance(team_db, client=gateway) as one:
            token = await chatter(team_db, "anna", [creator.account_id])
            async with clients(one, token) as (anna,):
                chats = [c["chat_id"] for c in await anna.chats(creator.account_id)][:2]
            anna_id = await one.team.pool.fetchval("SELECT id FROM chatters WHERE name = 'anna'")
            # What an instance killed during the gateway call leaves behind: two items
            # 'sending' since long ago. The first call had reached the gateway, the second not.
            reached = await gateway.send_message(creator.account_id, chats[0], "on my way")
            for client_id, chat, text in (
                ("c-reached", chats[0], "on my way"),
                ("c-lost", chats[1], "one sec"),
            ):
                await one.team.pool.execute(
                    "INSERT INTO outbox (client_id, kind, account_id, chat_id, payload, "
                    "chatter_id, state, attempts, not_before, created_at) VALUES ($1, 'send', "
                    "$2, $3, $4, $5, 'sending', 1, now() - make_interval(secs => $6), "
                    "now() - make_interval(secs => $6))",
                    client_id,
                    creator.account_id,
                    chat,
                    json.dumps({"content": text}),
                    anna_id,
                    STALE_SENDING + 5,
                )
            one.team.outbox.wake()  # type: ignore[union-attr]
            results: dict[str, Any] = {
                cid: await settled(one, cid) for cid in ("c-reached", "c-lost")
            }
    finally:
        await gateway.aclose()
    assert results["c-reached"][:2] == ("sent", reached.id)
    assert results["c-lost"] == ("failed", None, NOT_ARRIVED)
    assert sandbox.gateway.usage.requests["send_message"] == 1  # ours above; none resent
    assert count_in_sandbox(sandbox, chats[0], "on my way") == 1
    assert count_in_sandbox(sandbox, chats[1], "one sec") == 0
