"""The demo console for the tests of this folder: the real sandbox over HTTP, the real store,
the embedded listener receiving signed webhooks (support/tui.py ``open_demo``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from support.tui import open_demo
from textual.pilot import Pilot

from console.tui.app import ConsoleApp
from console.tui.launch import Running


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[tuple[ConsoleApp, Pilot[int], Running, Any]]:
    """The demo console at 120×36, backfilled, with its first chat open."""
    async for opened in open_demo(tmp_path / "demo.sqlite3"):
        yield opened
