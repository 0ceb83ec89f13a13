"""The events hub from the outside: a console's websocket, a fan's webhook to the hub."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from console.events import Event
from console.sandbox.server import SandboxServer
from console.serving import EmbeddedServer
from console.tui.app import ConsoleApp
from support.webhooks import fan_writes

TOKEN = "hub-token-0123456789"


@dataclass
class Console:
    """A remote console: what it received, and a way to wait for more."""

    events: list[Event] = field(default_factory=list)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def on_event(self, event: Event) -> None:
        async with self.changed:
            self.events.append(event)
            self.changed.notify_all()

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(10), self.changed:
            await self.changed.wait_for(lambda: len(self.events) >= count)

    @property
    def seqs(self) -> list[int | None]:
        return [event.seq for event in self.events]


async def post_message(
    hub: EmbeddedServer, sandbox: SandboxServer, app: ConsoleApp | tuple[str, str]
) -> str:
    """A fan writes in the open chat (or in an (account, chat) given while no console runs);
    the gateway's signed webhook goes to the hub."""
    account_id, chat_id = (
        (app.chats_screen.account_id, app.chats_screen.chat_id)
        if isinstance(app, ConsoleApp)
        else app
    )
    message = await fan_writes(hub.url, sandbox, account_id, chat_id, "via the [b]hub[/b]")
    return str(message["id"])
