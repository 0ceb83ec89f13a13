"""Helpers for the team-mode tests: a fresh database per test on the session's cluster.

The cluster itself is the ``pg_cluster`` session fixture (tests/conftest.py): one throwaway
PostgreSQL 15 per test process, started the way ``make demo-team`` starts it
(:mod:`console.team.cluster`). Each test gets a database of its own, so tests never see each
other's rows, and dropping it is the cleanup.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

from console.serving import EmbeddedServer
from console.team.auth import add_chatter
from console.team.client import TeamClient
from console.team.cluster import Cluster
from console.team.pg import open_database
from console.team.server import TeamServer
from console.webhooks.signature import sign
from support.webhooks import ACCOUNT, PATH, SECRET, message_object, snowflake

_names = itertools.count(1)


@asynccontextmanager
async def fresh_database(cluster: Cluster) -> AsyncIterator[str]:
    """The URL of a new, empty database, dropped afterwards."""
    name = f"t{os.getpid()}_{next(_names)}"
    admin = await asyncpg.connect(cluster.url())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield cluster.url(name)
    finally:
        admin = await asyncpg.connect(cluster.url())
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


OTHER_ACCOUNT = "fansly_acc_2002"


OTHER_CHAT = "200000000000000099"


def delivery(
    name: str = "message.received",
    data: dict[str, Any] | None = None,
    *,
    account: str = ACCOUNT,
    key: str | None = None,
) -> bytes:
    body = {
        "event": name,
        "idempotencyKey": key or f"evt_{snowflake(1)}",
        "accountId": account,
        "timestamp": "2026-09-22T12:00:00.000Z",
        "data": data if data is not None else message_object(),
    }
    return json.dumps(body).encode()


@dataclass
class Instance:
    team: TeamServer
    server: EmbeddedServer
    client: httpx.AsyncClient

    @property
    def ws_url(self) -> str:
        return self.server.url.replace("http://", "ws://") + "/events"

    async def deliver(self, body: bytes) -> httpx.Response:
        return await self.client.post(
            PATH, content=body, headers={"X-Fansly-Signature": sign(SECRET, body)}
        )

    async def call(self, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.client.request(method, path, headers=headers, **kwargs)


@contextlib.asynccontextmanager
async def instance(
    url: str, *, secrets: tuple[str, ...] = (SECRET,), **options: Any
) -> AsyncIterator[Instance]:
    async with (
        TeamServer.open(url, secrets=secrets, **options) as team,
        EmbeddedServer(team.app) as server,
        httpx.AsyncClient(base_url=server.url, timeout=20) as client,
    ):
        yield Instance(team, server, client)


async def chatter(url: str, name: str, accounts: list[str], *, admin: bool = False) -> str:
    await open_database(url)
    conn = await asyncpg.connect(url)
    try:
        return await add_chatter(conn, name, accounts, admin=admin)
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def clients(one: Instance, *tokens: str) -> AsyncIterator[list[TeamClient]]:
    """A team client (a console's link to the server) per chatter token, on ``one``."""
    made = [TeamClient(one.server.url, token) for token in tokens]
    try:
        yield made
    finally:
        for client in made:
            await client.aclose()
