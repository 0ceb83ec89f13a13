"""The console on the in-memory world in a real terminal (a pty), run by test_tui_notify.py:
once the screen is up, a VIP fan of another account writes; ``[notify] vip`` rings the bell
and sends a desktop notice, which the test reads from the terminal's bytes."""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script: its folder is on sys.path, the tests' root (``support``) is not.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import console.tui.app as app_module
from console.config import NotifySettings
from console.tui.app import ConsoleApp
from support.fakes_tui import FIXED_NOW, MemorySource


class NotifyingConsole(ConsoleApp):
    CSS_PATH = str(Path(app_module.__file__).parent / "app.tcss")

    def __init__(self, ready: str) -> None:
        self.world = MemorySource(accounts=2, chats_per_account=6, messages_per_chat=3)
        super().__init__(
            self.world,
            clock=lambda: FIXED_NOW,
            timezone="UTC",
            notify=NotifySettings(vip=["bell", "desktop"]),
        )
        self.ready = ready

    def on_mount(self) -> None:
        self.set_timer(0.5, self._fan_writes)

    def _fan_writes(self) -> None:
        account = self.world.accounts()[1].account_id
        chat = self.world._chats[account][2]
        chat.vip = True
        self.world.receive(account, chat.chat_id, "hi from a VIP")


if __name__ == "__main__":
    NotifyingConsole(sys.argv[1]).run()
