"""Alerts beyond the toasts (issue 16): the terminal bell, a desktop notice through the
terminal, and a hook command.

Triggers (``[notify]`` in the config, each off until given channels): a fan of spend tier ≥
``whale_tier`` writes, a tip ≥ ``tip_dollars``, a VIP writes, a chat waits longer than
``waiting_minutes`` (once per wait), a reminder or a follow-up is due. Channels:

- ``bell``: BEL (``\\a``); the terminal beeps or flashes, tmux marks the window.
- ``desktop``: OSC 9 (iTerm2, Windows Terminal, kitty, WezTerm, foot…) and OSC 777
  (``notify;title;body``: urxvt, VTE terminals, foot, WezTerm, Ghostty) together, so most
  terminals show a system notice; a terminal that knows neither ignores both. Their text is
  *fan-free*: the trigger and the creator account only ("A $$$ fan wrote · Luna main"), never
  a fan's name or words, which a notice would put on a shared or locked screen; and every
  character a terminal would act on is removed (controls, escapes, bidi, ``;`` that would split
  OSC 777's fields), bounded to 120 characters.
- ``hook``: the command (split like a shell would; no shell runs it) gets the alert as one
  JSON object on stdin (with the fan's name: it is the agency's own program). It runs in the
  background, never blocks the screen, is killed past ``hook_timeout_seconds``; at most four
  run at once (more alerts meanwhile are dropped and counted). A failure (cannot start, exit
  status, timeout) is shown once, until a run succeeds again.
"""

from __future__ import annotations

import asyncio
import json
import shlex
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime

from console.config import NotifySettings
from console.tui.text import clean

#: At most this many hook commands run at once; alerts beyond are dropped (and counted).
MAX_HOOKS = 4
DESKTOP_MAX = 120
_OSC_UNSAFE = str.maketrans({";": ",", "\x07": "", "\x1b": "", "\x9c": ""})

Trigger = str  # "whale" | "tip" | "vip" | "waiting" | "follow_up"


@dataclass(frozen=True)
class Alert:
    """One alert; what the hook receives as JSON."""

    trigger: Trigger
    account_id: str
    account: str
    chat_id: str | None = None
    fan_id: str | None = None
    fan: str | None = None
    tier: int = 0
    amount_millis: int | None = None
    waited_minutes: int | None = None
    at: str = field(default_factory=lambda: datetime.now().astimezone().isoformat())

    def headline(self) -> str:
        """Fan-free words for a desktop notice."""
        account = self.account
        if self.trigger == "whale":
            return f"A {'$' * max(1, self.tier)} fan wrote · {account}"
        if self.trigger == "vip":
            return f"A VIP fan wrote · {account}"
        if self.trigger == "tip":
            amount = (self.amount_millis or 0) / 1000
            return f"Tip of ${amount:,.2f} · {account}"
        if self.trigger == "waiting":
            return f"A fan has waited {self.waited_minutes} min · {account}"
        if self.trigger == "follow_up":
            return f"A reminder or follow-up is due · {account}"
        return f"{self.trigger} · {account}"


def osc_safe(text: str, limit: int = DESKTOP_MAX) -> str:
    """``text`` as an OSC payload: one line, nothing a terminal acts on, bounded."""
    cleaned = clean(text[: limit * 4], one_line=True).translate(_OSC_UNSAFE)
    cleaned = "".join(ch for ch in cleaned if ch.isprintable())
    return cleaned[:limit]


def desktop_bytes(title: str, body: str) -> str:
    """OSC 9 and OSC 777 for one notice (BEL-terminated: understood by every terminal that
    reads either)."""
    title, body = osc_safe(title, 40), osc_safe(body)
    return f"\x1b]9;{title}: {body}\x07\x1b]777;notify;{title};{body}\x07"


class Notifier:
    """Sends each alert to the channels its trigger is configured with."""

    def __init__(
        self,
        settings: NotifySettings,
        *,
        write: Callable[[str], None],
        warn: Callable[[str], None],
    ) -> None:
        self.settings = settings
        self.write = write
        self.warn = warn
        self._running: set[asyncio.Task[None]] = set()
        self._failing = False
        #: Alerts dropped because MAX_HOOKS hooks were running.
        self.dropped = 0
        #: Chats already alerted as waiting, by (chat id, waiting since): once per wait.
        self._waited: set[tuple[str, object]] = set()

    def channels(self, trigger: Trigger) -> list[str]:
        return list(getattr(self.settings, trigger, []) or [])

    @property
    def any_on(self) -> bool:
        return any(self.channels(t) for t in ("whale", "tip", "vip", "waiting", "follow_up"))

    def alert(self, alert: Alert) -> None:
        channels = self.channels(alert.trigger)
        if "bell" in channels:
            self.write("\x07")
        if "desktop" in channels:
            self.write(desktop_bytes("fansly-console", alert.headline()))
        if "hook" in channels and self.settings.hook.strip():
            self._hook(alert)

    # -- triggers ------------------------------------------------------------------------

    def fan_wrote(self, alert_base: Alert, *, tier: int, vip: bool) -> None:
        """A fan wrote (a new message, not old news): whale and VIP triggers."""
        if tier >= self.settings.whale_tier and self.channels("whale"):
            self.alert(_with(alert_base, trigger="whale", tier=tier))
        elif vip and self.channels("vip"):
            self.alert(_with(alert_base, trigger="vip", tier=tier))

    def tipped(self, alert_base: Alert, amount_millis: int) -> None:
        if amount_millis >= self.settings.tip_dollars * 1000 and self.channels("tip"):
            self.alert(_with(alert_base, trigger="tip", amount_millis=amount_millis))

    def waited(self, alert_base: Alert, since: object, minutes: int) -> None:
        """A chat waited past ``waiting_minutes``: alerted once for this wait."""
        key = (alert_base.chat_id or "", since)
        if minutes < self.settings.waiting_minutes or key in self._waited:
            return
        self._waited.add(key)
        if len(self._waited) > 10_000:  # bounded: old waits are long answered
            self._waited.clear()
            self._waited.add(key)
        self.alert(_with(alert_base, trigger="waiting", waited_minutes=minutes))

    # -- the hook ------------------------------------------------------------------------

    def _hook(self, alert: Alert) -> None:
        if len(self._running) >= MAX_HOOKS:
            self.dropped += 1
            return
        task = asyncio.get_running_loop().create_task(self._run_hook(alert), name="notify-hook")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run_hook(self, alert: Alert) -> None:
        settings = self.settings
        payload = json.dumps(asdict(alert), ensure_ascii=True).encode() + b"\n"
        started = time.monotonic()
        try:
            argv = shlex.split(settings.hook)
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
        except (OSError, ValueError) as exc:
            self._failed(f"could not start: {exc}")
            return
        try:
            async with asyncio.timeout(settings.hook_timeout_seconds):
                await process.communicate(payload)
        except TimeoutError:
            process.kill()
            await process.wait()
            self._failed(f"no answer after {time.monotonic() - started:.0f} s (killed)")
            return
        except (BrokenPipeError, ConnectionResetError):
            await process.wait()  # it did not read stdin: its exit status says the rest
        if process.returncode:
            self._failed(f"exit status {process.returncode}")
            return
        self._failing = False

    def _failed(self, why: str) -> None:
        if not self._failing:
            self._failing = True
            self.warn(clean(f"The notify hook failed ({why}); further failures are not shown."))

    async def drain(self) -> None:
        """Wait for the running hooks (tests; the app's exit)."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)


def _with(alert: Alert, **changes: object) -> Alert:
    from dataclasses import replace

    return replace(alert, **changes)  # type: ignore[arg-type]
