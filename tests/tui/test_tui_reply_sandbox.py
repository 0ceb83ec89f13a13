"""Issue 11 on the demo console (real sandbox over HTTP, real store and outbox): every action
shows on the screen before the gateway has answered (the outbox's visible effect), and the
screen still agrees with the gateway once it has; the fan profile of the chat open at start
is complete."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from support.sync import set_faults
from support.tui import OPTIONS, keys, until
from support.webhooks import fan_writes

from console.tui.chat_list import ROW_LINES, ChatList
from console.tui.launch import build_demo
from console.tui.profile import FanProfile
from console.tui.thread import MessageView, Thread

#: The gateway sits on each action this long: the screen must show it before.
HOLD = 3.0


async def _acted(
    demo: Any,
    route: str,
    pressed: tuple[str, ...],
    on_screen: Callable[[], bool],
    at_gateway: Callable[[], bool],
    after: Callable[[], bool] | None = None,
) -> None:
    """Press ``pressed`` while the gateway holds ``route``: the screen shows the action as
    soon as the keys are handled, the gateway has not got it yet; once it answers, both
    agree (the screen then shows ``after``, by default what it showed at once)."""
    app, pilot, running, sandbox = demo
    await set_faults(sandbox, {"route": route, "delay_before": HOLD})
    await keys(app, pilot, *pressed)
    assert on_screen(), f"{route}: not shown at once"
    assert not at_gateway(), f"{route}: the gateway answered first; the test proves nothing"
    await running.workspace.drain_outbox()
    await until(app, pilot, at_gateway)
    await until(app, pilot, after or on_screen)


def _creator(demo: Any) -> Any:
    app, _pilot, _running, sandbox = demo
    return sandbox.world.accounts[app.chats_screen.account_id]


def _world_message(demo: Any, message_id: str) -> dict[str, Any]:
    found = demo[3].world.message(_creator(demo), message_id)
    assert found is not None
    return dict(found)


async def _select_unliked(demo: Any) -> MessageView:
    """Select (in the thread) a message nobody has liked."""
    app, pilot, _running, _sandbox = demo
    await keys(app, pilot, "tab")
    thread = app.query_one(Thread)
    for _ in range(30):
        selected = thread.selected
        assert selected is not None
        if not _world_message(demo, selected.message_id)["likes"]:
            return selected
        await keys(app, pilot, "up")
    raise AssertionError("no message without likes in the open chat")


def _render(app: Any, message_id: str) -> str:
    view = app.query_one(Thread).view_of(message_id)
    return str(view.render()) if view is not None else ""


async def test_like_and_unlike_show_at_once_and_agree_with_the_gateway(demo: Any) -> None:
    app = demo[0]
    target = (await _select_unliked(demo)).message_id
    me = _creator(demo).native_id

    def liked_at_gateway() -> bool:
        return any(like["userId"] == me for like in _world_message(demo, target)["likes"])

    await _acted(
        demo, "like_message", ("l",), lambda: "♥ 1 (you)" in _render(app, target), liked_at_gateway
    )
    await _acted(
        demo,
        "unlike_message",
        ("l",),
        lambda: "♥" not in _render(app, target),
        lambda: not liked_at_gateway(),
    )


async def test_pin_and_unpin_show_at_once_and_agree_with_the_gateway(demo: Any) -> None:
    app, pilot = demo[0], demo[1]
    await keys(app, pilot, "tab")
    selected = app.query_one(Thread).selected
    assert selected is not None
    target = selected.message_id
    assert not _world_message(demo, target)["pinned"]

    def pinned_on_screen() -> bool:
        return "📌 pinned" in _render(app, target) and app.query_one("#pinned").display

    await _acted(
        demo,
        "pin_message",
        ("p",),
        pinned_on_screen,
        lambda: bool(_world_message(demo, target)["pinned"]),
    )
    await _acted(
        demo,
        "unpin_message",
        ("p",),
        lambda: "📌" not in _render(app, target),
        lambda: not _world_message(demo, target)["pinned"],
    )


def _list_line(app: Any, chat_id: str) -> str:
    """The open chat's preview line in the chat list, as painted."""
    chat_list = app.query_one(ChatList)
    index = next(i for i, row in chat_list.rows.items() if row.chat_id == chat_id)
    y = index * ROW_LINES + 1 - int(chat_list.scroll_y)
    return "".join(segment.text for segment in chat_list.render_line(y))


async def test_mute_and_unmute_show_at_once_everywhere_and_agree_with_the_gateway(
    demo: Any,
) -> None:
    app = demo[0]
    chat_id, fan_id = app.chats_screen.chat_id, app.chats_screen.fan_id
    creator = _creator(demo)

    def muted_on_screen(muted: bool) -> bool:
        title = str(app.query_one("#thread-title").render())
        profile = str(app.query_one("#profile-body").render())
        return (
            ("muted" in title) == muted
            and ("muted ·" in _list_line(app, chat_id)) == muted
            and ("Muted" in profile) == muted
        )

    await _acted(
        demo, "mute_chat", ("m",), lambda: muted_on_screen(True), lambda: fan_id in creator.muted
    )
    await _acted(
        demo,
        "unmute_chat",
        ("m",),
        lambda: muted_on_screen(False),
        lambda: fan_id not in creator.muted,
    )


