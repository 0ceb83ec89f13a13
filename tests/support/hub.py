"""The events hub from the outside: a console's websocket, a fan's webhook to the hub."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from console.events import Event
from console.sandbox.server import SandboxServer
from console.sandbox.simulator import sign_delivery
from console.serving import EmbeddedServer
from console.tui.app import ConsoleApp
from console.webhooks.app import DEFAULT_PATH

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
    creator = sandbox.world.accounts[account_id]
    chat = creator.chats[chat_id]
    message = sandbox.world.add_message(
        creator, chat, sender_id=chat.fan_id, content="via the [b]hub[/b]"
    )
    event = {
        "event": "message.received",
        "idempotencyKey": f"evt_hub_{message['id']}",
        "accountId": account_id,
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "data": message,
    }
    body, headers = sign_delivery(event, sandbox.webhook_secret)
    async with httpx.AsyncClient() as client:
        answer = await client.post(hub.url + DEFAULT_PATH, content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return str(message["id"])
