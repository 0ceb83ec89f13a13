"""When the terminal goes away (an SSH session dropped, a tmux pane or window closed), the
console quits as if the chatter had quit: the draft is saved, queued actions stay in the outbox
for the next start.

It learns it two ways. SIGHUP, when the console leads its terminal's session
(``ssh host fansly-console``). And a look at the terminal every second, because a console
started under another process (``make demo``, a wrapper script, a process manager) gets no
SIGHUP: its reads return nothing and its writes fail, and Textual's input thread spins on the
empty reads, about half a core, for as long as nobody kills it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import signal
import termios
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App

#: Seconds between looks at the terminal.
CHECK_SECONDS = 1.0


def terminal_gone(fileno: int) -> bool:
    """The terminal behind ``fileno`` hung up (its other end closed)."""
    try:
        termios.tcgetattr(fileno)
    except termios.error as exc:
        return bool(exc.args) and exc.args[0] in (errno.EIO, errno.ENXIO, errno.EBADF)
    return False


def quit_when_the_terminal_goes(app: App[Any]) -> None:
    """Watch the app's terminal (not in tests' headless runs, nor without a terminal)."""
    fileno = getattr(app._driver, "fileno", None)
    if app.is_headless or not isinstance(fileno, int):
        return
    try:
        termios.tcgetattr(fileno)
    except termios.error:
        return  # not a terminal (input piped in): nothing to watch
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, app.exit)

    def look() -> None:
        if terminal_gone(fileno):
            app.exit()

    app.set_interval(CHECK_SECONDS, look, name="terminal watch")
