"""The team server: one ``serve`` instance's parts, over the shared PostgreSQL database.

``async with TeamServer.open(url, secrets=…) as team: EmbeddedServer(team.app)``. The app is
the listener's own (:func:`console.webhooks.app.create_listener_app`: the same intake, verify →
normalise → commit → answer, and the same hub), with the team's log as the hub's event log and
sink, chatters' tokens as the hub's access, and the team API (:mod:`console.team.routes`)
beside it. Nothing lives only in this instance's memory: another instance behind the same load
balancer serves the same consoles and deliveries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import asyncpg
from starlette.applications import Starlette

from console.api.client import FanslyClient
from console.api.credits import CreditMeter
from console.team.auth import Chatters
from console.team.credits import TeamCredits
from console.team.eventlog import LogFollower, LogWriter, PgEventLog
from console.team.pg import create_pool, open_database
from console.webhooks.app import DEFAULT_PATH, create_listener_app
from console.webhooks.hub import EventHub
from console.webhooks.intake import local_intake

if TYPE_CHECKING:
    from console.team.outbox import TeamOutbox

log = logging.getLogger("console.team")

#: Seconds another chatter's send (or typing) into a chat makes a send there ask first.
DEFAULT_GUARD_SECONDS = 120


@dataclass
class TeamServer:
    url: str
    pool: asyncpg.Pool
    log: PgEventLog
    writer: LogWriter
    hub: EventHub
    chatters: Chatters
    follower: LogFollower
    app: Starlette
    guard_seconds: float = DEFAULT_GUARD_SECONDS
    #: The gateway client (None: no gateway; the team outbox then waits).
    client: FanslyClient | None = None
    outbox: TeamOutbox | None = None
    #: ``[budget] monthly_credits`` of the server (None: no cap) and the reserve kept for
    #: chatters' actions: the caps of the client's meter, across every instance.
    monthly_credits: int | None = None
    reserve_credits: int = 0
    #: The client's meter, written to the team's database (None: no gateway client).
    credits: TeamCredits | None = None

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls,
        url: str,
        *,
        secrets: Sequence[str],
        path: str = DEFAULT_PATH,
        max_body_bytes: int = 1024 * 1024,
        insecure_no_signature: bool = False,
        guard_seconds: float = DEFAULT_GUARD_SECONDS,
        client: FanslyClient | None = None,
        drain_outbox: bool = True,
        requests_per_minute: int = 600,
        pool_size: int = 10,
        event_retention_days: float = 30.0,
        monthly_credits: int | None = None,
        reserve_credits: int = 0,
    ) -> AsyncIterator[TeamServer]:
        from console.team.outbox import TeamOutbox
        from console.team.routes import team_routes

        await open_database(url)
        pool = await create_pool(url, max_size=pool_size)
        event_log = PgEventLog(pool)
        writer = LogWriter(pool, on_commit=event_log.invalidate)
        chatters = Chatters(pool)
        outbox: TeamOutbox | None = None
        try:
            await event_log.start()
            await chatters.start()
            hub = EventHub(event_log, authenticate=chatters.access)
            woken: list[Callable[[], None]] = [hub.notify]

            def wake_all() -> None:
                for wake in woken:
                    wake()

            follower = LogFollower(url, event_log, wake_all)
            await follower.start()
            server = cls(
                url=url,
                pool=pool,
                log=event_log,
                writer=writer,
                hub=hub,
                chatters=chatters,
                follower=follower,
                app=None,  # type: ignore[arg-type]  # set just below: the routes need the server
                guard_seconds=guard_seconds,
                client=client,
                monthly_credits=monthly_credits,
                reserve_credits=reserve_credits if monthly_credits else 0,
            )
            server.app = create_listener_app(
                intake=local_intake(writer.append),
                secrets=secrets,
                path=path,
                max_body_bytes=max_body_bytes,
                insecure_no_signature=insecure_no_signature,
                hub=hub,
                extra_routes=team_routes(server),
            )
            async with contextlib.AsyncExitStack() as metering:
                if client is not None:
                    # The server's calls are the team's: counted, and capped across instances.
                    client.meter = CreditMeter(
                        budget=monthly_credits, reserve=server.reserve_credits
                    )
                    server.credits = await metering.enter_async_context(
                        TeamCredits(pool, client.meter)
                    )
                if client is not None and drain_outbox:
                    outbox = TeamOutbox(server, requests_per_minute=requests_per_minute)
                    woken.append(outbox.wake)  # a send queued on any instance wakes this one
                    outbox.start()
                server.outbox = outbox
                pruner = asyncio.create_task(_prune_forever(event_log, event_retention_days))
                try:
                    yield server
                finally:
                    pruner.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await pruner
                    if outbox is not None:
                        await outbox.close()
                    await follower.close()
        finally:
            await writer.close()
            await chatters.close()
            await pool.close()


#: Seconds between two prunes of the event log (every instance prunes; it is idempotent).
PRUNE_EVERY = 3600.0


async def _prune_forever(event_log: PgEventLog, days: float) -> None:
    """Keep the event log to ``days`` (``[webhooks] event_retention_days``): a console asking
    for older events is told they were pruned, as with ``listen``."""
    while True:
        try:
            gone = await event_log.prune(days)
            if gone:
                log.info("team: pruned %d events older than %g days", gone, days)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("team: cannot prune the event log (%s)", type(exc).__name__)
        await asyncio.sleep(PRUNE_EVERY)