async def test_send_and_retry_show_at_once_and_agree_with_the_gateway(demo: Any) -> None:
    app, pilot, running, sandbox = demo
    chat = _creator(demo).chats[app.chats_screen.chat_id]

    def at_gateway(text: str) -> Callable[[], bool]:
        return lambda: sum(m["content"] == text for m in chat.messages) == 1

    def last_view() -> MessageView:
        return app.query_one(Thread).message_views[-1]

    def shown(text: str, state: str) -> Callable[[], bool]:
        def check() -> bool:
            view = last_view()
            return view.row.text == text and view.row.state.value == state

        return check

    # Sent: "sending" at once, "sent" when the gateway has it.
    await _acted(
        demo,
        "send_message",
        ("r", *"hello there", "enter"),
        lambda: shown("hello there", "pending")() and "sending" in str(last_view().render()),
        at_gateway("hello there"),
        shown("hello there", "sent"),
    )

    # Refused once, then retried: pending again at once, sent when the gateway has it.
    await set_faults(sandbox, {"route": "send_message", "status": 400})
    await keys(app, pilot, *"second try", "enter")
    await running.workspace.drain_outbox()
    await until(app, pilot, shown("second try", "failed"))
    assert "failed" in str(last_view().render())
    await _acted(
        demo,
        "send_message",
        ("escape", "e"),
        shown("second try", "pending"),
        at_gateway("second try"),
        shown("second try", "sent"),
    )


async def test_profile_of_the_chat_open_at_start_is_complete(tmp_path: Path) -> None:
    """On a cached start the first chat opens from the cache before the workspace has
    attached its accounts; its fan's figures must still come (observed: "Lifetime spend: —,
    Tips: —" until the chatter moved away and back)."""
    cache = tmp_path / "demo.sqlite3"
    # First run: fill the cache, open no chat (so no fan is fetched).
    app, running, _sandbox = await build_demo(
        seed=7, size="small", simulate_per_minute=0, cache=cache, workspace_options=OPTIONS
    )
    app.open_delay = 3600
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            async with asyncio.timeout(20):  # not ``until``: it waits for the open timer
                while not running.workspace.engines:
                    await pilot.pause(0.05)
                await running.workspace.wait_backfilled()
            assert app.chats_screen.chat_id is None
    finally:
        await running.stop()
    # Second run: the first chat opens at once, from the cache.
    app, running, sandbox = await build_demo(
        seed=7, size="small", simulate_per_minute=0, cache=cache, workspace_options=OPTIONS
    )
    app.open_delay = 0
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await until(app, pilot, lambda: app.chats_screen.chat_id is not None)
            fan_id = app.chats_screen.fan_id
            profile = app.query_one(FanProfile)
            await until(
                app,
                pilot,
                lambda: (
                    profile.card is not None
                    and profile.card.fan.id == fan_id
                    and profile.card.fan.lifetime_spend_millis is not None
                    and app.chats_screen.fan_id == fan_id
                ),
            )
            body = str(app.query_one("#profile-body").render())
            assert "Lifetime spend: —" not in body and "Tips: —" not in body
            assert sandbox.gateway.usage.requests.get("fan_earnings", 0) == 1
    finally:
        await running.stop()


async def _webhook(demo: Any, chat: Any, text: str) -> None:
    """A fan of ``chat`` writes: the gateway stores it and posts the signed webhook."""
    app, _pilot, _running, sandbox = demo
    creator = _creator(demo)
    await fan_writes(app.services[0].url, sandbox, creator.account_id, chat.id, text)


async def test_webhooks_reordering_the_list_never_misroute_a_reply(demo: Any) -> None:
    """Signed webhooks move other chats to the top while the chatter types: each Enter lands,
    at the gateway, in the chat named in the composer's header at that moment."""
    app, pilot, running, _sandbox = demo
    creator = _creator(demo)
    await keys(app, pilot, "down", "down", "enter")
    sent: list[tuple[str, str]] = []
    for event in range(20):
        others = [c for c in creator.chats.values() if c.id != app.chats_screen.chat_id]
        await _webhook(demo, others[(event * 7) % len(others)], f"fan message {event}")
        await pilot.press(*f"r{event}")
        if event % 4 == 3:
            header = str(app.query_one("#composer").border_title)
            text = app.query_one("#composer").text
            await pilot.press("enter")
            sent.append((header, text))
    await app.settled()
    await running.workspace.drain_outbox()
    for header, text in sent:
        found = [c for c in creator.chats.values() if any(m["content"] == text for m in c.messages)]
        assert len(found) == 1, (text, header)
        fan = creator.fans[found[0].fan_id]
        assert f"@{fan['username']}" in header, (text, header)
