"""SVG snapshots of the main screen (fixed world, fixed clock, no live simulator).

Update after an intended change with ``pytest tests/test_tui_snapshots.py --snapshot-update``
and look at the SVGs in ``tests/__snapshots__``.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from console.tui.app import ConsoleApp, make_app
from console.tui.memory import FIXED_NOW, MemorySource


def _app(theme: str = "fansly-dark") -> ConsoleApp:
    app = make_app(
        MemorySource(accounts=3, chats_per_account=60), clock=lambda: FIXED_NOW, theme=theme
    )
    app.open_delay = 0
    return app


async def _settle(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, ConsoleApp)
    await app.settled()
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
