"""The client against a real sandbox served in the test's loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from console.api.client import FanslyClient
from console.sandbox.server import SandboxServer
from console.sandbox.world import CreatorState

UNLIMITED = 1_000_000


@dataclass
class Sandbox:
    """A running sandbox (console.sandbox.server) with the helpers these tests need."""

    server: SandboxServer

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def api_key(self) -> str:
        return self.server.api_key

    @property
    def gateway(self) -> Any:
        return self.server.gateway

    @property
    def creator(self) -> CreatorState:
        return next(iter(self.server.world.accounts.values()))

    def client(self, **options: Any) -> FanslyClient:
        options.setdefault("requests_per_minute", UNLIMITED)
        options.setdefault("retry_backoff", 0.01)
        return FanslyClient(self.base_url, self.api_key, **options)

    async def faults(self, *next_faults: dict[str, Any]) -> None:
        async with httpx.AsyncClient() as http:
            answer = await http.post(
                f"{self.server.url}/_sandbox/faults",
                json={"next": list(next_faults)},
                headers=self.server.headers,
            )
        assert answer.status_code == 200, answer.text


async def start_sandbox(**options: Any) -> AsyncIterator[Sandbox]:
    options.setdefault("requests_per_minute", UNLIMITED)
    async with SandboxServer(seed=7, size="small", **options) as server:
        yield Sandbox(server)
