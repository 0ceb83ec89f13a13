"""The console in a real terminal: ``pty_console.py`` started on a pty, the bytes a terminal
would send written to it, and what the console reports read back."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class PtyConsole:
    child: subprocess.Popen[bytes]
    master: int
    out: Path

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def state_when(self, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The console's report once ``check`` holds and the console is idle (30 s at most)."""
        deadline = time.monotonic() + 30
        state: dict[str, Any] = {}
        while time.monotonic() < deadline:
            while select.select([self.master], [], [], 0.02)[0]:  # keep the screen flowing
                try:
                    os.read(self.master, 1 << 16)
                except OSError:
                    break
            with contextlib.suppress(OSError, ValueError):
                state = json.loads(self.out.read_text())
                if check(state) and state["idle"]:
                    return state
        raise AssertionError(f"the console never got there: {state}")

    def close_terminal(self) -> None:
        os.close(self.master)
        self.master = -1


@contextlib.contextmanager
def pty_console(tmp_path: Path) -> Iterator[PtyConsole]:
    """``pty_console.py`` on a 120×36 pty. Its own session, and the pty is not its
    controlling terminal: closing the terminal sends it no SIGHUP (as under ``make``)."""
    out = tmp_path / "state.json"
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 36, 120, 0, 0))
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "pty_console.py"), str(out)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**os.environ, "TERM": "xterm-256color"},
        start_new_session=True,
    )
    os.close(slave)
    console = PtyConsole(child, master, out)
    try:
        yield console
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if console.master >= 0:
            os.close(console.master)
