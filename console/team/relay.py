"""A console's outbox in team mode: its queued actions go to the team server, not the gateway.

The console keeps its local outbox exactly as in solo mode (written first, so a closed laptop
or a lost server loses nothing; shown as pending at once). :class:`TeamOutboxSender` is the
solo sender (:class:`console.sync.outbox.OutboxSender`: order per chat, retries with backoff,
failures shown with their reason) with one difference: an item is delivered by asking the
team server to send it and waiting until its team outbox did (``wait``), so the console shows
it sent with the gateway's own message, once.

The double-reply guard: the console asks first at the keyboard, before it queues a reply
(console/tui/team_ui.py asks the server's guard). A "yes" there is recorded in
:class:`SendAnyway`, and the next send into that chat goes with the confirmation. A send the
server still answers "ask first" (two chatters pressed Enter at the same moment: the question
at the keyboard passed for both, the server's per-chat lock decided) shows as failed with their
names; ``on_ask`` tells the console, which turns it into the same question; retrying it is the
chatter's "send anyway", and goes with the confirmation.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import httpx

from console.api.errors import GatewayUnreachable, InvalidRequestError
from console.api.models import Message
from console.changes import Update
from console.store import Store
from console.store.rows import OutboxItem, OutboxKind
from console.sync.connection import Connection
from console.sync.outbox import OutboxSender
from console.team.client import TeamAuthError, TeamClient, TeamNotSent, TeamRefused

#: Seconds between two looks at the local outbox when nothing woke the sender.
POLL = 0.3


def guard_question(others: list[dict[str, Any]]) -> str:
    """What the chatter reads when the guard asks first (names are the team's, plain text)."""
    said = []
    for other in others:
        name = str(other.get("name", "a teammate"))[:40]
        if other.get("typing"):
            said.append(f"{name} is typing here")
        else:
            said.append(f"{name} replied {other.get('sent_seconds_ago', 0)} s ago")
    return "; ".join(said) + ": retry to send anyway"


#: How long a "send anyway" answered at the keyboard waits for its send (it is queued at once).
SEND_ANYWAY_SECONDS = 60.0

#: Told a send the server answered "ask first" once it shows as failed: (item, others).
OnAsk = Callable[[OutboxItem, list[dict[str, Any]]], None]


class SendAnyway:
    """Chats where the chatter answered the guard's question "yes" at the keyboard: the next
    send into each goes with the server's confirmation, once."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._chats: dict[str, float] = {}

    def allow(self, chat_id: str) -> None:
        self._chats[chat_id] = self._clock() + SEND_ANYWAY_SECONDS

    def take(self, chat_id: str) -> bool:
        until = self._chats.pop(chat_id, None)
        return until is not None and until >= self._clock()


class TeamOutboxSender(OutboxSender):
    def __init__(
        self,
        account_id: str,
        store: Store,
        team: TeamClient,
        connection: Connection,
        publish: Callable[[Update], None],
        *,
        send_anyway: SendAnyway | None = None,
        on_ask: OnAsk | None = None,
    ) -> None:
        super().__init__(account_id, store, None, connection, publish)  # type: ignore[arg-type]
        self.team = team
        #: Sends the guard asked about: a retry of one is the chatter's confirmation.
        self.asked: set[str] = set()
        self.send_anyway = send_anyway or SendAnyway()
        self.on_ask = on_ask
        self._others: dict[str, list[dict[str, Any]]] = {}

    async def _perform(self, item: OutboxItem) -> Message | None:
        try:
            if item.kind is OutboxKind.SEND:
                payload = item.payload
                result = await self.team.send(
                    item.chat_id,
                    str(payload.get("content", "")),
                    media_ids=[str(m) for m in payload.get("media_ids") or []],
                    client_id=item.client_id,
                    confirm=item.client_id in self.asked or self.send_anyway.take(item.chat_id),
                    wait=True,
                    in_reply_to=payload.get("in_reply_to") or None,
                )
                if not result.queued:
                    self.asked.add(item.client_id)
                    self._others[item.client_id] = result.others
                    raise InvalidRequestError(guard_question(result.others), route="team send")
                return Message.model_validate(result.message) if result.message else None
            await self.team.action(
                item.chat_id, item.kind.value, item.payload, client_id=item.client_id, wait=True
            )
            return None
        except (TeamRefused, TeamNotSent) as exc:
            raise InvalidRequestError(str(exc)[:300], route="team") from None
        except TeamAuthError:
            raise InvalidRequestError("the team server refused your token", route="team") from None
        except httpx.HTTPError as exc:
            raise GatewayUnreachable(f"the team server: {type(exc).__name__}") from None

    async def _failed(self, item: OutboxItem, exc: Any) -> None:
        await super()._failed(item, exc)
        others = self._others.pop(item.client_id, None)
        if others is not None and self.on_ask is not None:
            self.on_ask(item, others)  # failed in the cache by now: a retry finds it so

    async def _sleep_until_due(self) -> None:
        # Items are enqueued by the console without waking this sender (its workspace is the
        # offline one): look again shortly.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), POLL)


class TeamRelay:
    """The console's team-mode senders, one per account (an app service)."""

    def __init__(
        self,
        store: Store,
        url: str,
        token: str,
        accounts: list[str],
        publish: Callable[[Update], None],
        *,
        send_anyway: SendAnyway | None = None,
        on_ask: OnAsk | None = None,
    ) -> None:
        self.team = team = TeamClient(url, token)
        self.connection = Connection("team server", lambda change: publish(change), team.me)
        self.senders = [
            TeamOutboxSender(
                account,
                store,
                team,
                self.connection,
                publish,
                send_anyway=send_anyway,
                on_ask=on_ask,
            )
            for account in accounts
        ]
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> TeamRelay:
        self._tasks = [asyncio.create_task(sender.run()) for sender in self.senders]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.team.aclose()
