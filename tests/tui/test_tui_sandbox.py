"""The demo console end to end: the real sandbox over HTTP, the real store, the embedded
listener receiving signed webhooks; keys pressed as a chatter would, results checked in the
sandbox's own state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from support.tui import until
from support.webhooks import fan_writes

from console.sandbox.simulator import sign_delivery
from console.tui.composer import Composer
from console.tui.confirm import ConfirmUnsend
from console.tui.launch import build_demo
from console.tui.thread import Thread
from console.webhooks.app import DEFAULT_PATH


def _chat(sandbox: Any, account_id: str, chat_id: str) -> Any:
    return sandbox.world.accounts[account_id].chats[chat_id]


async def _stats(sandbox: Any) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"{sandbox.url}/_sandbox/stats", headers=sandbox.headers)
        return dict(answer.json()["data"] if "data" in answer.json() else answer.json())


async def test_reply_to_like_pin_and_mute_reach_the_gateway(demo: Any) -> None:
    app, pilot, running, sandbox = demo
    account, chat_id = app.chats_screen.account_id, app.chats_screen.chat_id
    await pilot.press("tab", "up")
    await app.settled()
    target = app.query_one(Thread).selected
    assert target is not None
    await pilot.press("R", *"thanks!", "enter")
    await app.settled()
    await pilot.press("tab", "up", "l", "p")  # back on the thread: like and pin the target
    await app.settled()
    await running.workspace.drain_outbox()
    chat = _chat(sandbox, account, chat_id)
    sent = chat.messages[-1]
    assert sent["content"] == "thanks!" and sent["inReplyTo"] == target.message_id
    await until(
        app, pilot, lambda: app.query_one(Thread).message_views[-1].row.state.value == "sent"
    )
    # The reply's quote is on screen.
    assert target.row.text[:20] in str(app.query_one(Thread).message_views[-1].render())
    selected = app.query_one(Thread).selected
    assert selected is not None
    liked = sandbox.world.message(sandbox.world.accounts[account], selected.message_id)
    assert liked["pinned"] is True
    assert liked["likes"], liked
    await pilot.press("m")
    await app.settled()
    await running.workspace.drain_outbox()
    assert chat.fan_id in sandbox.world.accounts[account].muted
    assert "muted" in str(app.query_one("#thread-title").render())


async def test_typing_indicator_is_throttled_at_the_gateway(demo: Any) -> None:
    """A burst of typing inside one 3 s interval reaches the gateway once; idle time sends
    nothing. The composer's throttle runs on a clock the test drives, so a loaded machine
    that takes more than 3 s of wall time to type the burst still types it "within" 3 s."""
    app, pilot, _running, sandbox = demo
    now = [1_000.0]
    app.query_one(Composer).clock = lambda: now[0]

    async def typed() -> int:
        return int((await _stats(sandbox))["requests"].get("typing", 0))

    before = await typed()
    await pilot.press("r")
    for key in "a fairly long message typed quickly":
        await pilot.press(key)
        now[0] += 0.05  # 35 keys in 1.75 s of the composer's time
    await app.settled()
    assert await typed() - before == 1
    now[0] += 60  # idle: time passes and no key is pressed
    await app.settled()
    await pilot.pause()
    assert await typed() - before == 1


async def test_signed_webhook_appears_in_the_open_thread(demo: Any) -> None:
    app, pilot, _running, sandbox = demo
    account, chat_id = app.chats_screen.account_id, app.chats_screen.chat_id
    thread = app.query_one(Thread)
    # The chat's newest page is on screen and scrolled to its end before the fan writes.
    await until(app, pilot, lambda: bool(thread.message_views) and thread.at_bottom)
    listener = app.services[0]
    message = await fan_writes(
        listener.url, sandbox, account, chat_id, "hello [b]from[/b] the webhook"
    )
    await until(app, pilot, lambda: thread.view_of(message["id"]) is not None)
    view = thread.view_of(message["id"])
    assert view is not None and "hello [b]from[/b] the webhook" in str(view.render())
    # Scrolling to the new end happens after the next refresh: wait for it, not for a time.
    await until(app, pilot, lambda: thread.at_bottom)
    # A forged one is refused and shows nothing.
    forged = {"event": "message.received", "idempotencyKey": "evt_forged", "accountId": account}
    body, headers = sign_delivery({**forged, "data": {**message, "content": "forged"}}, "x")
    headers["X-Fansly-Signature"] = "0" * 64
    async with httpx.AsyncClient() as client:
        answer = await client.post(listener.url + DEFAULT_PATH, content=body, headers=headers)
    assert answer.status_code in (400, 401, 403)


async def test_draft_survives_a_restart(tmp_path: Path) -> None:
    cache = tmp_path / "demo.sqlite3"
    chat_id = None
    for attempt in range(2):
        app, running, _sandbox = await build_demo(
            seed=7, size="small", simulate_per_minute=0, cache=cache
        )
        app.open_delay = 0
        try:
            async with app.run_test(size=(100, 30)) as pilot:
                await until(app, pilot, lambda: app.chats_screen.chat_id is not None)  # noqa: B023
                if attempt == 0:
                    chat_id = app.chats_screen.chat_id
                    await pilot.press("r", *"to be continued")
                    await app.settled()
                else:
                    await until(app, pilot, lambda: app.query_one("#composer").text != "")  # noqa: B023
                    assert app.chats_screen.chat_id == chat_id
                    assert app.query_one("#composer").text == "to be continued"
        finally:
            await running.stop()


async def test_unsend_key_asks_first_then_the_thread_shows_the_message_unsent(demo: Any) -> None:
    app, pilot, running, sandbox = demo
    account, chat_id = app.chats_screen.account_id, app.chats_screen.chat_id
    thread = app.query_one(Thread)
    await pilot.press("r", *"wrong chat", "enter")
    await running.workspace.drain_outbox()
    await until(app, pilot, lambda: thread.message_views[-1].row.state.value == "sent")
    sent_id = thread.message_views[-1].message_id
    await pilot.press("tab", "end", "U")
    await until(app, pilot, lambda: isinstance(app.screen, ConfirmUnsend))
    await pilot.press("n")  # kept: nothing queued
    await app.settled()
    assert len(app.screen_stack) == 1
    assert sandbox.world.message(sandbox.world.accounts[account], sent_id) is not None
    await pilot.press("U", "y")
    await until(app, pilot, lambda: thread.message_views[-1].has_class("-unsent"))
    assert "unsent" in str(thread.message_views[-1].render())
    await running.workspace.drain_outbox()
    assert sandbox.world.message(sandbox.world.accounts[account], sent_id) is None
    assert all(m["content"] != "wrong chat" for m in _chat(sandbox, account, chat_id).messages)
