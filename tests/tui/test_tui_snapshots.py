"""SVG snapshots of the main screen (fixed world, fixed clock, no live simulator).

Update after an intended change with ``pytest tests/tui/test_tui_snapshots.py --snapshot-update``
and look at the SVGs in ``tests/__snapshots__``.
"""

from __future__ import annotations

from typing import Any

import pytest
from support.fakes_tui import MemorySource
from support.snapshots import settle, snapshot_app
from textual.pilot import Pilot

from console.tui.app import ConsoleApp


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
def test_main_screen(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(snapshot_app(), terminal_size=size, run_before=settle)


def test_thread_with_reply_and_pin_light_theme(snap_compare: Any) -> None:
    async def act(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("tab", "up", "p", "l", "R", *"see you then", "enter")
        await settle(pilot)

    assert snap_compare(snapshot_app("fansly-light"), terminal_size=(120, 36), run_before=act)


# -- issue 6: each screen ---------------------------------------------------------------------


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    """The offline banner shows local time: pin the zone so the snapshot is the same anywhere."""
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


def test_fan_profile_with_note_and_spend(snap_compare: Any) -> None:
    async def act(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("N", *"VIP since spring. Likes [b]behind the scenes[/b].", "ctrl+s")
        await settle(pilot)

    assert snap_compare(snapshot_app(), terminal_size=(120, 36), run_before=act)


def test_automated_messages_screen(snap_compare: Any) -> None:
    async def act(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)

    assert snap_compare(snapshot_app(), terminal_size=(120, 36), run_before=act)


def test_automation_form_refuses_inline(snap_compare: Any) -> None:
    async def act(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("a", "c")
        await settle(pilot)
        await pilot.press("tab", "backspace", *"9 weeks", "ctrl+s")
        await settle(pilot)

    assert snap_compare(snapshot_app(), terminal_size=(120, 36), run_before=act)


def test_search_results(snap_compare: Any) -> None:
    async def act(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("ctrl+f", *"stream")
        await settle(pilot)

    assert snap_compare(snapshot_app(), terminal_size=(120, 36), run_before=act)


def test_offline_banner(snap_compare: Any, utc: None) -> None:
    async def act(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, ConsoleApp)
        await settle(pilot)
        source = app.source
        assert isinstance(source, MemorySource)
        source.go("offline")
        await pilot.press("r", *"back soon", "enter", "escape")
        await settle(pilot)

    assert snap_compare(snapshot_app(), terminal_size=(120, 36), run_before=act)
