"""Read a hub's ``/events`` websocket from another console (``fansly-console --events ws://…``).

The client reconnects with exponential backoff (with jitter, capped) and resumes from the last
seq it handed on, so a dropped connection loses nothing and repeats nothing. A refused token is
not retried: it raises :class:`HubAuthError` for the caller to show.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from console.events import Event
from console.webhooks.hub import CLOSE_PRUNED

log = logging.getLogger("console.webhooks.remote")

State = Literal["live", "reconnecting", "offline"]
OnEvent = Callable[[Any], Awaitable[None] | None]
OnState = Callable[[State, str], None]

CLOSE_UNAUTHORISED = 4401


class HubAuthError(Exception):
    """The hub refused the token; retrying will not help."""


def split_token(url: str) -> tuple[str, str | None]:
    """The URL without a ``token`` query parameter, and that token (kept out of logs)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    token = next((value for name, value in query if name == "token"), None)
    rest = [(name, value) for name, value in query if name not in ("token", "after")]
    return urlunsplit(parts._replace(query=urlencode(rest))), token


class RemoteEvents:
    """A resuming reader of a hub. Run :meth:`run` as a task; cancel it to stop."""

    def __init__(
        self,
        url: str,
        on_event: OnEvent,
        *,
        token: str | None = None,
        after: int | None = None,
        on_state: OnState | None = None,
        min_backoff: float = 0.25,
        max_backoff: float = 30.0,
        parse: Callable[[str | bytes], Any] = Event.model_validate_json,
    ) -> None:
        self.url, url_token = split_token(url)
        self._token = token or url_token
        if not self._token:
            raise ValueError("a hub token is required (in the URL as ?token= or passed in)")
        #: The seq of the last event handed to ``on_event``; a reconnect resumes after it.
        self.last_seq = after
        self._on_event = on_event
        #: Text → what ``on_event`` is given (a team server's stream also carries team
        #: notices, console/team/client.py); it must have a ``seq``.
        self._parse = parse
        self._on_state = on_state
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self.connections = 0
        self.connected = asyncio.Event()
        #: Seq ranges (first, last) the hub had pruned when this console asked for them: their
        #: events never reached it (the hub keeps its event log for a limited time).
        self.missed: list[tuple[int, int]] = []

    def __repr__(self) -> str:
        return f"RemoteEvents({self.url!r}, last_seq={self.last_seq})"

    def _state(self, state: State, detail: str = "") -> None:
        if self._on_state is not None:
            self._on_state(state, detail)

    def _connect_url(self) -> str:
        if self.last_seq is None:
            return self.url
        separator = "&" if urlsplit(self.url).query else "?"
        return f"{self.url}{separator}after={self.last_seq}"

    async def run(self) -> None:
        """Read events until cancelled; raises :class:`HubAuthError` on a refused token."""
        delay = self._min_backoff
        while True:
            try:
                async with connect(
                    self._connect_url(),
                    additional_headers={"Authorization": f"Bearer {self._token}"},
                    open_timeout=10,
                    max_size=8 * 1024 * 1024,
                ) as websocket:
                    self.connections += 1
                    self.connected.set()
                    self._state("live")
                    log.info("hub connected: %s (after=%s)", self.url, self.last_seq)
                    delay = self._min_backoff
                    async for text in websocket:
                        event = self._parse(text)
                        result = self._on_event(event)
                        if inspect.isawaitable(result):
                            await result
                        if event.seq is not None:
                            self.last_seq = event.seq
                    # The hub closed the stream: a refused token closes with 4401.
                    if websocket.close_code == CLOSE_UNAUTHORISED:
                        raise HubAuthError("the hub refused the token")
                    detail = "the hub closed the stream"
                    if websocket.close_code == CLOSE_PRUNED:
                        detail = self._skip_pruned(websocket.close_reason)
                        delay = self._min_backoff  # at once: nothing is wrong now
            except InvalidStatus as exc:
                if exc.response.status_code in (401, 403):
                    self._state("offline", "the hub refused the token")
                    raise HubAuthError("the hub refused the token") from None
                detail = f"hub answered HTTP {exc.response.status_code}"
            except ConnectionClosed as exc:
                if exc.rcvd is not None and exc.rcvd.code == CLOSE_UNAUTHORISED:
                    raise HubAuthError("the hub refused the token") from None
                detail = "connection closed"
                if exc.rcvd is not None and exc.rcvd.code == CLOSE_PRUNED:
                    detail = self._skip_pruned(exc.rcvd.reason)
                    delay = self._min_backoff
            except (OSError, TimeoutError) as exc:
                detail = type(exc).__name__
            self.connected.clear()
            self._state("reconnecting", detail)
            log.info("hub: %s; reconnecting in %.2fs", detail, delay)
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self._max_backoff)

    def _skip_pruned(self, reason: str | None) -> str:
        """The hub no longer holds the events after our seq: note the gap, say it once, and
        resume at the oldest event it keeps (what is gone must come from the gateway)."""
        try:
            first = int((reason or "").rsplit(" ", 1)[-1])
        except ValueError:
            first = 0
        after = self.last_seq or 0
        if first <= after + 1:  # not the answer we know: resume from now on
            self.last_seq = None
            first = after + 1
        else:
            self.last_seq = first - 1
        self.missed.append((after + 1, first - 1))
        detail = (
            f"the hub no longer keeps events {after + 1}-{first - 1} (older than its event "
            "retention): they are missing here; `fansly-console sync` fetches what they held"
        )
        log.warning("hub: %s", detail)
        return detail

    _task: asyncio.Task[None]

    async def __aenter__(self) -> RemoteEvents:
        self._task = asyncio.create_task(self.run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, HubAuthError):
            await self._task
