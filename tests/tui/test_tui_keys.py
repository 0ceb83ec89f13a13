"""Keys as a real terminal sends them: raw bytes through Textual's own input parser (the one
the Linux driver runs), then into the console.

In tmux and most Linux terminals alt+digit arrives as ESC followed by the digit. Textual maps
those sequences to the characters macOS types for option+digit ("™" for alt+2), which then
landed in the chatter's draft.
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import pytest
from support.fakes_tui import MemorySource
from support.terminal import pty_console
from support.tui import running
from textual._xterm_parser import XTermParser
from textual.events import Key

import console.tui.app  # noqa: F401  (the console's key table is in force once the app is imported)
from console.tui.app import ConsoleApp
from console.tui.composer import Composer


def parse(data: str) -> list[Key]:
    """What the Linux driver's parser makes of ``data`` (a whole read from the terminal)."""
    parser = XTermParser()
    events = list(parser.feed(data))
    # An ESC alone waits for more; the driver's tick reports it once the delay has passed.
    events.extend(parser.feed(""))
    return [event for event in events if isinstance(event, Key)]


@pytest.mark.parametrize("digit", "123456789")
def test_esc_digit_is_alt_digit_and_types_nothing(digit: str) -> None:
    keys = parse("\x1b" + digit)
    assert [(k.key, k.is_printable) for k in keys] == [(f"alt+{digit}", False)]


@pytest.mark.parametrize(
    ("data", "name"),
    [
        ("\x1b0", "alt+0"),
        ("\x1b-", "alt+minus"),
        ("\x1b=", "alt+equals_sign"),
        ("\x1b[50;3u", "alt+2"),  # the kitty keyboard protocol's alt+2
    ],
)
def test_other_alt_sequences_type_nothing(data: str, name: str) -> None:
    assert [(k.key, k.is_printable) for k in parse(data)] == [(name, False)]


def test_typed_characters_still_arrive() -> None:
    # A chatter on a Mac who types ™ (option+2 without an ESC) still gets it, and plain
    # digits are digits.
    assert [(k.key, k.character) for k in parse("™2")] == [
        ("trade_mark_sign", "™"),
        ("2", "2"),
    ]


async def feed(app: ConsoleApp, data: str) -> None:
    """Send ``data`` through the parser and into the app the way the Linux driver does."""
    assert app._driver is not None
    for event in parse(data):
        app._driver.process_message(event)
    await app.settled()


async def test_alt_digit_bytes_switch_tabs_from_the_list_and_the_composer() -> None:
    async with running(MemorySource(accounts=3, chats_per_account=7, messages_per_chat=6)) as (
        app,
        pilot,
        source,
    ):
        accounts = [a.account_id for a in source.accounts()]
        await feed(app, "\x1b2")
        await pilot.pause()
        assert app.chats_screen.account_id == accounts[1]

        composer = app.query_one(Composer)
        composer.focus()
        await feed(app, "hi")
        await pilot.pause()
        chat = app.chats_screen.chat_id
        assert composer.text == "hi"
        await feed(app, "\x1b3")
        await pilot.pause()
        assert app.chats_screen.account_id == accounts[2]
        assert "™" not in composer.text and "£" not in composer.text
        assert (await source.draft(accounts[1], chat or "")) == "hi"


async def test_alt_digit_without_a_tab_types_nothing_into_the_draft() -> None:
    async with running() as (app, pilot, source):
        assert len(source.accounts()) < 9
        composer = app.query_one(Composer)
        composer.focus()
        await feed(app, "ok")
        await feed(app, "\x1b9\x1b0")
        await pilot.pause()
        assert composer.text == "ok"


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX pty")
def test_alt_digit_from_a_real_terminal(tmp_path: Path) -> None:
    """The whole path: bytes into a pty, Textual's Linux driver and parser, the console."""
    with pty_console(tmp_path) as console:
        first = console.state_when(lambda s: s["chat"] is not None)
        assert first["account"].endswith("1")
        console.write(b"\x1b2")
        console.state_when(lambda s: s["account"].endswith("2"))
        console.write(b"r")
        console.state_when(lambda s: s["focused"] == "Composer")
        console.write(b"hi")
        console.state_when(lambda s: s["draft"] == "hi")
        console.write(b"\x1b9\x1b0")  # no such tabs: nothing happens, nothing is typed
        console.write(b"!")
        assert console.state_when(lambda s: s["draft"] != "hi")["draft"] == "hi!"
        console.write(b"\x1b3")
        switched = console.state_when(lambda s: s["account"].endswith("3"))
        assert "™" not in switched["draft"] and "£" not in switched["draft"]


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX pty")
@pytest.mark.parametrize("how", ["the terminal closes", "SIGHUP"])
def test_a_console_whose_terminal_goes_away_quits_and_keeps_the_draft(
    tmp_path: Path, how: str
) -> None:
    """An SSH session dropped or a tmux pane closed: the console quits as a chatter's quit
    would, with the draft saved. Started under another process (``make demo``) it gets no
    SIGHUP, only a terminal that hung up; before, it spun on empty reads at half a core."""
    with pty_console(tmp_path) as console:
        console.state_when(lambda s: s["chat"] is not None)
        console.write(b"r")
        console.state_when(lambda s: s["focused"] == "Composer")
        console.write(b"hi")
        console.state_when(lambda s: s["draft"] == "hi")
        if how == "SIGHUP":
            console.child.send_signal(signal.SIGHUP)
        else:
            console.close_terminal()
        assert console.child.wait(timeout=20) == 0
        assert json.loads(Path(f"{console.out}.exit").read_text()) == {"saved_draft": "hi"}
