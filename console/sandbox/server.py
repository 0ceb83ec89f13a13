"""The sandbox on a real socket: world + app + simulator, in this loop or in a thread.

async with SandboxServer(size="small") as sandbox:       # in the current loop
    client = FanslyClient(sandbox.base_url, sandbox.api_key)

sandbox = SandboxServer(size="small").start_thread()      # sync callers, fixtures
...
sandbox.stop_thread()
"""

from __future__ import annotations

import secrets
from typing import Any

from console.sandbox.app import BASE_PATH, Gateway, create_app
from console.sandbox.simulator import Simulator
from console.sandbox.world import World, build_world
from console.serving import EmbeddedServer


class SandboxServer:
    """A running gateway emulator. Secrets are random unless given, and never in the repr."""

    def __init__(
        self,
        *,
        seed: int = 7,
        size: str = "small",
        world: World | None = None,
        reference_time: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        webhook_secret: str | None = None,
        webhook_url: str | None = None,
        simulate_per_minute: float = 0.0,
        requests_per_minute: int = 600,
        credits: int | None = None,
        **simulator_options: Any,
    ) -> None:
        if world is None:
            world = build_world(seed, size, reference_time=reference_time)
        self.world = world
        self.api_key = api_key or f"sbx_{secrets.token_urlsafe(24)}"
        self.webhook_secret = webhook_secret or f"whsec_{secrets.token_urlsafe(24)}"
        self.simulator = Simulator(
            self.world,
            webhook_secret=self.webhook_secret,
            webhook_url=webhook_url,
            rate_per_minute=simulate_per_minute,
            **simulator_options,
        )
        self.app = create_app(
            self.world,
            api_key=self.api_key,
            requests_per_minute=requests_per_minute,
            credits=credits,
            webhook=self.simulator,
        )
        self.server = EmbeddedServer(self.app, host, port)

    def __repr__(self) -> str:
        return f"SandboxServer({self.base_url!r}, size={self.world.size!r})"

    @property
    def url(self) -> str:
        """The server root (``/healthz``, ``/_sandbox/*``)."""
        return self.server.url

    @property
    def base_url(self) -> str:
        """What a client needs as its gateway base URL (``…/api/fansly``)."""
        return self.server.url + BASE_PATH

    @property
    def gateway(self) -> Gateway:
        gateway: Gateway = self.app.state.gateway
        return gateway

    @property
    def headers(self) -> dict[str, str]:
        return {"x-api-key": self.api_key}

    async def __aenter__(self) -> SandboxServer:
        await self.server.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.server.stop()

    def start_thread(self) -> SandboxServer:
        self.server.start_thread()
        return self

    def stop_thread(self) -> None:
        self.server.stop_thread()
