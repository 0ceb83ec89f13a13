"""``fansly-console listen`` as a real process: signed POSTs in, the cache and ``search`` out."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
from pathlib import Path

import httpx
import pytest
from support.listen import ListenProcess, running, start_listen, stop, wait_until
from support.webhooks import contract, message_object

from console.__main__ import main
from console.sandbox.simulator import Simulator
from console.sandbox.world import build_world
from console.webhooks.signature import sign

SECRET = "s"  # the brief's own "done when" command line
LONG_SECRET = "whsec_listen_test_9f8e7d6c5b4a"


def cache_file() -> Path:
    return Path(os.environ["FANSLY_CONSOLE_HOME"]) / "data" / "default.sqlite3"


def count(sql: str) -> int:
    with sqlite3.connect(f"file:{cache_file()}?mode=ro", uri=True) as db:
        return int(db.execute(sql).fetchone()[0])


async def test_done_when(tmp_path: Path) -> None:
    """Signed message accepted, wrong signature refused, found by ``search``, retry harmless."""
    body = contract("message.received", message_object(content="pineapple pizza tonight?"))
    async with (
        running("--port", "0", "--secret", SECRET, stderr_path=tmp_path / "err") as listen,
        httpx.AsyncClient(timeout=10) as client,
    ):
        good = await client.post(
            listen.url, content=body, headers={"X-Fansly-Signature": sign(SECRET, body)}
        )
        bad = await client.post(
            listen.url, content=body, headers={"X-Fansly-Signature": sign("wrong", body)}
        )
        again = await client.post(
            listen.url, content=body, headers={"X-Fansly-Signature": sign(SECRET, body)}
        )
        assert (good.status_code, bad.status_code, again.status_code) == (200, 401, 200)
        assert again.json()["duplicate"] is True
        search = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "console",
            "search",
            "pineapple",
            "--json",
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await search.communicate()
        assert search.returncode == 0
        code = await stop(listen)
    assert code == 0
    hits = json.loads(out)
    assert len(hits) == 1 and "pineapple" in hits[0]["snippet"]
    assert count("SELECT COUNT(*) FROM event_log") == 1
    log = (tmp_path / "err").read_text()
    assert log.count("delivery message.received") == 2 and "status=401" in log


def test_refuses_to_start_without_a_secret(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["listen", "--port", "0"]) == 2
    assert "no webhook secret is configured" in capsys.readouterr().err


async def test_insecure_mode_warns(tmp_path: Path) -> None:
    async with running("--port", "0", "--insecure-no-signature", stderr_path=tmp_path / "e"):
        pass
    assert "WARNING: --insecure-no-signature" in (tmp_path / "e").read_text()


async def test_secrets_and_hub_token_are_never_printed(tmp_path: Path) -> None:
    args = ("--port", "0", "--secret", LONG_SECRET)
    async with running(*args, stderr_path=tmp_path / "e") as listen:
        body = contract("message.received", message_object())
        async with httpx.AsyncClient() as client:
            for secret in (LONG_SECRET, "wrong"):
                headers = {"X-Fansly-Signature": sign(secret, body)}
                await client.post(listen.url, content=body, headers=headers)
        token_file = Path(os.environ["FANSLY_CONSOLE_HOME"]) / "data" / "hub-token"
        token = token_file.read_text().strip()
        assert token_file.stat().st_mode & 0o777 == 0o600
        assert str(token_file) in "".join(listen.stdout)
    printed = "".join(listen.stdout) + (tmp_path / "e").read_text()
    assert "status=200" in printed and "status=401" in printed
    assert token not in printed and LONG_SECRET not in printed


@pytest.mark.slow
async def test_sigkill_mid_burst_loses_nothing_and_repeats_nothing(tmp_path: Path) -> None:
    burst = 5000
    first = await start_listen("--port", "0", "--secret", SECRET, stderr_path=tmp_path / "e")
    simulator = Simulator(
        build_world(11, "small"),
        webhook_secret=SECRET,
        webhook_url=first.url,
        workers=16,
        max_attempts=1000,
        backoff_base=0.05,
        backoff_cap=0.5,
    )
    await simulator.start()
    try:
        simulator.simulate(burst)
        await wait_until(lambda: simulator.delivered >= burst // 4, 40)
        first.process.kill()  # SIGKILL: no shutdown, requests in flight are cut
        await first.process.wait()
        at_kill = simulator.delivered
        second = await start_listen(
            "--port", str(first.port), "--secret", SECRET, stderr_path=tmp_path / "e"
        )
        try:
            async with asyncio.timeout(50):
                await simulator.drain()
        finally:
            assert await stop(second) == 0
    finally:
        await simulator.stop()
    assert simulator.failed == 0
    assert at_kill < burst, "the kill came after the burst: nothing was tested"
    assert simulator.retried > 0
    keys = {str(event["idempotencyKey"]) for event in simulator.events}
    messages = {
        str(event["data"]["id"])
        for event in simulator.events
        if event["event"] == "message.received"
    }
    total = burst + simulator.automated_sent  # the seeded rules answer some events
    assert len(keys) == total
    assert count("SELECT COUNT(*) FROM event_log") == total
    assert count("SELECT COUNT(DISTINCT idempotency_key) FROM event_log") == total
    with sqlite3.connect(f"file:{cache_file()}?mode=ro", uri=True) as db:
        logged = {row[0] for row in db.execute("SELECT idempotency_key FROM event_log")}
        stored = {
            row[0]
            for row in db.execute(
                f"SELECT message_id FROM messages WHERE message_id IN "
                f"({','.join('?' * len(messages))})",
                sorted(messages),
            )
        }
    assert logged == keys
    assert stored == messages


def _cmdline(pid: int) -> str:
    """The command line ``ps`` shows every local user for ``pid``."""
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().replace("\0", " ")


async def _accepts_only(listen: ListenProcess, secret: str) -> None:
    body = contract("message.received", message_object())
    async with httpx.AsyncClient(timeout=10) as client:
        statuses = [
            (
                await client.post(
                    listen.url, content=body, headers={"X-Fansly-Signature": sign(key, body)}
                )
            ).status_code
            for key in (secret, "wrong")
        ]
    assert statuses == [200, 401]


async def test_secret_from_a_file_stays_out_of_the_process_list(tmp_path: Path) -> None:
    secret_file = tmp_path / "webhook-secret"
    secret_file.write_text(f"# the gateway's dashboard\n{LONG_SECRET}\n")
    secret_file.chmod(0o600)
    async with running(
        "--port", "0", "--secret-file", str(secret_file), stderr_path=tmp_path / "e"
    ) as listen:
        await _accepts_only(listen, LONG_SECRET)
        # What `ps` shows every local user: the file's name, never the secret.
        cmdline = _cmdline(listen.process.pid)
        assert str(secret_file) in cmdline and LONG_SECRET not in cmdline
    assert LONG_SECRET not in "".join(listen.stdout) + (tmp_path / "e").read_text()


async def test_secret_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FANSLY_WEBHOOK_SECRET", LONG_SECRET)
    async with running("--port", "0", stderr_path=tmp_path / "e") as listen:
        await _accepts_only(listen, LONG_SECRET)
        cmdline = _cmdline(listen.process.pid)
        assert LONG_SECRET not in cmdline


def test_a_secret_file_that_cannot_be_used_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.write_text("# nothing yet\n\n")
    assert main(["listen", "--port", "0", "--secret-file", str(tmp_path / "missing")]) == 2
    assert "--secret-file" in capsys.readouterr().err
    assert main(["listen", "--port", "0", "--secret-file", str(empty)]) == 2
    assert "holds no secret" in capsys.readouterr().err


def test_help_says_how_to_keep_the_secret_out_of_the_process_list(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["listen", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--secret-file PATH" in text and "FANSLY_WEBHOOK_SECRET" in text
    assert "process list" in text
