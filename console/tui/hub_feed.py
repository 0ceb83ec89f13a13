"""Live events from a hub (``fansly-console listen``) instead of the embedded listener.

``fansly-console --events ws://host:port/events`` reads the hub's websocket with
:class:`console.webhooks.remote.RemoteEvents` (reconnects with backoff, resumes after the last
seq) and hands every event to the workspace's ``apply_event``, so the cache and the screen
change exactly as they do for a delivery to the embedded listener. The hub's connection state
is reported through ``on_state`` (the app shows it in the status line).

No Textual here: the app is told through a plain callback, and posts its own message.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from console import paths
from console.changes import (
    ChatChanged,
    ConnectionChanged,
    ConnectionState,
    EventApplied,
    FanChanged,
    MessageAdded,
    MessageChanged,
    Update,
)
from console.events import Event
from console.tui.text import utcnow

log = logging.getLogger("console.tui.hub_feed")

#: Where a hub serves its websocket (``listen`` prints ``ws://host:port/events``).
EVENTS_PATH = "/events"


class HubAddressError(ValueError):
    """``--events`` was not a ``ws://`` or ``wss://`` address."""


def events_url(given: str) -> str:
    """The hub's websocket address from what the chatter typed (``/events`` added when the
    path is empty); raises :class:`HubAddressError` for anything but ws:// or wss://."""
    parts = urlsplit(given.strip())
    if parts.scheme not in ("ws", "wss") or not parts.netloc:
        raise HubAddressError(
            f"--events wants the hub's websocket address, like ws://127.0.0.1:8765{EVENTS_PATH} "
            "(`fansly-console listen` prints it)"
        )
    if parts.path in ("", "/"):
        parts = parts._replace(path=EVENTS_PATH)
    return parts.geturl()


def updates_for(event: Event) -> list[Update]:
    """What an event changed, for one the cache already holds: a hub that shares this cache
    file (``listen`` on the same machine and profile) stored it first, so the store calls it
    a duplicate and publishes nothing, yet the screen has not seen it."""
    updates: list[Update] = []
    account = event.account_id
    if event.chat_id:
        if event.message is not None:
            updates.append(MessageAdded(account, event.chat_id, event.message.id))
        if event.reaction is not None:
            updates.append(MessageChanged(account, event.chat_id, event.reaction.message_id))
        updates.append(ChatChanged(account, event.chat_id))
    if event.fan_id:
        updates.append(FanChanged(account, event.fan_id))
    updates.append(EventApplied(event))
    return updates


class HubPosition:
    """Where this console stopped reading one hub: the seq of the last event it applied, in a
    small file (one per cache and hub address), so that a console closed for a while is sent,
    at its next start, everything the hub logged meanwhile. Saved at most once a second and on
    exit: after a crash a few events come again, and the cache drops them by their
    idempotency key. A missing or unreadable file means "from now on", as before."""

    def __init__(self, directory: Path, cache: Path, url: str) -> None:
        from console.webhooks.remote import split_token

        self.url = split_token(url)[0]  # never the token, in the file or in its name
        digest = hashlib.sha256(f"{cache.resolve()}\n{self.url}".encode()).hexdigest()[:16]
        self.path = directory / f"hub-{digest}.json"

    def load(self) -> int | None:
        paths.tighten(self.path)  # an older version's file was 0644
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        seq = saved.get("seq") if isinstance(saved, dict) else None
        if saved.get("url") != self.url or not isinstance(seq, int) or seq < 0:
            return None
        return seq

    def save(self, seq: int) -> None:
        try:
            # Private like the cache beside it (0600; it names the hub's address).
            paths.write_private(self.path, json.dumps({"url": self.url, "seq": seq}))
        except OSError as exc:  # the cache still dedups; only the catch-up at start is lost
            log.warning("could not save the hub position: %s", exc.strerror)


#: Seconds between two saves of the hub position while events flow.
POSITION_SAVE_INTERVAL = 1.0


class HubFeed:
    """The hub's events applied to the cache: an app service (entered on mount, after the
    workspace). ``apply_event`` is the workspace's; ``publish`` its update bus's."""

    def __init__(
        self,
        url: str,
        apply_event: Callable[[Event], Awaitable[int | None]],
        publish: Callable[[Update], None],
        *,
        token: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        min_backoff: float = 0.25,
        max_backoff: float = 30.0,
        position: HubPosition | None = None,
    ) -> None:
        from console.webhooks.remote import RemoteEvents

        self._position = position
        self._saved_seq = position.load() if position is not None else None
        self._applied_seq = self._saved_seq
        self._saved_at = 0.0
        self._apply_event = apply_event
        self._publish = publish
        self.clock = clock
        #: Told every change of the hub connection (the app sets it).
        self.on_state: Callable[[ConnectionChanged], None] | None = None
        self.remote = RemoteEvents(
            url,
            self._apply,
            token=token,
            after=self._saved_seq,
            on_state=self._changed,
            min_backoff=min_backoff,
            max_backoff=max_backoff,
        )
        #: The address without the token, safe to show.
        self.url = self.remote.url
        self.state = ConnectionChanged("reconnecting", clock(), f"connecting to {self.url}")
        self.applied = 0
        #: Events the cache held already (a hub sharing the cache file stored them first).
        self.already_cached = 0
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"HubFeed({self.url!r}, state={self.state.state!r})"

    async def _apply(self, event: Event) -> None:
        seq = await self._apply_event(event)
        if seq is None:
            self.already_cached += 1
            for update in updates_for(event):
                self._publish(update)
        self.applied += 1
        if event.seq is not None:
            self._applied_seq = event.seq
        if time.monotonic() - self._saved_at >= POSITION_SAVE_INTERVAL:
            self._save_position()

    def _save_position(self) -> None:
        seq = self._applied_seq
        if self._position is None or seq is None or seq == self._saved_seq:
            return
        self._position.save(seq)
        self._saved_seq = seq
        self._saved_at = time.monotonic()

    def _changed(self, state: ConnectionState, detail: str = "") -> None:
        if state == self.state.state and detail == self.state.detail:
            return
        since = self.state.since if state == self.state.state else self.clock()
        self.state = ConnectionChanged(state, since, detail)
        if self.on_state is not None:
            self.on_state(self.state)

    async def _run(self) -> None:
        from console.webhooks.remote import HubAuthError

        try:
            await self.remote.run()
        except HubAuthError as exc:
            # Retrying cannot help: say so once and stay offline.
            self._changed("offline", str(exc))
        except Exception as exc:  # a malformed event must not end the console
            log.exception("hub feed stopped")
            self._changed("offline", f"stopped: {type(exc).__name__}")

    async def __aenter__(self) -> HubFeed:
        if self.on_state is not None:
            self.on_state(self.state)
        self._task = asyncio.create_task(self._run(), name="hub-feed")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._save_position()
