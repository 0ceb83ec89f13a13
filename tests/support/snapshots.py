"""The app the SVG snapshots are taken of, and waiting for it to settle."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from console.tui.app import ConsoleApp, make_app
from console.tui.thread import Thread
from support.fakes_tui import FIXED_NOW, MemorySource


def snapshot_app(theme: str = "fansly-dark") -> ConsoleApp:
    app = make_app(
        MemorySource(accounts=3, chats_per_account=60),
        clock=lambda: FIXED_NOW,
        theme=theme,
        timezone="UTC",  # times are shown in the chatter's zone: the same shots anywhere
    )
    app.open_delay = 0
    # Toasts expire by the wall clock: a loaded machine would take some shots after they left.
    app.NOTIFICATION_TIMEOUT = 3600
    return app


async def settle(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, ConsoleApp)
    await app.settled()
    await pilot.pause()
    # A cursor blinks by the wall clock (every 0.5 s): keep it shown, so a shot taken late on a
    # loaded machine is the same as one taken at once.
    for widget in app.screen.query("*"):
        if getattr(widget, "cursor_blink", False):
            widget.cursor_blink = False  # type: ignore[attr-defined]
    await pilot.pause()
    # The thread keeps its newest message in view by scrolling after each layout: on a loaded
    # machine a shot could catch it one layout early (the scrollbar a few rows up).
    thread = app.query_one(Thread)
    for _ in range(50):
        if not thread.at_latest or thread.scroll_y >= thread.max_scroll_y:
            break
        await pilot.pause(0.02)
    # The thread's scrollbar thumb still varied between runs (with the stylesheet kept from an
    # earlier start, or on a loaded machine, the shot came a layout sooner or later): its bar is
    # left out of the shots; everything else is kept.
    thread.styles.scrollbar_size_vertical = 0
    await pilot.pause()
