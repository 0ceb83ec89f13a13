"""The console on the in-memory world, run in a real terminal (a pty) by test_tui_keys.py:
Textual's own Linux driver reads the bytes the test writes. Every 50 ms it writes what the
test checks to the JSON file named on the command line."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

# Run as a script: its folder is on sys.path, the tests' root (``support``) is not.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import console.tui.app as app_module
from console.tui.app import ConsoleApp
from console.tui.composer import Composer
from support.fakes_tui import FIXED_NOW, MemorySource


class ProbedConsole(ConsoleApp):
    CSS_PATH = str(Path(app_module.__file__).parent / "app.tcss")

    def __init__(self, out: str) -> None:
        source = MemorySource(accounts=3, chats_per_account=5, messages_per_chat=3)
        super().__init__(source, clock=lambda: FIXED_NOW, timezone="UTC")
        self.out = out
        self.open_delay = 0

    def on_mount(self) -> None:
        self.set_interval(0.05, self._report)

    async def on_unmount(self) -> None:
        # After the console's own unmount (the draft saved): what a restart would find.
        chats = self.chats_screen
        saved = await self.source.draft(chats.account_id or "", chats.chat_id or "")
        Path(self.out + ".exit").write_text(json.dumps({"saved_draft": saved}))  # noqa: ASYNC240

    def _report(self) -> None:
        state = {
            "account": self.chats_screen.account_id,
            "chat": self.chats_screen.chat_id,
            "draft": self.query_one(Composer).text,
            "focused": type(self.focused).__name__,
            "idle": not self._busy_workers() and not self.chats_screen.timers_pending(),
        }
        Path(self.out + ".tmp").write_text(json.dumps(state))
        os.replace(self.out + ".tmp", self.out)


if __name__ == "__main__":
    ProbedConsole(sys.argv[1]).run()
