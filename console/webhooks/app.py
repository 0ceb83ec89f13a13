"""The webhook listener as a Starlette app: verify → normalise → record + apply → answer.

``POST <path>``: the raw body is read with a size cap (413 past it, the rest unread), its
signature checked in constant time before anything parses it (401), then parsed and normalised
(400 with a short reason), then handed to the sink, which records the idempotency key and
applies the event in one transaction. Only then is the answer sent (200, also for a duplicate,
which changes nothing). A sink failure answers 503 so the gateway retries. Hub fan-out and the
``on_applied`` hook run after the answer.

``GET /healthz`` answers ``{"ok": true}``. ``/events`` (when a hub is given) is the websocket
remote consoles read; see :mod:`console.webhooks.hub`.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from console.events import Event, EventType
from console.webhooks.hub import EventHub, EventSink
from console.webhooks.normalise import PayloadError, normalise, parse_body
from console.webhooks.signature import signature_from, verify

log = logging.getLogger("console.webhooks")

DEFAULT_PATH = "/webhooks/fansly"
DEFAULT_MAX_BODY = 1024 * 1024
#: Close code for a refused hub token (4000–4999 are the application's; 4401 reads as 401).
CLOSE_UNAUTHORISED = 4401
CLOSE_BAD_REQUEST = 4400

OnApplied = Callable[[Event], Awaitable[None] | None]


class _TooLarge(Exception):
    pass


async def _read_capped(request: Request, cap: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _key_prefix(key: str) -> str:
    return key[:16] + ("…" if len(key) > 16 else "")


def _answer(status: int, reason: str, started: float, event: Event | None = None) -> JSONResponse:
    elapsed_ms = (time.perf_counter() - started) * 1000
    if event is not None:
        log.info(
            "delivery %s key=%s status=%d %.1fms",
            event.name,
            _key_prefix(event.idempotency_key),
            status,
            elapsed_ms,
        )
    else:
        log.info("delivery refused status=%d (%s) %.1fms", status, reason, elapsed_ms)
    return JSONResponse({"ok": False, "error": reason}, status_code=status)


def create_listener_app(
    sink: EventSink,
    *,
    secrets: Sequence[str],
    path: str = DEFAULT_PATH,
    max_body_bytes: int = DEFAULT_MAX_BODY,
    insecure_no_signature: bool = False,
    hub: EventHub | None = None,
    on_applied: OnApplied | None = None,
) -> Starlette:
    """The listener's ASGI app. ``sink`` records + applies an event and returns its seq."""
    keys = [secret for secret in secrets if secret]
    if not keys and not insecure_no_signature:
        raise ValueError("a webhook secret is required (or insecure_no_signature=True)")

    async def after_answer(event: Event) -> None:
        if hub is not None:
            hub.publish(event)
        if on_applied is not None:
            try:
                result = on_applied(event)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("on_applied failed for %s", event.name)

    async def receive(request: Request) -> Response:
        started = time.perf_counter()
        try:
            body = await _read_capped(request, max_body_bytes)
        except _TooLarge:
            return _answer(413, f"body larger than {max_body_bytes} bytes", started)
        signature = signature_from(request.headers)
        if signature is None:
            if not insecure_no_signature:
                return _answer(401, "missing signature", started)
        elif keys and not verify(body, signature, keys):
            return _answer(401, "bad signature", started)
        try:
            envelope, raw = parse_body(body)
            event = normalise(envelope, raw, request.headers, body=body)
        except PayloadError as exc:
            return _answer(400, str(exc), started)
        try:
            seq = await sink(event)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("delivery %s: could not be stored", event.name)
            return _answer(503, "could not store the event; retry", started, event)
        duplicate = seq is None
        log.info(
            "delivery %s key=%s status=200%s%s %.1fms",
            event.name,
            _key_prefix(event.idempotency_key),
            " duplicate" if duplicate else f" seq={seq}",
            " (unknown type: recorded, not shown)" if event.type is EventType.UNKNOWN else "",
            (time.perf_counter() - started) * 1000,
        )
        payload: dict[str, Any] = {"ok": True, "duplicate": duplicate, "seq": seq}
        if duplicate or event.type is EventType.UNKNOWN:
            return JSONResponse(payload)
        event.seq = seq
        return JSONResponse(payload, background=BackgroundTask(after_answer, event))

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True})

    routes: list[Route | WebSocketRoute] = [
        Route(path, receive, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    if hub is not None:
        routes.append(WebSocketRoute("/events", _events_endpoint(hub)))
    app = Starlette(routes=routes)
    app.state.hub = hub
    return app


def _bearer(websocket: WebSocket) -> str | None:
    token = websocket.query_params.get("token")
    if token:
        return token
    header = websocket.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _events_endpoint(hub: EventHub) -> Callable[[WebSocket], Awaitable[None]]:
    async def events(websocket: WebSocket) -> None:
        if not hub.check_token(_bearer(websocket)):
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
        log.info("hub: console connected (after=%s)", after)

        async def pump() -> None:
            async for event in hub.stream(after):
                await websocket.send_text(event.model_dump_json())

        async def drain() -> None:
            # The client sends nothing; reading is how a disconnect is noticed.
            with contextlib.suppress(WebSocketDisconnect):
                while True:
                    message = await websocket.receive()
                    if message["type"] == "websocket.disconnect":
                        return

        tasks = [asyncio.create_task(pump()), asyncio.create_task(drain())]
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
        with contextlib.suppress(Exception):
            await websocket.close()
        log.info("hub: console disconnected")

    return events
