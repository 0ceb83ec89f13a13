"""``make screenshots``: SVGs of the console for the README, from the sandbox demo world.

The sandbox runs without its simulator, so every run draws the same screens (the "waiting"
times follow the clock).
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from console.tui.launch import build_demo

OUT = Path(__file__).resolve().parents[2] / "screenshots"
SHOTS = [("console-120x36", (120, 36), ()), ("console-80x24", (80, 24), ("i",))]


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, size, keys in SHOTS:
        with tempfile.TemporaryDirectory() as tmp:
            app, running, _sandbox = await build_demo(
                seed=7, size="small", simulate_per_minute=0, cache=Path(tmp) / "shot.sqlite3"
            )
            try:
                async with app.run_test(size=size) as pilot:
                    await running.workspace.wait_attached()
                    await running.workspace.wait_backfilled()
                    await app.settled()
                    await pilot.press(*keys)
                    await app.settled()
                    await pilot.pause()
                    app.save_screenshot(f"{name}.svg", str(OUT))
            finally:
                await running.stop()
        print(OUT / f"{name}.svg")


if __name__ == "__main__":
    asyncio.run(main())
