"""The sandbox fires the creators' automated messages (§13) on the events it simulates: rules
made through the gateway's own routes, the creator's message in the fan's chat and its signed
``message.sent`` webhook."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from console.sandbox.automation import DAY_MS, Automations, fires
from console.sandbox.server import SandboxServer


async def _call(sandbox: SandboxServer, method: str, path: str, **options: Any) -> Any:
    async with httpx.AsyncClient(base_url=sandbox.base_url, headers=sandbox.headers) as client:
        response = await client.request(method, path, **options)
    assert response.status_code < 300, response.text
    return response.json()


async def _only_rule(sandbox: SandboxServer, body: dict[str, Any]) -> str:
    """Delete the seeded rules, create ``body``: the account's one rule."""
    account = sandbox.world.first_account().account_id
    listed = await _call(sandbox, "GET", f"/{account}/automated-messages")
    for rule in listed["data"]["data"]["response"]:
        await _call(sandbox, "DELETE", f"/{account}/automated-messages/{rule['id']}")
    made = await _call(sandbox, "POST", f"/{account}/automated-messages", json=body)
    return str(made["data"]["data"]["response"]["id"])


def _sent(sandbox: SandboxServer) -> list[dict[str, Any]]:
    return [e for e in sandbox.simulator.events if e["event"] == "message.sent"]


def _timer_fired(sandbox: SandboxServer) -> asyncio.Event:
    """Set once a delayed rule's timer has run (whether or not it sent anything)."""
    fired = asyncio.Event()
    send = sandbox.simulator._send_automated

    def sending(*args: Any) -> None:
        send(*args)
        fired.set()

    sandbox.simulator._send_automated = sending  # type: ignore[method-assign]
    return fired


async def test_a_welcome_rule_answers_a_new_subscriber(sandbox_async: SandboxServer) -> None:
    sandbox = sandbox_async
    creator = sandbox.world.first_account()
    await _only_rule(sandbox, {"triggerType": "new_subscriber", "content": "Welcome in! 💕"})
    (event,) = sandbox.simulator.simulate(1, ["subscription.new"])
    fan_id = event["data"]["subscriberId"]
    chat = creator.chats[creator.chat_by_fan[fan_id]]
    last = chat.messages[-1]
    assert (last["senderId"], last["content"]) == (creator.native_id, "Welcome in! 💕")
    (webhook,) = _sent(sandbox)
    assert webhook["data"]["id"] == last["id"] and webhook["accountId"] == creator.account_id
    # Renewals, tips and messages do not set it off.
    sandbox.simulator.simulate(6, ["subscription.renewed", "tip.received", "message.received"])
    assert len(_sent(sandbox)) == 1


async def test_the_delay_is_honoured(sandbox_async: SandboxServer) -> None:
    sandbox = sandbox_async
    await _only_rule(
        sandbox, {"triggerType": "new_subscriber", "content": "a moment later", "delay": 1}
    )
    fired = _timer_fired(sandbox)
    sandbox.simulator.simulate(1, ["subscription.new"])
    assert _sent(sandbox) == []  # not at once
    async with asyncio.timeout(5):
        await fired.wait()
    assert _sent(sandbox)[0]["data"]["content"] == "a moment later"


async def test_a_rule_deleted_before_its_delay_sends_nothing(
    sandbox_async: SandboxServer,
) -> None:
    sandbox = sandbox_async
    account = sandbox.world.first_account().account_id
    rule = await _only_rule(
        sandbox, {"triggerType": "new_subscriber", "content": "too late", "delay": 1}
    )
    fired = _timer_fired(sandbox)
    sandbox.simulator.simulate(1, ["subscription.new"])
    await _call(sandbox, "DELETE", f"/{account}/automated-messages/{rule}")
    async with asyncio.timeout(5):
        await fired.wait()
    assert _sent(sandbox) == []


def test_which_events_fire_which_rules() -> None:
    tip = {"triggerType": "new_tip", "tipAmount": 10, "keywords": ["Birthday"]}
    assert fires(tip, "tip.received", {"amount": 10_000, "message": "happy birthday!!"})
    assert not fires(tip, "tip.received", {"amount": 9_990, "message": "happy birthday!!"})
    assert not fires(tip, "tip.received", {"amount": 50_000, "message": "for the content"})
    assert fires({"triggerType": "new_tip"}, "tip.received", {"amount": 1000, "message": ""})
    tiered = {"triggerType": "new_subscriber", "subscriptionTierId": "7"}
    assert fires(tiered, "subscription.new", {"subscriptionTierId": "7"})
    assert not fires(tiered, "subscription.new", {"subscriptionTierId": "8"})
    streak = {"triggerType": "subscriber_renew", "subscriptionStreak": 3}
    third = {"createdAt": 0, "renewDate": 3 * 30 * DAY_MS}
    assert fires(streak, "subscription.renewed", third)
    assert not fires(streak, "subscription.renewed", {**third, "renewDate": 4 * 30 * DAY_MS})
    assert not fires(streak, "subscription.new", third)
    assert not fires({"triggerType": "disabled"}, "subscription.new", {})
    assert not fires({"triggerType": "new_follower"}, "message.received", {})


def test_cooldown_is_per_rule_and_fan(sandbox: SandboxServer) -> None:
    creator = sandbox.world.first_account()
    creator.automated = {
        "1": {"id": "1", "triggerType": "new_tip", "cooldown": 60, "createdAt": 1},
        "2": {"id": "2", "triggerType": "new_tip", "cooldown": 0, "createdAt": 2},
    }
    fans = list(creator.chat_by_fan)
    automations = Automations()

    def due(fan: str, at_ms: int) -> list[str]:
        data = {"accountId": fan, "amount": 5000}
        return [rule["id"] for rule, _ in automations.due(creator, "tip.received", data, at_ms)]

    assert due(fans[0], 0) == ["1", "2"]
    assert due(fans[0], 59_000) == ["2"]  # rule 1 is cooling down for this fan
    assert due(fans[1], 59_000) == ["1", "2"]  # not for another
    assert due(fans[0], 60_000) == ["1", "2"]
