"""Driving the console in tests: the app on the in-memory source, keys, waiting for a state."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from textual import events
from textual.keys import _character_to_key
from textual.pilot import Pilot

from console.sync.policy import Backoff
from console.tui.app import ConsoleApp, make_app
from console.tui.launch import Running, build_demo
from support.fakes_tui import FIXED_NOW, MemorySource


def keep_notices(app: ConsoleApp) -> ConsoleApp:
    """Toasts expire by the wall clock (4-10 s): keep them, so a loaded machine still finds
    them in ``app._notifications`` when the test looks."""
    notify = app.notify

    def lasting(message: str, **options: object) -> None:
        options["timeout"] = 3600
        notify(message, **options)  # type: ignore[arg-type]

    app.notify = lasting  # type: ignore[method-assign]
    return app


def _clock() -> datetime:
    return FIXED_NOW


@asynccontextmanager
async def running(
    source: MemorySource | None = None, size: tuple[int, int] = (120, 36), **options: object
) -> AsyncIterator[tuple[ConsoleApp, Pilot[int], MemorySource]]:
    source = source or MemorySource()
    app = keep_notices(make_app(source, clock=_clock, **options))  # type: ignore[arg-type]
    app.open_delay = 0
    async with app.run_test(size=size) as pilot:
        await app.settled()
        await pilot.pause()
        yield app, pilot, source


async def press(app: ConsoleApp, pilot: Pilot[int], *keys: str) -> None:
    await pilot.press(*keys)
    await app.settled()
    await pilot.pause()


def calls(source: MemorySource, name: str) -> list[tuple[object, ...]]:
    return [args for kind, args in source.calls if kind == name]


FAST = Backoff(base=0.02, cap=0.1)


OPTIONS = {"backoff": FAST, "probe_backoff": FAST, "reconcile_delay": 0.02}


async def until(
    app: ConsoleApp, pilot: Pilot[int], condition: Callable[[], bool], seconds: float = 20
) -> None:
    """Wait for a state the console reaches asynchronously (bounded: a loaded machine is slow,
    a broken console never gets there)."""
    async with asyncio.timeout(seconds):
        while not condition():
            await app.settled()
            await pilot.pause(0.02)


def burst(app: ConsoleApp, *pressed: str) -> None:
    """Keys that arrive in one read from the terminal (pasted, typed ahead over SSH): posted
    as the driver posts them, with no wait between (``Pilot.press`` waits after each key).
    Characters, and keys by name (``enter``, ``space``, ``alt+2``)."""
    driver = app._driver
    assert driver is not None
    for key in pressed:
        if key in ("enter", "space"):
            event = events.Key(key, "\r" if key == "enter" else " ")
        elif len(key) > 1:
            event = events.Key(key, None)
        else:
            event = events.Key(key if key.isalnum() else _character_to_key(key), key)
        event.set_sender(app)
        driver.send_message(event)


async def keys(app: ConsoleApp, pilot: Pilot[int], *pressed: str) -> None:
    await pilot.press(*pressed)
    await app.settled()
    await pilot.pause()


async def open_demo(
    cache: Path, size: tuple[int, int] = (120, 36)
) -> AsyncIterator[tuple[ConsoleApp, Pilot[int], Running, Any]]:
    app, running, sandbox = await build_demo(
        seed=7, size="small", simulate_per_minute=0, cache=cache, workspace_options=OPTIONS
    )
    app.open_delay = 0
    try:
        async with app.run_test(size=size) as pilot:
            await until(app, pilot, lambda: running.workspace.engines != {})
            await running.workspace.wait_backfilled()
            await until(app, pilot, lambda: app.chats_screen.chat_id is not None)
            yield app, pilot, running, sandbox
    finally:
        await running.stop()
