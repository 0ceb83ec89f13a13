"""Alerts (issue 16): what reaches the terminal (bell, OSC 9 / OSC 777, sanitised and
fan-free), the hook command with the alert as JSON on stdin (timeout, failures shown once),
and the whole path in a real terminal (a pty)."""

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
from pathlib import Path

import pytest

from console.config import NotifySettings
from console.tui.notify import Alert, Notifier, desktop_bytes, osc_safe

HOSTILE = "Luna\x1b]0;pwned\x07 main;\x1b[31m\u202e\x9c\x07"


def _notifier(written: list[str], warned: list[str], **settings: object) -> Notifier:
    return Notifier(
        NotifySettings(**settings),  # type: ignore[arg-type]
        write=written.append,
        warn=warned.append,
    )


def _alert(**extra: object) -> Alert:
    base: dict[str, object] = {
        "trigger": "",
        "account_id": "acc1",
        "account": HOSTILE,
        "chat_id": "c1",
        "fan_id": "f1",
        "fan": "Gabe [b]Stone[/b]",
    }
    return Alert(**{**base, **extra})  # type: ignore[arg-type]


def test_everything_is_off_by_default() -> None:
    written: list[str] = []
    notifier = _notifier(written, [])
    notifier.fan_wrote(_alert(), tier=3, vip=True)
    notifier.tipped(_alert(), 1_000_000)
    notifier.waited(_alert(), "since", 500)
    notifier.alert(_alert(trigger="follow_up"))
    assert written == [] and not notifier.any_on


def test_bell_and_desktop_bytes_are_sanitised_and_fan_free() -> None:
    written: list[str] = []
    notifier = _notifier(written, [], whale=["bell", "desktop"], whale_tier=2, vip=["bell"])
    notifier.fan_wrote(_alert(), tier=2, vip=False)
    assert written[0] == "\x07"
    osc = written[1]
    assert osc.startswith("\x1b]9;fansly-console: A $$ fan wrote · Luna")
    nine, seven = osc.split("\x07")[:2]
    assert seven.startswith("\x1b]777;notify;fansly-console;A $$ fan wrote · Luna")
    for payload in (nine[2:], seven[2:]):
        # Nothing a terminal acts on inside a payload: its only ESC is the one that opens it.
        assert "\x1b" not in payload and "\x07" not in payload and "\x9c" not in payload
        assert "\u202e" not in payload and "pwned" not in payload  # the sequence went whole
        assert "Luna main," in payload
    assert seven.count(";") == 3  # notify;title;body: the name's ';' cannot add a field
    assert "Gabe" not in osc  # the fan's name never goes to a desktop notice
    # Below the whale tier, a VIP rings the VIP trigger only.
    written.clear()
    notifier.fan_wrote(_alert(), tier=1, vip=True)
    assert written == ["\x07"]
    assert len(osc_safe("x" * 10_000)) == 120
    assert desktop_bytes("t", "b\nc") == "\x1b]9;t: b c\x07\x1b]777;notify;t;b c\x07"


def test_tips_and_waits_respect_their_thresholds() -> None:
    written: list[str] = []
    notifier = _notifier(
        written, [], tip=["bell"], tip_dollars=50, waiting=["bell"], waiting_minutes=30
    )
    notifier.tipped(_alert(), 49_999)
    notifier.waited(_alert(), "t0", 29)
    assert written == []
    notifier.tipped(_alert(), 50_000)
    notifier.waited(_alert(), "t0", 31)
    notifier.waited(_alert(), "t0", 45)  # the same wait: once
    assert written == ["\x07", "\x07"]
    notifier.waited(_alert(), "t1", 31)  # a new wait of the same chat
    assert len(written) == 3


async def test_the_hook_gets_the_alert_as_json(tmp_path: Path) -> None:
    out = tmp_path / "alert.json"
    script = tmp_path / "hook.py"
    script.write_text(f"import sys; open({str(out)!r}, 'w').write(sys.stdin.read())\n")
    warned: list[str] = []
    notifier = _notifier([], warned, whale=["hook"], hook=f"{sys.executable} {script}")
    started = time.monotonic()
    notifier.fan_wrote(_alert(), tier=3, vip=False)
    assert time.monotonic() - started < 0.5  # never waits for the hook
    await notifier.drain()
    sent = json.loads(out.read_text())
    assert sent["trigger"] == "whale" and sent["tier"] == 3
    assert sent["fan"] == "Gabe [b]Stone[/b]" and sent["account"] == HOSTILE
    assert warned == []


async def test_hook_failures_are_shown_once_and_a_slow_hook_is_killed(tmp_path: Path) -> None:
    warned: list[str] = []
    slow = _notifier(
        [],
        warned,
        vip=["hook"],
        hook=f"{sys.executable} -c 'import time; time.sleep(30)'",
        hook_timeout_seconds=0.3,
    )
    started = time.monotonic()
    slow.fan_wrote(_alert(), tier=0, vip=True)
    slow.fan_wrote(_alert(), tier=0, vip=True)
    await slow.drain()
    assert time.monotonic() - started < 10
    assert len(warned) == 1 and "killed" in warned[0]
    failing = _notifier([], warned, vip=["hook"], hook=f"{sys.executable} -c 'exit(3)'")
    failing.fan_wrote(_alert(), tier=0, vip=True)
    await failing.drain()
    assert "exit status 3" in warned[-1]
    missing = _notifier([], warned, vip=["hook"], hook=str(tmp_path / "no-such-command"))
    missing.fan_wrote(_alert(), tier=0, vip=True)
    await missing.drain()
    assert "could not start" in warned[-1] and len(warned) == 3
    # More than four at once: the rest are dropped and counted, nothing piles up.
    many = _notifier(
        [], [], vip=["hook"], hook=f"{sys.executable} -c 'import time; time.sleep(0.5)'"
    )
    for _ in range(7):
        many.fan_wrote(_alert(), tier=0, vip=True)
    assert many.dropped == 3
    await many.drain()


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX pty")
def test_a_vip_message_rings_and_notifies_in_a_real_terminal(tmp_path: Path) -> None:
    """The console in a pty (Textual's own Linux driver): a VIP fan writes, the bell and the
    OSC 9 / OSC 777 notice arrive among the screen's bytes, once."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    ready = tmp_path / "ready"
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).parents[1] / "support" / "pty_notify.py"), str(ready)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**os.environ, "TERM": "xterm-256color"},
        start_new_session=True,
    )
    os.close(slave)
    seen = b""
    want = b"\x1b]777;notify;fansly-console;A VIP fan wrote"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and want not in seen:
            if select.select([master], [], [], 0.05)[0]:
                with contextlib.suppress(OSError):
                    seen += os.read(master, 1 << 16)
        assert want in seen, seen[-400:]
        assert b"\x1b]9;fansly-console: A VIP fan wrote \xc2\xb7 Creator 2\x07" in seen
        assert seen.count(b"\x1b]777;") == 1
        assert b"\x07\x1b]9;" in seen  # the bell rang just before the notice
    finally:
        child.kill()
        child.wait()
        os.close(master)
