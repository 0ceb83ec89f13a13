"""When Python's full garbage collections run: between the chatter's actions, not in them.

A full collection scans every tracked object: once the console has started (modules, the
stylesheet, widgets) and the chatter has opened a few chats (Textual's render caches hold
tens of thousands of small objects), that is 70-140 ms, every few seconds under a burst of
messages, landing on a key press or a new message. So:

- what start-up built is frozen (``gc.freeze``): it lives as long as the app, and is left out
  of every later collection;
- automatic full collections are off; young collections (cheap) stay automatic;
- a full collection runs once the console has been quiet for ``QUIET`` seconds after some
  activity, or at the latest every ``AT_THE_LATEST`` seconds of activity, so memory stays
  bounded under a constant stream (an idle console collects nothing: nothing new to find).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

QUIET = 1.0
AT_THE_LATEST = 30.0
#: Threshold of full collections: never reached, so they run only from :meth:`tick`.
_NEVER = 1_000_000_000


class Collector:
    """Full collections at quiet moments. Call :meth:`start` once, :meth:`activity` on every
    key or update, :meth:`tick` from a timer; :meth:`stop` restores the interpreter's policy."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.collections = 0
        self._saved: tuple[int, int, int] | None = None
        self._last_activity = clock()
        #: When the activity since the last collection began (None: none since).
        self._busy_since: float | None = None

    def start(self) -> None:
        if self._saved is not None:
            return
        self._saved = gc.get_threshold()
        gc.freeze()
        young, middle, _full = self._saved
        gc.set_threshold(young, middle, _NEVER)

    def stop(self) -> None:
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            gc.unfreeze()  # another app in this process (tests) starts from a clean slate
            self._saved = None

    def activity(self) -> None:
        self._last_activity = self.clock()
        if self._busy_since is None:
            self._busy_since = self._last_activity

    def tick(self) -> bool:
        """Collect now if the console is quiet (or it has waited too long); True if it did."""
        if self._saved is None or self._busy_since is None:
            return False
        now = self.clock()
        quiet = now - self._last_activity >= QUIET
        # Measured from the first activity after a pause, not from the last collection: the
        # first key after a long idle must not pay for it.
        overdue = now - self._busy_since >= AT_THE_LATEST
        if not (quiet or overdue):
            return False
        self._busy_since = None
        gc.collect()
        self.collections += 1
        return True
