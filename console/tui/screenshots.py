"""``make screenshots``: SVGs of the console for the README, from the sandbox demo world.

One demo session (seed 7, small world, no simulator, 120×36) walks through what a chatter
does and saves a screen at each step: the main view, a reply-to in progress, the fan profile
with a note, the automated messages (and the form), search results, and the offline banner
after the gateway goes away. A last one shows the main view at 80×24. Times on screen follow
the clock; everything else is the same on every run.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from console.sync.policy import Backoff
from console.tui.app import ConsoleApp
from console.tui.launch import Running, build_demo
from console.tui.profile import FanProfile

OUT = Path(__file__).resolve().parents[2] / "screenshots"
SIZE = (120, 36)
#: A word the seed-7 demo world's fans say (the search shot looks for it).
SEARCH_WORD = "stream"


async def _until(app: ConsoleApp, pilot: Pilot[Any], condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(30):
        while not condition():
            await app.settled()
            await pilot.pause(0.05)


class Shooter:
    def __init__(self, app: ConsoleApp, pilot: Pilot[Any], out: Path) -> None:
        self.app, self.pilot, self.out = app, pilot, out
        self.saved: list[Path] = []

    async def keys(self, *keys: str) -> None:
        await self.pilot.press(*keys)
        await self.app.settled()
        await self.pilot.pause()

    async def shot(self, name: str) -> None:
        await self.app.settled()
        self.app.clear_notifications()
        await self.pilot.pause(0.1)
        self.app.save_screenshot(f"{name}.svg", str(self.out))
        self.saved.append(self.out / f"{name}.svg")


async def _demo(tmp: Path) -> tuple[ConsoleApp, Running, Any]:
    fast = Backoff(base=0.05, cap=0.2)
    return await build_demo(
        seed=7,
        size="small",
        simulate_per_minute=0,
        cache=tmp / "shot.sqlite3",
        workspace_options={"backoff": fast, "probe_backoff": fast, "reconcile_delay": 0.05},
    )


async def _walk(app: ConsoleApp, pilot: Pilot[Any], running: Running, sandbox: Any) -> list[Path]:
    shoot = Shooter(app, pilot, OUT)
    workspace = running.workspace
    await workspace.wait_attached()
    await workspace.wait_backfilled()
    await _until(app, pilot, lambda: app.chats_screen.chat_id is not None)
    await workspace.wait_background()
    await shoot.shot("main")

    await shoot.keys("tab", "up", "up", "R", *"see you at the stream tonight?")
    await shoot.shot("reply-to")
    await shoot.keys("ctrl+a", "ctrl+k", "escape", "escape")

    # The profile of a fan with some history of spending (the chart needs a few purchases).
    profile = app.query_one(FanProfile)
    for _ in range(12):
        card = profile.card
        if card is not None and len(card.spend_history) >= 4:
            break
        await shoot.keys("down")
        await workspace.wait_background()
        await shoot.keys()
    await shoot.keys("N", *"Loves behind-the-scenes sets. Birthday in May.", "ctrl+s")
    await workspace.wait_background()
    await shoot.shot("fan-profile")

    await shoot.keys("a")
    await _until(app, pilot, lambda: "gateway" not in _state_text(app))
    await shoot.keys("c", *"Welcome! So happy you are here, ask me anything.")
    await shoot.shot("automation-form")
    await shoot.keys("ctrl+s")
    await _until(app, pilot, lambda: type(app.screen).__name__ == "AutomationsScreen")
    await shoot.shot("automated-messages")
    await shoot.keys("escape")

    await shoot.keys("ctrl+f", *SEARCH_WORD)
    await shoot.shot("search")
    await shoot.keys("escape")

    # A PPV being composed: two photos of the vault ticked, priced at $15.
    from console.tui.vault_picker import VaultPicker

    await shoot.keys("r", *"new beach set, just for you 🌊", "ctrl+g")
    await _until(app, pilot, lambda: isinstance(app.screen, VaultPicker) and app.screen.loaded)
    await workspace.wait_background()
    await shoot.keys(*"beach", "tab", "tab", "enter", *"15")
    await shoot.shot("ppv-compose")
    await shoot.keys("escape", "escape", "ctrl+a", "ctrl+k", "escape")

    # The gateway goes away: replies wait in the outbox and the banner says since when.
    await sandbox.__aexit__(None, None, None)
    await shoot.keys("r", *"back online soon, promise!", "enter")
    await _until(app, pilot, lambda: workspace.connection.state == "offline")
    await shoot.shot("offline")
    return shoot.saved


def _state_text(app: ConsoleApp) -> str:
    from textual.widgets import Static

    try:
        return str(app.screen.query_one("#automations-state", Static).render())
    except Exception:
        return "gateway"


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        app, running, sandbox = await _demo(Path(tmp))
        app.open_delay = 0
        try:
            async with app.run_test(size=SIZE) as pilot:
                saved = await _walk(app, pilot, running, sandbox)
        finally:
            await running.stop()
    with tempfile.TemporaryDirectory() as tmp:
        app, running, _sandbox = await _demo(Path(tmp))
        app.open_delay = 0
        try:
            async with app.run_test(size=(80, 24)) as pilot:
                await running.workspace.wait_backfilled()
                await _until(app, pilot, lambda: app.chats_screen.chat_id is not None)
                shoot = Shooter(app, pilot, OUT)
                await shoot.shot("main-80x24")
                saved += shoot.saved
        finally:
            await running.stop()
    for path in saved:
        print(path)


if __name__ == "__main__":
    asyncio.run(main())
