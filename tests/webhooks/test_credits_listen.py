"""Webhook deliveries cost credits (§5.2: 80 delivered events per credit, ASSUMED in
console/credit_rule.py), whichever listener takes them: headless ``listen`` (its ingest worker,
a process of its own) counts them in its cache as the console's embedded listener does."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from support.sync import open_workspace
from support.webhooks import encode, message_object

from console.credit_rule import cycle_of, day_of, webhook_credits
from console.sandbox.server import SandboxServer
from console.serving import EmbeddedServer
from console.store import Store
from console.webhooks.app import DEFAULT_PATH, create_listener_app
from console.webhooks.signature import sign
from console.webhooks.sinks import as_sink
from console.webhooks.worker import IngestWorker

ACCOUNTS = ("fansly_acc_1001", "fansly_acc_2002")


def deliveries() -> list[bytes]:
    """25 events of one account, 15 of another, one of them delivered twice (a duplicate is
    billed too: the gateway delivered it), and a body that cannot be read (refused 400)."""
    bodies = []
    for n in range(40):
        account = ACCOUNTS[0] if n < 25 else ACCOUNTS[1]
        data = message_object(message_id=f"72000000000{n:05d}", content=f"number {n}")
        bodies.append(
            encode(
                {
                    "event": "message.received",
                    "idempotencyKey": f"evt_meter_{n}",
                    "accountId": account,
                    "timestamp": "2026-09-22T12:00:00.000Z",
                    "data": data,
                }
            )
        )
    bodies.append(bodies[3])
    bodies.append(json.dumps({"event": "message.received", "accountId": ACCOUNTS[0]}).encode())
    return bodies


async def deliver(url: str, secret: str, bodies: list[bytes]) -> list[int]:
    async with httpx.AsyncClient(timeout=20) as http:
        return [
            (
                await http.post(
                    url, content=body, headers={"X-Fansly-Signature": sign(secret, body)}
                )
            ).status_code
            for body in bodies
        ]


async def webhook_usage(store: Store) -> dict[str, tuple[int, float]]:
    rows = await store.usage.totals(day_of(0), "9999-12-31")
    return {r.account_id: (r.requests, r.credits) for r in rows if r.feature == "webhooks"}


async def test_listen_meters_deliveries_as_the_embedded_listener_does(tmp_path: Path) -> None:
    bodies = deliveries()
    async with SandboxServer(seed=7, size="small") as sandbox:
        secret = sandbox.webhook_secret
        # The console's embedded listener: the workspace's meter, flushed to its cache.
        workspace = await open_workspace(sandbox, tmp_path / "console.sqlite3", full=False)
        async with workspace:
            app = create_listener_app(as_sink(workspace.apply_event), secrets=[secret])
            async with EmbeddedServer(app) as server:
                embedded = await deliver(server.url + DEFAULT_PATH, secret, bodies)
            await workspace.flush_credits()
            console = await webhook_usage(workspace.store)
    # Headless listen: the ingest worker process, on a cache of its own.
    cache = tmp_path / "listen.sqlite3"
    worker = await IngestWorker.open(cache)
    try:
        app = create_listener_app(intake=worker.intake, secrets=[secret])
        async with EmbeddedServer(app) as server:
            headless = await deliver(server.url + DEFAULT_PATH, secret, bodies)
    finally:
        await worker.close()
    async with await Store.open(cache) as store:
        listen = await webhook_usage(store)
        month = await store.usage.credits_in_month(cycle_of(time.time()))
    assert embedded == headless == [200] * 41 + [400]
    expected = {ACCOUNTS[0]: (26, webhook_credits(26)), ACCOUNTS[1]: (15, webhook_credits(15))}
    for usage in (console, listen):
        assert usage.keys() == expected.keys()
        for account, (requests, credits) in usage.items():
            assert requests == expected[account][0]
            assert credits == pytest.approx(expected[account][1])
    assert month == pytest.approx(webhook_credits(41))  # the month's total, for the budget
