"""SVG snapshots of selling from the composer (issue 15): the vault picker with its marks and a
price being typed, a PPV in the thread once bought, and the script picker filled in for a fan.

Update after an intended change with
``pytest tests/tui/test_tui_snapshots_selling.py --snapshot-update``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from support.fakes_tui import FIXED_NOW, MemorySource
from support.snapshots import settle, snapshot_app
from textual.pilot import Pilot

from console.tui.script_picker import ScriptPicker
from console.tui.vault_picker import VaultPicker


async def _history(pilot: Pilot[Any]) -> None:
    """Media sent to the open chat's fan before: one PPV bought, one free item not."""
    app = pilot.app
    source = app.source  # type: ignore[attr-defined]
    assert isinstance(source, MemorySource)
    account, chat = app.chats_screen.account_id, app.chats_screen.chat_id  # type: ignore[attr-defined]
    _albums, items = await source.vault(account)
    photos = [i.media_id for i in items if i.kind == "photo"]
    bought = await source.send_media(account, chat, "the beach set 🌊", photos[1:3], 15, None, None)
    source.settle(account, chat, bought)
    source.buy(account, chat, bought, FIXED_NOW - timedelta(minutes=20))
    free = await source.send_media(account, chat, "a little gift", photos[4:5], None, None, None)
    source.settle(account, chat, free)


def test_vault_picker_with_marks_and_a_price(snap_compare: Any) -> None:
    async def act(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await _history(pilot)
        await pilot.press("r", *"new set, just for you", "ctrl+g")
        await pilot.app.settled()  # type: ignore[attr-defined]
        assert isinstance(pilot.app.screen, VaultPicker)
        await pilot.press(*"photo", "tab", "down", "tab", "enter", *"15")
        await _settle_picker(pilot)

    assert snap_compare(snapshot_app(), terminal_size=(120, 36), run_before=act)


def test_ppv_in_the_thread_sent_then_bought(snap_compare: Any) -> None:
    async def act(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await _history(pilot)
        await settle(pilot)

    assert snap_compare(snapshot_app(), terminal_size=(120, 36), run_before=act)


def test_script_picker_filled_for_the_fan(snap_compare: Any) -> None:
    async def act(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("r", "ctrl+t")
        await pilot.app.settled()  # type: ignore[attr-defined]
        assert isinstance(pilot.app.screen, ScriptPicker)
        await pilot.press(*"vip")
        await _settle_picker(pilot)

    assert snap_compare(snapshot_app(), terminal_size=(120, 36), run_before=act)


async def _settle_picker(pilot: Pilot[Any]) -> None:
    await pilot.app.settled()  # type: ignore[attr-defined]
    await pilot.pause()
    for widget in pilot.app.screen.query("*"):
        if getattr(widget, "cursor_blink", False):
            widget.cursor_blink = False  # type: ignore[attr-defined]
    await pilot.pause()
