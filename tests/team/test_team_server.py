"""The team server over a real PostgreSQL: two instances on one database, real HTTP and
websockets, consoles reading either instance with chatter tokens."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from support.hub import Console
from support.team import OTHER_ACCOUNT, PATH, Instance, chatter, delivery, instance
from support.webhooks import ACCOUNT, CHAT, SECRET, message_object

from console.serving import EmbeddedServer
from console.team.server import TeamServer
from console.webhooks.remote import HubAuthError, RemoteEvents
from console.webhooks.signature import sign


@pytest.fixture
async def pair(team_db: str) -> AsyncIterator[tuple[Instance, Instance]]:
    async with instance(team_db) as first, instance(team_db) as second:
        yield first, second


async def test_every_console_on_either_instance_gets_every_event_once_in_order(
    team_db: str, pair: tuple[Instance, Instance]
) -> None:
    first, second = pair
    tokens = [await chatter(team_db, f"c{i}", [ACCOUNT]) for i in range(4)]
    consoles = [Console() for _ in tokens]
    readers = [
        RemoteEvents((first, second)[i % 2].ws_url, console.on_event, token=token, after=0)
        for i, (console, token) in enumerate(zip(consoles, tokens, strict=True))
    ]
    async with contextlib.AsyncExitStack() as stack:
        for reader in readers:
            await stack.enter_async_context(reader)
        await asyncio.gather(*(r.connected.wait() for r in readers))
        bodies = [delivery(data=message_object(content=f"m{i}")) for i in range(60)]
        answers = await asyncio.gather(
            *((first, second)[i % 2].deliver(body) for i, body in enumerate(bodies))
        )
        assert {a.status_code for a in answers} == {200}
        # A retry on the other instance is a duplicate there too.
        again = await second.deliver(bodies[0])
        assert again.json()["duplicate"] is True
        for console in consoles:
            await console.wait_for(60)
    expected = sorted(a.json()["seq"] for a in answers)
    for console in consoles:
        assert console.seqs == expected  # once each, in seq order
    contents = {e.message.content for e in consoles[0].events if e.message}
    assert contents == {f"m{i}" for i in range(60)}


async def test_the_stream_carries_only_the_chatters_accounts(
    team_db: str, pair: tuple[Instance, Instance]
) -> None:
    first, second = pair
    mine = await chatter(team_db, "anna", [ACCOUNT])
    boss = await chatter(team_db, "boss", [], admin=True)
    anna, admin = Console(), Console()
    async with (
        RemoteEvents(first.ws_url, anna.on_event, token=mine, after=0),
        RemoteEvents(second.ws_url, admin.on_event, token=boss, after=0),
    ):
        for account in (OTHER_ACCOUNT, ACCOUNT, OTHER_ACCOUNT, ACCOUNT):
            assert (await first.deliver(delivery(account=account))).status_code == 200
        await admin.wait_for(4)
        await anna.wait_for(2)
        await asyncio.sleep(0.3)  # let a wrongly streamed event arrive
    assert {e.account_id for e in anna.events} == {ACCOUNT} and len(anna.events) == 2
    assert len(admin.events) == 4


async def test_a_revoked_token_is_cut_off_while_connected_and_refused_after(
    team_db: str, pair: tuple[Instance, Instance]
) -> None:
    first, second = pair
    token = await chatter(team_db, "leaver", [ACCOUNT])
    console = Console()
    reader = RemoteEvents(second.ws_url, console.on_event, token=token, after=0, min_backoff=0.05)
    task = asyncio.create_task(reader.run())
    try:
        await reader.connected.wait()
        await first.deliver(delivery())
        await console.wait_for(1)
        assert (await first.call("GET", "/team/me", token)).status_code == 200
        conn = await asyncpg.connect(team_db)
        try:
            from console.team.auth import revoke_chatter

            await revoke_chatter(conn, "leaver")
        finally:
            await conn.close()
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(HubAuthError):
            await asyncio.wait_for(task, 10)
        assert loop.time() - started < 5  # "within seconds"
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, HubAuthError):
            await task
    assert (await first.call("GET", "/team/me", token)).status_code == 401
    assert (await second.call("GET", "/team/me", token)).status_code == 401


async def test_pruned_events_are_refused_to_a_console_that_asks_for_them(
    team_db: str, pair: tuple[Instance, Instance]
) -> None:
    first, second = pair
    for _ in range(3):
        await first.deliver(delivery())
    await first.team.pool.execute(
        "UPDATE events SET received_at = now() - interval '40 days' WHERE seq <= 2"
    )
    assert await first.team.log.prune(30) == 2
    assert await second.team.log.first_event_seq() == 3
    token = await chatter(team_db, "anna", [ACCOUNT])
    console = Console()
    reader = RemoteEvents(second.ws_url, console.on_event, token=token, after=0, min_backoff=0.05)
    async with reader:
        await console.wait_for(1)
    assert reader.missed == [(1, 2)] and console.seqs == [3]


async def test_serve_over_tls_with_its_own_certificate(team_db: str, tmp_path: Path) -> None:
    import ssl
    import subprocess

    from websockets.asyncio.client import connect

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    await asyncio.to_thread(
        subprocess.run,
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    trust = ssl.create_default_context(cafile=str(cert))
    token = await chatter(team_db, "anna", [ACCOUNT])
    async with (
        TeamServer.open(team_db, secrets=[SECRET]) as team,
        EmbeddedServer(team.app, ssl_certfile=str(cert), ssl_keyfile=str(key)) as server,
        httpx.AsyncClient(base_url=server.url, verify=trust, timeout=10) as client,
    ):
        assert server.url.startswith("https://")
        body = delivery()
        answer = await client.post(
            PATH, content=body, headers={"X-Fansly-Signature": sign(SECRET, body)}
        )
        assert answer.status_code == 200
        me = await client.get("/team/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["name"] == "anna"
        wss = server.url.replace("https://", "wss://") + "/events?after=0"
        async with connect(
            wss, ssl=trust, additional_headers={"Authorization": f"Bearer {token}"}
        ) as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert first["seq"] == 1
        with pytest.raises(httpx.HTTPError):  # plain HTTP is not served on that port
            async with httpx.AsyncClient(verify=False) as plain:
                await plain.get(server.url.replace("https://", "http://") + "/healthz")


async def test_consoles_of_an_instance_share_one_read_of_the_log_per_wake(
    team_db: str, pair: tuple[Instance, Instance]
) -> None:
    first, second = pair
    token = await chatter(team_db, "anna", [ACCOUNT])
    consoles = [Console() for _ in range(10)]
    async with contextlib.AsyncExitStack() as stack:
        readers = [
            await stack.enter_async_context(
                RemoteEvents(second.ws_url, c.on_event, token=token, after=0)
            )
            for c in consoles
        ]
        await asyncio.gather(*(r.connected.wait() for r in readers))
        reads = second.team.log.reads
        for i in range(20):
            assert (
                await first.deliver(delivery(data=message_object(content=f"r{i}")))
            ).status_code == 200
        for console in consoles:
            await console.wait_for(20)
        used = second.team.log.reads - reads
    # Before: each console read PostgreSQL after each wake (10 consoles x 20 events = 200+).
    assert used <= 45, used
    assert all(c.seqs == consoles[0].seqs for c in consoles) and len(consoles[0].seqs) == 20


async def test_an_entry_that_fails_does_not_take_its_batch_with_it(
    pair: tuple[Instance, Instance],
) -> None:
    from console.team.eventlog import TeamEntry

    first, _second = pair

    async def refuse(conn: asyncpg.Connection, seq: int) -> None:
        await conn.execute("SELECT 1 / 0")  # fails inside the log's transaction

    writer = first.team.writer
    # Appended in one go: they make one batch, the poison among them.
    answers = await asyncio.gather(
        writer.append(TeamEntry("note.added", ACCOUNT, None, apply=refuse)),
        *(writer.append(TeamEntry("presence", ACCOUNT, CHAT)) for _ in range(8)),
        return_exceptions=True,
    )
    assert isinstance(answers[0], asyncpg.DivisionByZeroError)
    assert all(isinstance(seq, int) for seq in answers[1:]), answers
    assert await first.team.pool.fetchval("SELECT count(*) FROM events") == 8
