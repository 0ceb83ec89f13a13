"""Scripts and the guard on the demo (real sandbox, cache and listener): a script filled in from
the cache goes into the composer (never sent by itself), and the guard refuses to send a
restricted word, a link or a look-alike, inside a script too, so nothing reaches the gateway."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from support.tui import until

from console.config import GuardSettings, Settings
from console.tui.composer import Composer
from console.tui.launch import build_demo
from console.tui.pick_list import PickList
from console.tui.script_picker import ScriptPicker

SCRIPTS = """
[[script]]
name = "Greeting"
text = "Hi {name} (@{username}), {bogus}thanks for the {spend}!"

[[script]]
name = "Payment elsewhere"
text = "{name}, just send it to my ｐａｙｐａｌ"
"""


@pytest.fixture
async def guarded(tmp_path: Path) -> AsyncIterator[tuple[Any, Any, Any, Any]]:
    home = Path(os.environ["FANSLY_CONSOLE_HOME"])
    (home / "scripts.toml").write_text(SCRIPTS, encoding="utf-8")
    settings = Settings(guard=GuardSettings(words=["paypal"], no_links=True))
    app, running, sandbox = await build_demo(
        seed=7,
        size="small",
        simulate_per_minute=0,
        cache=tmp_path / "demo.sqlite3",
        settings=settings,
    )
    app.open_delay = 0
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await until(app, pilot, lambda: running.workspace.engines != {})
            await running.workspace.wait_backfilled()
            await until(app, pilot, lambda: app.chats_screen.chat_id is not None)
            yield app, pilot, running, sandbox
    finally:
        await running.stop()


async def _script(app: Any, pilot: Any, name: str) -> ScriptPicker:
    await pilot.press("ctrl+t")
    await until(app, pilot, lambda: isinstance(app.screen, ScriptPicker))
    picker = app.screen
    await pilot.press(*name)
    await until(app, pilot, lambda: picker.values.get("name") is not None)
    await app.settled()
    return picker


async def test_scripts_fill_from_the_cache_and_the_guard_sends_nothing(guarded: Any) -> None:
    app, pilot, running, sandbox = guarded
    account, chat_id = app.chats_screen.account_id, app.chats_screen.chat_id
    chat = sandbox.world.accounts[account].chats[chat_id]
    fan = await running.workspace.store.fan(account, chat.fan_id)
    assert fan is not None
    composer = app.chats_screen.query_one(Composer)
    sent_before = len(chat.messages)

    await pilot.press("r")
    picker = await _script(app, pilot, "greet")
    assert picker.scripts[picker.query_one(PickList).current].name == "Greeting"
    preview = str(picker.query_one("#scripts-preview").render())
    assert "left out: {bogus}" in preview
    await pilot.press("enter")
    await until(app, pilot, lambda: not isinstance(app.screen, ScriptPicker))
    name = fan.display_name or fan.username
    assert composer.text.startswith(f"Hi {name} (@{fan.username}), thanks for the $")
    assert "{" not in composer.text and "}" not in composer.text
    assert len(chat.messages) == sent_before  # inserted, not sent

    # A script carrying a restricted word (in fullwidth look-alikes): highlighted, refused.
    composer.clear()
    picker = await _script(app, pilot, "payment")
    await pilot.press("enter")
    await until(app, pilot, lambda: not isinstance(app.screen, ScriptPicker))
    await until(app, pilot, lambda: bool(composer.guard_hits))
    assert composer.guard_hits[0].what == "paypal"
    assert "⚠ guard: paypal" in composer._border_title.plain
    assert any(h[2] == "guard.hit" for line in composer._highlights.values() for h in line)
    await pilot.press("enter")
    await app.settled()
    assert any("paypal" in str(n.message) for n in app._notifications)
    assert composer.text.endswith("ｐａｙｐａｌ")  # kept for the chatter to edit

    # A link, and a word hidden with a zero-width space.
    for text in ("see www.example.com", "pay\u200bpal me"):
        composer.load_text(text)
        await pilot.press("enter")
        await app.settled()
    await running.workspace.drain_outbox()
    assert len(chat.messages) == sent_before
    assert await running.workspace.store.outbox.counts(account) == (0, 0)

    # Edited clean, it goes out.
    composer.load_text("thanks for being here")
    await app.settled()
    assert not composer.guard_hits
    await pilot.press("enter")
    await app.settled()
    await running.workspace.drain_outbox()
    assert chat.messages[-1]["content"] == "thanks for being here"
