"""``fansly-console serve`` and ``team`` as real processes and commands on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
from support.hub import Console
from support.team import delivery
from support.webhooks import SECRET, message_object

from console.__main__ import main
from console.events import Event
from console.webhooks.remote import RemoteEvents
from console.webhooks.signature import sign


@dataclass
class ServeProcess:
    process: asyncio.subprocess.Process
    base: str
    stdout: list[str]

    @property
    def webhook(self) -> str:
        return self.base + "/webhooks/fansly"

    @property
    def ws_url(self) -> str:
        return self.base.replace("http://", "ws://") + "/events"


async def start_serve(database: str, stderr_path: Path, *args: str) -> ServeProcess:
    with stderr_path.open("ab") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "console",
            "serve",
            "--port",
            "0",
            "--secret",
            SECRET,
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "FANSLY_CONSOLE_DATABASE_URL": database},
        )
    assert process.stdout is not None
    lines: list[str] = []
    base = ""
    async with asyncio.timeout(60):
        while True:
            line = (await process.stdout.readline()).decode()
            assert line, f"serve exited early, see {stderr_path}"
            lines.append(line)
            if "webhook URL" in line:
                base = line.split(": ", 1)[1].strip().rsplit("/webhooks/", 1)[0]
            if "Ctrl-C stops" in line:
                return ServeProcess(process, base, lines)


@contextlib.asynccontextmanager
async def serving(database: str, stderr_path: Path, *args: str) -> AsyncIterator[ServeProcess]:
    serve = await start_serve(database, stderr_path, *args)
    try:
        yield serve
    finally:
        if serve.process.returncode is None:
            serve.process.send_signal(signal.SIGINT)
            async with asyncio.timeout(20):
                await serve.process.wait()


def team(*args: str) -> int:
    return main(["team", *args])


def test_team_add_prints_the_token_once_and_list_never_shows_it(
    team_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FANSLY_CONSOLE_DATABASE_URL", team_db)
    assert team("add", "anna", "--accounts", "acc_1,acc_2") == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("fct_") and len(token) > 40
    assert team("add", "anna", "--accounts", "acc_1") == 1
    assert "exists already" in capsys.readouterr().err
    assert team("add", "nobody") == 1  # neither accounts nor admin: refused
    capsys.readouterr()
    assert team("list", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["name"] == "anna" and listed[0]["accounts"] == ["acc_1", "acc_2"]
    assert team("list") == 0
    assert team("revoke", "anna") == 0
    assert team("revoke", "anna") == 1
    out = capsys.readouterr()
    assert token not in out.out + out.err
    assert "revoked" in out.out

    async def stored() -> bytes:
        conn = await asyncpg.connect(team_db)
        try:
            return bytes(await conn.fetchval("SELECT token_hash FROM chatters"))
        finally:
            await conn.close()

    hashed = asyncio.run(stored())
    assert token.encode() not in hashed and token.rsplit("_", 1)[1].encode() not in hashed


def test_serve_without_a_database_says_how_to_give_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["serve", "--secret", "s"]) == 1
    assert "FANSLY_CONSOLE_DATABASE_URL" in capsys.readouterr().err


async def test_team_stats_json(team_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FANSLY_CONSOLE_DATABASE_URL", team_db)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "console",
        "team",
        "add",
        "zoe",
        "--admin",
        stdout=asyncio.subprocess.PIPE,
    )
    await process.communicate()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "console",
        "team",
        "stats",
        "--since",
        "1d",
        "--json",
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    assert json.loads(out) == [
        {
            "chatter": "zoe",
            "replies": 0,
            "median_response_seconds": None,
            "ppvs_sent": 0,
            "ppvs_bought": 0,
            "revenue_millis": 0,
        }
    ]


#: The burst of the kill test: the issue's 5,000 (about 20 s on this shared 2-core machine
#: under load; TEAM_KILL_BURST=2000 for a quicker run with the same coverage).
BURST = int(os.environ.get("TEAM_KILL_BURST", "5000"))


async def test_sigkill_one_instance_mid_burst_loses_and_repeats_nothing(
    team_db: str, tmp_path: Path
) -> None:
    from support.team import chatter

    tokens = [await chatter(team_db, f"c{i}", [], admin=True) for i in range(4)]
    bodies = [delivery(data=message_object(content=f"b{i}")) for i in range(BURST)]
    keys = {json.loads(body)["idempotencyKey"] for body in bodies}
    async with (
        serving(team_db, tmp_path / "a.err") as first,
        serving(team_db, tmp_path / "b.err") as second,
    ):
        consoles = [Console() for _ in tokens]
        instances = [first, first, second, second]
        readers = [
            RemoteEvents(serve.ws_url, console.on_event, token=token, after=0, min_backoff=0.05)
            for serve, console, token in zip(instances, consoles, tokens, strict=True)
        ]
        tasks = [asyncio.create_task(reader.run()) for reader in readers]
        await asyncio.gather(*(reader.connected.wait() for reader in readers))
        alive = [first, second]
        acked: set[str] = set()
        retried = 0
        queue = list(enumerate(bodies))
        killed = asyncio.Event()
        quarter = asyncio.Event()
        at_kill: list[int] = []

        async def sender() -> None:
            nonlocal retried
            poster = KeepAlive()
            while queue:
                index, body = queue.pop()
                for attempt in itertools.count():
                    # The load balancer: alternate, and try the other instance on a failure.
                    target = alive[(index + attempt) % len(alive)]
                    if await poster.post(target, body) == 200:
                        acked.add(json.loads(body)["idempotencyKey"])
                        if len(acked) >= BURST // 4:
                            quarter.set()
                        break
                    retried += 1
                    await asyncio.sleep(0.01)

        async def killer() -> None:
            await quarter.wait()
            first.process.kill()  # SIGKILL: no shutdown; requests in flight are cut
            at_kill.append(len(acked))
            await first.process.wait()
            alive.remove(first)
            killed.set()
            # The consoles on the dead instance come back through the load balancer, on the
            # other one, from the last seq they saw.
            for i in (0, 1):
                tasks[i].cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await tasks[i]
                readers[i] = RemoteEvents(
                    second.ws_url,
                    consoles[i].on_event,
                    token=tokens[i],
                    after=readers[i].last_seq,
                    min_backoff=0.05,
                )
                tasks[i] = asyncio.create_task(readers[i].run())

        try:
            await asyncio.wait_for(asyncio.gather(killer(), *(sender() for _ in range(16))), 240)
            assert killed.is_set() and len(queue) == 0
            for console in consoles:
                await asyncio.wait_for(_until(console, BURST), 60)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    assert at_kill[0] < BURST, "the kill came after the burst: nothing was tested"
    assert retried > 0  # deliveries cut by the kill went to the other instance
    assert acked == keys
    conn = await asyncpg.connect(team_db)
    try:
        stored = {row[0] for row in await conn.fetch("SELECT idempotency_key FROM events")}
        count = await conn.fetchval("SELECT count(*) FROM events")
        messages = await conn.fetchval("SELECT count(*) FROM messages")
    finally:
        await conn.close()
    assert stored == keys and count == BURST and messages == BURST
    logged = (tmp_path / "a.err").read_text() + (tmp_path / "b.err").read_text()
    assert "console connected" in logged and not any(token in logged for token in tokens)
    for console in consoles:
        seen = [event.idempotency_key for event in console.events if isinstance(event, Event)]
        assert len(seen) == BURST and set(seen) == keys  # every event, once
        assert console.seqs == sorted(console.seqs)


class KeepAlive:
    """One sender's keep-alive HTTP/1.1 connections, one per instance: a load balancer's
    pool. Raw bytes, as the gateway's sender does; httpx cost this test process more CPU than
    the two servers together."""

    def __init__(self) -> None:
        self.connections: dict[str, tuple[asyncio.StreamReader, asyncio.StreamWriter]] = {}

    async def post(self, serve: ServeProcess, body: bytes) -> int | None:
        """The status of a signed POST of ``body`` to ``serve``'s webhook; None when the
        connection failed (the instance died: the next post opens another)."""
        parts = urlsplit(serve.webhook)
        try:
            async with asyncio.timeout(10):
                if serve.base not in self.connections:
                    self.connections[serve.base] = await asyncio.open_connection(
                        parts.hostname, parts.port
                    )
                reader, writer = self.connections[serve.base]
                writer.write(
                    f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                    f"X-Fansly-Signature: {sign(SECRET, body)}\r\n\r\n".encode()
                    + body
                )
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                length = next(
                    int(line.split(":", 1)[1])
                    for line in lines
                    if line.lower().startswith("content-length:")
                )
                await reader.readexactly(length)
                return int(lines[0].split(" ", 2)[1])
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError, StopIteration):
            gone = self.connections.pop(serve.base, None)
            if gone is not None:
                gone[1].close()
            return None


async def _until(console: Console, count: int) -> None:
    async with console.changed:
        await console.changed.wait_for(lambda: len(console.events) >= count)


def test_the_console_token_file_must_be_private(tmp_path: Path) -> None:
    from console.config import TeamSettings
    from console.problems import Problem
    from console.team.cache import team_token

    path = tmp_path / "team-token"
    path.write_text("fct_abc_secret\n")
    path.chmod(0o644)
    with pytest.raises(Problem, match="readable by others") as refused:
        team_token(TeamSettings(token_file=str(path)))
    assert "fct_abc_secret" not in str(refused.value)
    path.chmod(0o600)
    assert team_token(TeamSettings(token_file=str(path))) == "fct_abc_secret"
    with pytest.raises(Problem, match="token_file"):
        team_token(TeamSettings())
