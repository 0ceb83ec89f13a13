"""Rate limit (429), credits (402), rate headers and fault injection, over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from console.sandbox.server import SandboxServer


@pytest.fixture
async def client(sandbox_async: SandboxServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=sandbox_async.base_url, headers=sandbox_async.headers
    ) as c:
        yield c


async def test_sliding_window_429_with_retry_after() -> None:
    async with (
        SandboxServer(size="small", requests_per_minute=3) as sandbox,
        httpx.AsyncClient(base_url=sandbox.base_url, headers=sandbox.headers) as client,
    ):
        remaining = []
        for _ in range(3):
            response = await client.get("/accounts")
            assert response.status_code == 200
            assert response.headers["X-RateLimit-Limit"] == "3"
            assert response.headers["X-RateLimit-Plan"] == "Starter"
            remaining.append(int(response.headers["X-RateLimit-Remaining"]))
        assert remaining == [2, 1, 0]
        limited = await client.get("/accounts")
        assert limited.status_code == 429
        body = limited.json()
        assert body["message"] == "Rate limit exceeded. Please wait before making more requests."
        assert body["data"] is None
        retry = int(limited.headers["X-RateLimit-Retry-After"])
        assert 1 <= retry <= 60 and limited.headers["Retry-After"] == str(retry)
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        # The window is per key: another key is not limited by this one's traffic.
        other = await client.get("/accounts", headers={"x-api-key": "someone-else"})
        assert other.status_code == 401
        stats = await client.get(f"{sandbox.url}/_sandbox/stats")
        assert stats.json()["data"]["rate_limited"] == 1


async def test_credits_run_out_with_402() -> None:
    async with (
        SandboxServer(size="small", credits=2) as sandbox,
        httpx.AsyncClient(base_url=sandbox.base_url, headers=sandbox.headers) as client,
    ):
        assert (await client.get("/accounts")).status_code == 200
        assert (await client.get("/accounts")).status_code == 200
        exhausted = await client.get("/accounts")
        assert exhausted.status_code == 402
        assert exhausted.json()["message"] == "Insufficient credits"
        assert "X-RateLimit-Remaining" in exhausted.headers
        stats = (await client.get(f"{sandbox.url}/_sandbox/stats")).json()["data"]
        credits = stats["credits"]
        assert (credits["limit"], credits["used"], credits["remaining"]) == (2, 2, 0)
        assert credits["by_account"] == {"": {"profiles": 2}}  # the key's own listing


async def _faults(sandbox: SandboxServer, body: object) -> httpx.Response:
    async with httpx.AsyncClient(base_url=sandbox.url, headers=sandbox.headers) as c:
        return await c.post("/_sandbox/faults", json=body)


async def test_one_shot_status_fault_does_not_apply(
    sandbox_async: SandboxServer, client: httpx.AsyncClient
) -> None:
    creator = sandbox_async.world.first_account()
    chat = creator.chat_order()[0]
    before = len(chat.messages)
    await _faults(sandbox_async, {"next": [{"route": "send_message", "status": 500}]})
    url = f"/{creator.account_id}/chats/{chat.id}/messages"
    failed = await client.post(url, json={"content": "one"})
    assert failed.status_code == 500 and failed.json()["data"] is None
    assert len(chat.messages) == before
    assert (await client.post(url, json={"content": "two"})).status_code == 201
    assert len(chat.messages) == before + 1


async def test_delay_after_apply_times_out_but_applies(
    sandbox_async: SandboxServer, client: httpx.AsyncClient
) -> None:
    creator = sandbox_async.world.first_account()
    chat = creator.chat_order()[0]
    await _faults(sandbox_async, {"next": [{"route": "send_message", "delay_after_apply": 1.0}]})
    url = f"/{creator.account_id}/chats/{chat.id}/messages"
    with pytest.raises(httpx.ReadTimeout):
        await client.post(url, json={"content": "did it arrive?"}, timeout=0.2)
    assert chat.messages[-1]["content"] == "did it arrive?"


async def test_provider_failure_inside_a_200(
    sandbox_async: SandboxServer, client: httpx.AsyncClient
) -> None:
    creator = sandbox_async.world.first_account()
    message = creator.chat_order()[0].messages[-1]
    await _faults(sandbox_async, {"next": [{"route": "like_message", "provider_failure": True}]})
    body = {"messageId": message["id"], "type": 1}
    response = await client.post(f"/{creator.account_id}/messages/like", json=body)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status_code"] >= 400 and data["data"]["success"] is False
    assert data["data"]["error"]["message"]
    assert all(like["userId"] != creator.native_id for like in message["likes"])


async def test_rates_latency_and_reset(
    sandbox_async: SandboxServer, client: httpx.AsyncClient
) -> None:
    configured = await _faults(sandbox_async, {"error_rate": 1.0, "latency_ms": 50})
    assert configured.json()["data"]["error_rate"] == 1.0
    response = await client.get("/accounts")
    assert response.status_code == 500
    assert response.elapsed.total_seconds() >= 0.05
    await _faults(sandbox_async, {"provider_failure_rate": 1.0, "error_rate": 0})
    acc = sandbox_async.world.first_account().account_id
    nested = (await client.get(f"/{acc}/me")).json()["data"]
    assert nested["data"]["success"] is False
    async with httpx.AsyncClient(base_url=sandbox_async.url, headers=sandbox_async.headers) as c:
        assert (await c.delete("/_sandbox/faults")).status_code == 200
        assert (await client.get(f"/{acc}/me")).json()["data"]["data"]["success"] is True
        stats = (await c.get("/_sandbox/stats")).json()["data"]
    assert stats["requests"]["me"] == 2 and stats["requests"]["list_accounts"] == 1
    assert stats["statuses"]["500"] == 1


async def test_fault_endpoints_need_the_key_and_valid_input(sandbox_async: SandboxServer) -> None:
    async with httpx.AsyncClient(base_url=sandbox_async.url) as c:
        assert (await c.post("/_sandbox/faults", json={"error_rate": 1})).status_code == 401
        assert (await c.get("/_sandbox/stats")).status_code == 401
        assert (await c.get("/healthz")).json() == {"status": "ok"}
    bad = await _faults(sandbox_async, {"error_rate": 2})
    assert bad.status_code == 400 and "error_rate" in bad.json()["message"]
    bad = await _faults(sandbox_async, {"next": [{"status": 500}]})
    assert bad.status_code == 400
