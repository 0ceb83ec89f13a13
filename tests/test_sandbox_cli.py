"""`fansly-console sandbox` as a real process: banner, answers, webhooks, clean Ctrl-C."""

from __future__ import annotations

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
