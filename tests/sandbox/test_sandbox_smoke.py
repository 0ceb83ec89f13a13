"""The fixtures start a real sandbox others can test against."""

from __future__ import annotations

import httpx

from console.sandbox.server import SandboxServer


def test_threaded_sandbox_answers_accounts(sandbox: SandboxServer) -> None:
    response = httpx.get(f"{sandbox.base_url}/accounts", headers=sandbox.headers)
    assert response.status_code == 200
    accounts = response.json()["data"]["accounts"]
    assert [a["accountId"] for a in accounts] == list(sandbox.world.accounts)


async def test_in_loop_sandbox_answers_accounts(sandbox_async: SandboxServer) -> None:
    async with httpx.AsyncClient(base_url=sandbox_async.base_url) as client:
        response = await client.get("/accounts", headers=sandbox_async.headers)
    assert response.status_code == 200
    assert response.headers["X-RateLimit-Limit"] == "100000"
