"""`fansly-console sandbox` as a real process: banner, answers, webhooks, clean Ctrl-C."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import re
import signal
import subprocess
import sys
import threading

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from console.api.client import FanslyClient
from console.serving import EmbeddedServer


def test_sandbox_process_prints_what_to_use_and_serves_it() -> None:
    received: list[tuple[bytes, str]] = []
    arrived = threading.Event()

    async def hook(request: Request) -> Response:
        received.append((await request.body(), request.headers["x-fansly-signature"]))
        arrived.set()
        return Response(status_code=204)

    receiver = EmbeddedServer(Starlette(routes=[Route("/hook", hook, methods=["POST"])]))
    receiver.start_thread()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANSLY_")}
    argv = ["sandbox", "--size", "small", "--port", "0", "--webhook-secret", "s3cret"]
    argv += ["--webhook-url", f"{receiver.url}/hook", "--simulate", "3000"]
    process = subprocess.Popen(
        [sys.executable, "-m", "console", *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = []
        for line in process.stdout:
            banner.append(line)
            if line.startswith("Ctrl-C"):
                break
        text = "".join(banner)
        base_url = re.search(r"base URL:\s+(\S+)", text)
        key = re.search(r"API key:\s+(\S+)", text)
        assert base_url and key, text
        assert "webhook secret: s3cret" in text
        assert f"FANSLY_API_BASE_URL={base_url[1]} FANSLY_API_KEY={key[1]} fansly-console" in text
        response = httpx.get(f"{base_url[1]}/accounts", headers={"x-api-key": key[1]})
        assert response.status_code == 200
        assert response.json()["data"]["accounts"][0]["accountId"].startswith("fansly_acc_")
        assert arrived.wait(20), "no simulated webhook arrived"
        body, signature = received[0]
        assert signature == hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
        receiver.stop_thread()
    assert process.returncode == 0
    assert "Traceback" not in stderr


def _world_ids(argv: list[str]) -> list[str]:
    """Start `fansly-console sandbox argv`, read its accounts, creators and first chats over
    HTTP with the client, stop it (Ctrl-C), and return the ids."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANSLY_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "console", "sandbox", *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        text = ""
        for line in process.stdout:
            text += line
            if line.startswith("Ctrl-C"):
                break
        base_url = re.search(r"base URL:\s+(\S+)", text)
        assert base_url, text
        return asyncio.run(_ids_at(base_url[1]))
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)


async def _ids_at(base_url: str) -> list[str]:
    ids: list[str] = []
    async with FanslyClient(base_url, "same-key") as client:
        for account in await client.list_accounts():
            ids += [account.account_id, await client.creator_id(account.account_id)]
            page = await client.chats_page(account.account_id, limit=20)
            ids += [chat.id for chat in page.items]
            ids += [m.id for m in (await client.messages_page(account.account_id, ids[-1])).items]
    return ids


def test_the_sandbox_started_twice_with_one_seed_is_one_world() -> None:
    argv = ["--seed", "11", "--size", "small", "--port", "0", "--api-key", "same-key"]
    first = _world_ids(argv)
    again = _world_ids(argv)
    assert len(first) > 20 and first == again
