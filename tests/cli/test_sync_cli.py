"""``fansly-console sync`` as a real process against a sandbox process: killed half-way and
run again, it completes without duplicates; a bad key or a dead gateway is exit 1."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from console.api.client import FanslyClient
from console.store import Store

KEY = "sbx_sync_cli_test_key_0123456789"
PER_CHAT = 15


def _latency(base_url: str, ms: int) -> None:
    answer = httpx.post(
        f"{base_url.removesuffix('/api/fansly')}/_sandbox/faults",
        json={"latency_ms": ms},
        headers={"x-api-key": KEY},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def _env(home: Path, base_url: str, key: str = KEY) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANSLY_")}
    env.update(
        FANSLY_CONSOLE_HOME=str(home),
        FANSLY_API_BASE_URL=base_url,
        FANSLY_API_KEY=key,
        FANSLY_CONSOLE_SYNC__MESSAGES_PER_CHAT=str(PER_CHAT),
        CI="true",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture(scope="module")
def gateway() -> Iterator[str]:
    """A sandbox process (small world) answering every request 60 ms late."""
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "console", "sandbox", "--port", "0", "--api-key", KEY),
            *("--size", "small", "--requests-per-minute", "100000"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("FANSLY_")},
    )
    try:
        assert process.stdout is not None
        base_url = ""
        for line in process.stdout:
            found = re.search(r"base URL:\s+(\S+)", line)
            if found:
                base_url = found.group(1)
                break
        assert base_url, "the sandbox did not start"
        _latency(base_url, 60)
        yield base_url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _expected(base_url: str) -> dict[str, list[str]]:
    """Each chat's latest PER_CHAT message ids, oldest first, straight from the gateway."""
    expected: dict[str, list[str]] = {}
    async with FanslyClient(base_url, KEY, requests_per_minute=100_000) as client:
        [account] = await client.list_accounts()
        async for chat in client.iter_chats(account.account_id, limit=100):
            ids: list[str] = []
            async for message in client.iter_messages(account.account_id, chat.id):
                ids.append(message.id)
                if len(ids) == PER_CHAT:
                    break
            expected[chat.id] = list(reversed(ids))
    return expected


async def _cached(path: Path) -> tuple[dict[str, list[str | None]], int]:
    async with await Store.open(path) as store:
        [account] = await store.accounts()
        chats = await store.chats(account.account_id, limit=1000)
        cached = {
            c.chat_id: [r.message_id for r in await store.latest_messages(c.chat_id, 1000)]
            for c in chats
        }
        done = 0
        for chat in chats:
            state = await store.sync_state.get_backfill(account.account_id, chat.chat_id)
            done += state is not None and state.done
    return cached, done


@pytest.mark.slow
def test_sync_killed_half_way_resumes_and_completes_without_duplicates(
    gateway: str, tmp_path: Path
) -> None:
    env = _env(tmp_path, gateway)
    process = subprocess.Popen(
        [sys.executable, "-m", "console", "sync", "--full"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        progress = re.search(r"chats (\d+)/(\d+)", line)
        if progress and 8 <= int(progress.group(1)) < int(progress.group(2)):
            process.send_signal(signal.SIGKILL)
            break
    process.wait(30)
    assert process.returncode == -signal.SIGKILL, "".join(seen)

    path = tmp_path / "data" / "default.sqlite3"
    partial, done = asyncio.run(_cached(path))
    assert 8 <= done < 40
    assert len(partial) == 40  # the chat list came first, whole
    _latency(gateway, 0)

    again = subprocess.run(
        [sys.executable, "-m", "console", "sync", "--full"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    summary = re.search(r"Synced 1 account: 40 chats \((\d+) updated\)", again.stdout)
    assert summary, again.stdout
    assert int(summary.group(1)) <= 40 - done  # only what the killed run had not finished

    cached, done = asyncio.run(_cached(path))
    assert done == 40
    assert cached == asyncio.run(_expected(gateway))  # complete, in order, no duplicates


def test_sync_bad_key_and_dead_gateway_exit_1(gateway: str, tmp_path: Path) -> None:
    wrong = "sbx_wrong_key_that_must_not_be_printed"
    bad = subprocess.run(
        [sys.executable, "-m", "console", "sync"],
        env=_env(tmp_path, gateway, key=wrong),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 1
    assert "refused the API key" in bad.stderr
    assert wrong not in bad.stdout + bad.stderr

    dead = subprocess.run(
        [sys.executable, "-m", "console", "sync"],
        env=_env(tmp_path, "http://127.0.0.1:9/api/fansly"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert dead.returncode == 1
    assert "cannot reach the gateway" in dead.stderr
    assert KEY not in dead.stdout + dead.stderr
