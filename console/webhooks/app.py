"""The webhook listener as a Starlette app: verify → normalise → record + apply → answer.

``POST <path>``: the raw body is read with a size cap (413 past it, the rest unread), its
signature checked in constant time before anything parses it (401), then handed to the intake
(:mod:`console.webhooks.intake`), which parses and normalises it (400 with a short reason) and
records the idempotency key and applies the event in one transaction: on this loop through a
sink, or in the ingest worker's process. Only then is the answer sent (200, also for a
duplicate, which changes nothing). A failure to store answers 503 so the gateway retries. Hub
fan-out and the ``on_applied`` hook run after the answer.

``GET /healthz`` answers ``{"ok": true}``. ``/events`` (when a hub is given) is the websocket
remote consoles read; see :mod:`console.webhooks.hub`.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from console.events import Event
from console.webhooks.hub import CLOSE_PRUNED, EventHub, EventSink, always_valid
from console.webhooks.intake import Intake, Outcome, local_intake
from console.webhooks.normalise import IDEMPOTENCY_HEADERS
from console.webhooks.signature import (
    SIGNATURE_HEADERS,
    keyed_macs,
    signature_from,
    verify_macs,
)

log = logging.getLogger("console.webhooks")

DEFAULT_PATH = "/webhooks/fansly"
DEFAULT_MAX_BODY = 1024 * 1024
#: Close code for a refused hub token (4000–4999 are the application's; 4401 reads as 401).
CLOSE_UNAUTHORISED = 4401
CLOSE_BAD_REQUEST = 4400

OnApplied = Callable[[Event], Awaitable[None] | None]


#: The headers the delivery path reads; everything else is never decoded.
_WANTED_HEADERS = frozenset(
    name.encode("latin-1") for name in ("content-length", *SIGNATURE_HEADERS, *IDEMPOTENCY_HEADERS)
)
_JSON_HEADER = (b"content-type", b"application/json")
_OK_PREFIX = b'{"ok":true,"duplicate":false,"seq":'
_DUPLICATE = b'{"ok":true,"duplicate":true,"seq":null}'


def _key_prefix(key: str) -> str:
    return key[:16] + ("…" if len(key) > 16 else "")


def _route_path(scope: Scope) -> str:
    """The path below any mount point (what Starlette's router matches on)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


async def _send_json(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [_JSON_HEADER, (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _Delivery:
    """``POST <path>`` as a plain ASGI callable: the hot path of the listener.

    Starlette's Request/Response/BackgroundTask machinery cost more than verify + parse +
    normalise together (bench/README.md, "webhooks"), so this path reads the ASGI messages
    itself; the order of the guarantees is the same: capped read → signature → intake (parse,
    normalise, committed) → answer → slow work.
    """

    def __init__(
        self,
        intake: Intake,
        *,
        secrets: Sequence[str],
        max_body_bytes: int,
        insecure_no_signature: bool,
        hub: EventHub | None,
        on_applied: OnApplied | None,
    ) -> None:
        self.intake = intake
        self.macs = keyed_macs([secret.encode("utf-8") for secret in secrets])
        self.cap = max_body_bytes
        self.insecure = insecure_no_signature
        self.hub = hub
        self.on_applied = on_applied

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            # The first occurrence wins, as with Starlette's Headers.get.
            if name in _WANTED_HEADERS and name.decode("latin-1") not in headers:
                headers[name.decode("latin-1")] = value.decode("latin-1")
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.cap:
            # Answered without reading the rest of the body.
            return await self._refuse(send, 413, f"body larger than {self.cap} bytes", started)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away: nobody to answer, nothing stored
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.cap:
                return await self._refuse(send, 413, f"body larger than {self.cap} bytes", started)
            if chunk:
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)

        signature = signature_from(headers)
        if signature is None:
            if not self.insecure:
                return await self._refuse(send, 401, "missing signature", started)
        elif self.macs and not verify_macs(body, signature, self.macs):
            return await self._refuse(send, 401, "bad signature", started)
        want_event = self.on_applied is not None or (self.hub is not None and self.hub.wants_events)
        outcome = await self.intake(body, headers, want_event)
        if outcome.status != 200:
            return await self._refuse(send, outcome.status, outcome.reason, started, outcome)

        # Committed: only now is the 2xx sent.
        seq = outcome.seq
        if seq is None:
            await _send_json(send, 200, _DUPLICATE)
        else:
            await _send_json(send, 200, _OK_PREFIX + b"%d}" % seq)
        if log.isEnabledFor(logging.INFO):
            log.info(
                "delivery %s key=%s status=200%s%s %.1fms",
                outcome.name,
                _key_prefix(outcome.key),
                " duplicate" if seq is None else f" seq={seq}",
                "" if outcome.shown or seq is None else " (unknown type: recorded, not shown)",
                (time.perf_counter() - started) * 1000,
            )
        if seq is None or not outcome.shown:
            return
        # After the answer is on the wire, as a Starlette BackgroundTask would run it. The
        # event itself is needed only by in-process subscribers and ``on_applied``: remote
        # consoles read it from the log (an outcome from the ingest worker parses it lazily).
        if self.hub is not None:
            if want_event and self.hub.wants_events:
                self.hub.publish(outcome.event)
            else:
                self.hub.notify()
        if self.on_applied is not None:
            try:
                result = self.on_applied(outcome.event)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("on_applied failed for %s", outcome.name)

    async def _refuse(
        self, send: Send, status: int, reason: str, started: float, outcome: Outcome | None = None
    ) -> None:
        await _send_json(
            send, status, json.dumps({"ok": False, "error": reason}, separators=(",", ":")).encode()
        )
        if not log.isEnabledFor(logging.INFO):
            return
        elapsed_ms = (time.perf_counter() - started) * 1000
        if outcome is not None and outcome.name:
            log.info(
                "delivery %s key=%s status=%d %.1fms",
                outcome.name,
                _key_prefix(outcome.key),
                status,
                elapsed_ms,
            )
        else:
            log.info("delivery refused status=%d (%s) %.1fms", status, reason, elapsed_ms)


class ListenerApp(Starlette):
    """Starlette for every route but the webhook POST, which skips its routing and middleware."""

    def __init__(self, delivery: _Delivery, path: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._delivery = delivery
        self._path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and _route_path(scope) == self._path
        ):
            await self._delivery(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_listener_app(
    sink: EventSink | None = None,
    *,
    intake: Intake | None = None,
    secrets: Sequence[str],
    path: str = DEFAULT_PATH,
    max_body_bytes: int = DEFAULT_MAX_BODY,
    insecure_no_signature: bool = False,
    hub: EventHub | None = None,
    on_applied: OnApplied | None = None,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """The listener's ASGI app.

    Give either ``sink`` (records + applies an event on this loop and returns its seq) or
    ``intake`` (takes the verified bytes, e.g. ``IngestWorker.intake``). ``extra_routes``:
    more routes beside the webhook, ``/healthz`` and ``/events`` (the team server's API).
    """
    if (sink is None) == (intake is None):
        raise TypeError("give exactly one of sink and intake")
    if intake is None:
        assert sink is not None
        intake = local_intake(sink)
    keys = [secret for secret in secrets if secret]
    if not keys and not insecure_no_signature:
        raise ValueError("a webhook secret is required (or insecure_no_signature=True)")
    delivery = _Delivery(
        intake,
        secrets=keys,
        max_body_bytes=max_body_bytes,
        insecure_no_signature=insecure_no_signature,
        hub=hub,
        on_applied=on_applied,
    )

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True})

    routes: list[BaseRoute] = [
        # Reached only through Starlette's router for the other methods (405); a POST goes
        # straight to the delivery path in ListenerApp.__call__.
        Route(path, delivery, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    if hub is not None:
        routes.append(WebSocketRoute("/events", _events_endpoint(hub)))
    routes.extend(extra_routes)
    app = ListenerApp(delivery, path, routes=routes)
    app.state.hub = hub
    return app


def _bearer(websocket: WebSocket) -> str | None:
    token = websocket.query_params.get("token")
    if token:
        return token
    header = websocket.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


#: Seconds between two checks that a connected console's token still holds (team mode: a
#: revoked chatter is cut off within this).
ACCESS_RECHECK = 1.0


def _events_endpoint(hub: EventHub) -> Callable[[WebSocket], Awaitable[None]]:
    async def events(websocket: WebSocket) -> None:
        access = await hub.authenticate(_bearer(websocket))
        if access is None:
            # Closing before accepting refuses the handshake: the client sees HTTP 403.
            log.info("hub: refused a console (bad or missing token)")
            await websocket.close(code=CLOSE_UNAUTHORISED)
            return
        after_text = websocket.query_params.get("after")
        after: int | None = None
        if after_text is not None:
            if not after_text.isdigit():
                await websocket.close(code=CLOSE_BAD_REQUEST)
                return
            after = int(after_text)
        else:
            # "From now on" is fixed before the handshake completes: an event the console
            # could have caused after connecting is never taken for history.
            after = await hub.current_seq()
        await websocket.accept()
        first = await hub.pruned_after(after)
        if first is not None:
            # Events it has not seen were pruned (retention): say so, and where it may resume.
            log.info("hub: console asked for events after %s; the oldest kept is %s", after, first)
            await websocket.close(code=CLOSE_PRUNED, reason=f"pruned: oldest kept {first}")
            return
        log.info("hub: console connected (after=%s)", after)

        async def pump() -> None:
            # One event at a time: the send waits while the socket's buffer is full, and
            # the stream reads its next page only when asked (see hub.py).
            async for text in hub.stream(after, access):
                await websocket.send_text(text)

        async def drain() -> None:
            # The client sends nothing; reading is how a disconnect is noticed.
            with contextlib.suppress(WebSocketDisconnect):
                while True:
                    message = await websocket.receive()
                    if message["type"] == "websocket.disconnect":
                        return

        revoked = False

        async def watch() -> None:
            # A token revoked while its console is connected ends the stream (4401).
            nonlocal revoked
            while True:
                await asyncio.sleep(ACCESS_RECHECK)
                if not access.valid():
                    revoked = True
                    return

        tasks = [asyncio.create_task(pump()), asyncio.create_task(drain())]
        if access.valid is not always_valid:
            tasks.append(asyncio.create_task(watch()))
        try:
            done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                log.info("hub: console stream ended: %s", type(task.exception()).__name__)
        if revoked:
            log.info("hub: %s's access was revoked: stream closed", access.name)
            with contextlib.suppress(Exception):
                await websocket.close(code=CLOSE_UNAUTHORISED, reason="access revoked")
        with contextlib.suppress(Exception):
            await websocket.close()
        log.info("hub: console disconnected")

    return events
