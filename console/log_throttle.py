"""Rate-limited warnings and errors: one line per kind per interval, with a count.

A hostile client can make a listener fail the same way thousands of times a second (an
``accept()`` out of file descriptors, a malformed request): one traceback each filled stderr
with 100 MB in 25 s. :class:`LogThrottle` is a :class:`logging.Filter` that lets the first
record of a kind through (traceback included), holds back the rest for ``interval`` seconds,
then says how many it held back: ``… (412 more like this in the last 10 s)``. Records below
WARNING (the listener's one line per delivery) always pass.

A kind is the logger, the level, the first line of the message template and the exception's
type and errno, so ``EMFILE`` and ``ENFILE`` are two kinds, and so are two different messages.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

#: Seconds between two lines of one kind.
INTERVAL = 10.0
#: Kinds remembered at most (a flood of distinct messages must not grow memory either).
MAX_KINDS = 1024

_Kind = tuple[str, int, str, str, int | None]


class _Held:
    __slots__ = ("count", "logger", "sample", "since")

    def __init__(self, since: float, logger: str, sample: str) -> None:
        self.since = since
        self.count = 0
        self.logger = logger
        self.sample = sample


def _kind(record: logging.LogRecord) -> _Kind:
    template = str(record.msg).split("\n", 1)[0][:200]
    error = record.exc_info[1] if record.exc_info else None
    errno = getattr(error, "errno", None)
    return (
        record.name,
        record.levelno,
        template,
        type(error).__name__ if error is not None else "",
        errno if isinstance(errno, int) else None,
    )


class LogThrottle(logging.Filter):
    """Let one warning/error of a kind through per ``interval``; count the rest."""

    def __init__(
        self, interval: float = INTERVAL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.interval = interval
        self._clock = clock
        self._held: dict[_Kind, _Held] = {}
        self._lock = threading.Lock()  # loggers are shared by the TUI's threads
        #: Records held back since the start (tests and benches read it).
        self.suppressed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or getattr(record, "throttle_summary", False):
            return True
        kind = _kind(record)
        now = self._clock()
        with self._lock:
            held = self._held.get(kind)
            if held is not None and now - held.since < self.interval:
                held.count += 1
                self.suppressed += 1
                return False
            if len(self._held) >= MAX_KINDS:
                self._forget_quiet(now)
            first_line = record.getMessage().split("\n", 1)[0]
            self._held[kind] = _Held(now, record.name, first_line)
            count, elapsed = (held.count, now - held.since) if held is not None else (0, 0.0)
        if count:
            record.msg = f"{record.getMessage()} ({_more(count, elapsed)})"
            record.args = None
        return True

    def flush(self) -> None:
        """Say how many were held back for each kind whose interval has ended (called on a
        timer: a flood that stopped still gets its count)."""
        now = self._clock()
        due: list[tuple[_Kind, _Held]] = []
        with self._lock:
            for kind, held in list(self._held.items()):
                if now - held.since < self.interval:
                    continue
                if held.count:
                    due.append((kind, held))
                del self._held[kind]
        for kind, held in due:
            logger = logging.getLogger(held.logger)
            logger.log(
                kind[1],
                "%s (%s)",
                held.sample,
                _more(held.count, now - held.since),
                extra={"throttle_summary": True},
            )

    def _forget_quiet(self, now: float) -> None:
        for kind, held in list(self._held.items()):
            if now - held.since >= self.interval or len(self._held) >= MAX_KINDS:
                del self._held[kind]


def _more(count: int, seconds: float) -> str:
    return f"{count} more like this in the last {max(seconds, 0.0):.0f} s"


_installed: LogThrottle | None = None
#: Library loggers a hostile client can flood: asyncio's accept() failures (EMFILE), uvicorn's
#: "Invalid HTTP request received." and friends. Our own go through ``console.webhooks.limits``.
THROTTLED_LOGGERS = ("asyncio", "uvicorn.error", "console.webhooks.limits")


def install(names: tuple[str, ...] = THROTTLED_LOGGERS) -> LogThrottle:
    """The process's throttle, attached to the loggers a client can flood (idempotent)."""
    global _installed
    if _installed is None:
        _installed = LogThrottle()
    for name in names:
        logger = logging.getLogger(name)
        if _installed not in logger.filters:
            logger.addFilter(_installed)
    return _installed
