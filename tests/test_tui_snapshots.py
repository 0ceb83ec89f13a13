"""SVG snapshots of the main screen (fixed world, fixed clock, no live simulator).

Update after an intended change with ``pytest tests/test_tui_snapshots.py --snapshot-update``
and look at the SVGs in ``tests/__snapshots__``.
"""

from __future__ import annotations

from typing import Any

import pytest
from fakes_tui import FIXED_NOW, MemorySource
from textual.pilot import Pilot

from console.tui.app import ConsoleApp, make_app
from console.tui.thread import Thread


def _app(theme: str = "fansly-dark") -> ConsoleApp:
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


async def _settle(pilot: Pilot[Any]) -> None:
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


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
def test_main_screen(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(_app(), terminal_size=size, run_before=_settle)


def test_thread_with_reply_and_pin_light_theme(snap_compare: Any) -> None:
    async def act(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("tab", "up", "p", "l", "R", *"see you then", "enter")
        await _settle(pilot)

    assert snap_compare(_app("fansly-light"), terminal_size=(120, 36), run_before=act)


# -- issue 6: each screen ---------------------------------------------------------------------


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    """The offline banner shows local time: pin the zone so the snapshot is the same anywhere."""
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


def test_fan_profile_with_note_and_spend(snap_compare: Any) -> None:
    async def act(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("N", *"VIP since spring. Likes [b]behind the scenes[/b].", "ctrl+s")
        await _settle(pilot)

    assert snap_compare(_app(), terminal_size=(120, 36), run_before=act)


def test_automated_messages_screen(snap_compare: Any) -> None:
    async def act(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("a")
        await _settle(pilot)

    assert snap_compare(_app(), terminal_size=(120, 36), run_before=act)


def test_automation_form_refuses_inline(snap_compare: Any) -> None:
    async def act(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("a", "c")
        await _settle(pilot)
        await pilot.press("tab", "backspace", *"9 weeks", "ctrl+s")
        await _settle(pilot)

    assert snap_compare(_app(), terminal_size=(120, 36), run_before=act)


def test_search_results(snap_compare: Any) -> None:
    async def act(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("ctrl+f", *"stream")
        await _settle(pilot)

    assert snap_compare(_app(), terminal_size=(120, 36), run_before=act)


def test_offline_banner(snap_compare: Any, utc: None) -> None:
    async def act(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, ConsoleApp)
        await _settle(pilot)
        source = app.source
        assert isinstance(source, MemorySource)
        source.go("offline")
        await pilot.press("r", *"back soon", "enter", "escape")
        await _settle(pilot)

    assert snap_compare(_app(), terminal_size=(120, 36), run_before=act)
