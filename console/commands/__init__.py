"""console.commands: the CLI's verbs, one module each, and what they share."""

from __future__ import annotations

import asyncio
import contextlib
import signal


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM, for a verb that runs until stopped (``listen``,
    ``serve``, ``sandbox``). Where the loop cannot take signal handlers (not the main thread,
    Windows) the event is only set by the caller."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    return stop
