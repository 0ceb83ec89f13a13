"""The queue across accounts end to end (issue 16): the sandbox's agency world (25 accounts)
over HTTP, the real store, keys pressed as a chatter would."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from support.tui import until
from support.webhooks import deliver_message
from textual.pilot import Pilot

from console.config import NotifySettings, Settings, SyncSettings
from console.store.queue import badges
from console.tui.app import ConsoleApp
from console.tui.chat_list import ChatList
from console.tui.composer import Composer
from console.tui.followup import FollowUpForm, FollowUpStrip, RemindForm
from console.tui.launch import Running, build_demo
from console.tui.queue import QueueList, QueueScreen

#: Backfilling 1,000 chats takes ~25 s on a loaded machine: done once per module into a cache
#: file, copied for each test (the sandbox is rebuilt from the same seed: the same ids).
SETTINGS = Settings(sync=SyncSettings(concurrency=8))


async def _start(app: ConsoleApp, pilot: Pilot[int], running: Running, limit: float = 120) -> None:
    async with asyncio.timeout(limit):
        while running.workspace.engines == {}:
            await pilot.pause(0.05)
        await running.workspace.wait_backfilled()
    await until(
        app,
        pilot,
        lambda: len(app.chats_screen.accounts) == 25 and app.chats_screen.chat_id is not None,
    )


@pytest.fixture(scope="module")
def agency_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("agency") / "demo.sqlite3"

    async def build() -> None:
        app, running, _sandbox = await build_demo(
            seed=7, size="agency", simulate_per_minute=0, cache=path, settings=SETTINGS
        )
        try:
            async with app.run_test(size=(120, 36)) as pilot:
                await _start(app, pilot, running, limit=240)
        finally:
            await running.stop()

    asyncio.run(build())
    return path


@pytest.fixture
async def agency(
    agency_cache: Path, tmp_path: Path
) -> AsyncIterator[tuple[ConsoleApp, Pilot[int], Running, Any]]:
    cache = tmp_path / "demo.sqlite3"
    shutil.copyfile(agency_cache, cache)
    app, running, sandbox = await build_demo(
        seed=7, size="agency", simulate_per_minute=0, cache=cache, settings=SETTINGS
    )
    app.open_delay = 0
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await _start(app, pilot, running)
            yield app, pilot, running, sandbox
    finally:
        await running.stop()


def _waiting_in_sandbox(sandbox: Any) -> list[tuple[float, str, str]]:
    """(waiting since, account, chat) of every chat whose last message is the fan's."""
    found = []
    for account in sandbox.world.accounts.values():
        for chat in account.chats.values():
            fan_side = [m for m in chat.messages if m["senderId"] == chat.fan_id]
            creator_side = [m for m in chat.messages if m["senderId"] != chat.fan_id]
            last_answer = creator_side[-1]["createdAt"] if creator_side else -1
            waiting = [m["createdAt"] for m in fan_side if m["createdAt"] > last_answer]
            if waiting:
                found.append((waiting[0], account.account_id, chat.id))
    return sorted(found)


async def _queue(app: ConsoleApp, pilot: Pilot[int]) -> QueueList:
    await pilot.press("w")
    await until(app, pilot, lambda: isinstance(app.screen, QueueScreen))
    queue = app.screen.query_one(QueueList)
    await until(app, pilot, lambda: queue.loaded)
    return queue


async def test_queue_lists_the_longest_waiting_first_across_accounts(agency: Any) -> None:
    app, pilot, _running, sandbox = agency
    queue = await _queue(app, pilot)
    expected = _waiting_in_sandbox(sandbox)
    assert queue.total == len(expected) > 25
    shown = [(queue.rows[i].chat.account_id, queue.rows[i].chat.chat_id) for i in range(10)]
    # Longest first; ties (same second) may come in either order.
    assert {k for k in shown} <= {(a, c) for _, a, c in expected[:12]}
    assert shown[0] == (expected[0][1], expected[0][2])
    assert len({account for account, _ in shown}) > 1  # several accounts in one list
    screen_text = "\n".join(
        "".join(s.text for s in queue.render_line(y)) for y in range(queue.size.height)
    )
    first = queue.rows[0].chat
    assert app.chats_screen.account_name(first.account_id)[:10] in screen_text
    assert "waiting for an answer across 25 accounts" in str(
        app.screen.query_one("#queue-title").render()
    )


async def test_answering_the_top_opens_the_next_by_itself(agency: Any) -> None:
    app, pilot, running, sandbox = agency
    queue = await _queue(app, pilot)
    top, second = queue.rows[0].chat, queue.rows[1].chat
    total = queue.total
    await pilot.press("enter")
    await until(
        app,
        pilot,
        lambda: (
            (app.chats_screen.account_id, app.chats_screen.chat_id) == (top.account_id, top.chat_id)
        ),
    )
    await until(app, pilot, lambda: isinstance(app.focused, Composer))
    await pilot.press(*"sorry for the wait!", "enter")
    # The next one opens with the composer focused: no list in between.
    await until(
        app,
        pilot,
        lambda: (
            (app.chats_screen.account_id, app.chats_screen.chat_id)
            == (second.account_id, second.chat_id)
        ),
    )
    await until(app, pilot, lambda: isinstance(app.focused, Composer))
    await running.workspace.drain_outbox()
    chat = sandbox.world.accounts[top.account_id].chats[top.chat_id]
    assert chat.messages[-1]["content"] == "sorry for the wait!"
    # Esc goes back to the queue, which no longer lists the answered chat.
    await pilot.press("escape")
    await until(app, pilot, lambda: isinstance(app.screen, QueueScreen))
    queue = app.screen.query_one(QueueList)
    await until(app, pilot, lambda: queue.loaded and queue.total == total - 1)
    assert queue.rows[0].chat.chat_id == second.chat_id
    assert all(r.chat.chat_id != top.chat_id for r in queue.rows.values())


async def test_sort_by_spend_and_badges_on_screen(agency: Any) -> None:
    """The fans on screen are fetched once (their spend is not in the chat list), then the
    spend order and the tiers show."""
    app, pilot, _running, _sandbox = agency
    queue = await _queue(app, pilot)
    await pilot.press("o")
    await until(app, pilot, lambda: queue.sort == "spend" and queue.loaded)

    def known() -> bool:
        top = [queue.rows.get(i) for i in range(5)]
        return all(r is not None and r.chat.spend_millis is not None for r in top)

    await until(app, pilot, known)
    spends = [queue.rows[i].chat.spend_millis or 0 for i in range(5)]
    assert spends == sorted(spends, reverse=True) and spends[0] > 0
    top = queue.rows[0].chat
    words = badges(top, app.badge_rules, app.clock()).words()
    assert words and words[0].startswith("$")
    line = "".join(s.text for s in queue.render_line(0))
    assert f" {words[0]} " in line + " "
    assert "sorted by spend" in str(app.screen.query_one("#queue-title").render())


async def test_the_switcher_reaches_account_23(agency: Any) -> None:
    app, pilot, _running, _sandbox = agency
    target = app.chats_screen.accounts[22]
    assert target.name == "Gwen gaming"
    await pilot.press("g", *"gwen", "enter")
    await until(app, pilot, lambda: app.chats_screen.account_id == target.account_id)
    chat_list = app.query_one(ChatList)
    await until(app, pilot, lambda: chat_list.total > 0)
    assert {r.account_id for r in chat_list.rows.values()} == {target.account_id}


async def test_a_snoozed_chat_leaves_the_queue_and_returns_on_top_when_due(agency: Any) -> None:
    app, pilot, _running, _sandbox = agency
    queue = await _queue(app, pilot)
    top, total = queue.rows[0].chat, queue.total
    await pilot.press("z")
    await until(app, pilot, lambda: isinstance(app.screen, RemindForm))
    await pilot.press(*"20", "enter")
    await until(app, pilot, lambda: isinstance(app.screen, QueueScreen))
    await until(app, pilot, lambda: queue.loaded and queue.total == total - 1)
    assert all(r.chat.chat_id != top.chat_id for r in queue.rows.values())
    # Twenty minutes later (the console's clock) it is back, first, marked.
    real_clock = app.clock
    app.clock = queue.clock = lambda: real_clock() + timedelta(minutes=21)
    await app.chats_screen.queue_mode.tick()
    await until(app, pilot, lambda: queue.total == total and 0 in queue.rows)
    assert queue.rows[0].chat.chat_id == top.chat_id
    assert queue.rows[0].reminder_due is not None
    assert "⏰ reminder" in "".join(s.text for s in queue.render_line(0))
    # Answering it clears the reminder.
    await pilot.press("enter")
    await until(
        app,
        pilot,
        lambda: app.chats_screen.chat_id == top.chat_id and isinstance(app.focused, Composer),
    )
    await pilot.press(*"back now", "enter")
    await until(app, pilot, lambda: app.chats_screen.chat_id != top.chat_id)
    assert await app.source.reminder(top.account_id, top.chat_id) is None


async def test_a_follow_up_shows_in_the_thread_and_a_fan_message_cancels_it(
    agency: Any,
) -> None:
    app, pilot, running, sandbox = agency
    account_id, chat_id = app.chats_screen.account_id, app.chats_screen.chat_id
    await pilot.press("F")
    await until(app, pilot, lambda: isinstance(app.screen, FollowUpForm))
    await pilot.press(*"45", "enter", *"still up for tonight?", "enter")
    strip = app.query_one(FollowUpStrip)
    await until(app, pilot, lambda: strip.display)
    assert "follow-up at" in str(strip.render()) and "still up for tonight?" in str(strip.render())
    (item,) = await running.workspace.store.queue.follow_ups(chat_id)
    assert item.payload["content"] == "still up for tonight?"
    # The fan writes first (a signed webhook): the follow-up is gone, never sent.
    creator = sandbox.world.accounts[account_id]
    chat = creator.chats[chat_id]
    message = sandbox.world.add_message(creator, chat, sender_id=chat.fan_id, content="hey!")
    await deliver_message(app.services[0].url, sandbox, account_id, message)
    await until(app, pilot, lambda: not strip.display)
    assert await running.workspace.store.queue.follow_ups(chat_id) == []
    assert all(m["content"] != "still up for tonight?" for m in chat.messages)
    # C cancels one set by the chatter.
    await pilot.press("F")
    await until(app, pilot, lambda: isinstance(app.screen, FollowUpForm))
    await pilot.press(*"45", "enter", *"another", "enter")
    await until(app, pilot, lambda: strip.display)
    await pilot.press("C")
    await until(app, pilot, lambda: not strip.display)
    assert await running.workspace.store.queue.follow_ups(chat_id) == []


async def test_a_whale_writing_runs_the_alert_even_unfetched(agency: Any, tmp_path: Path) -> None:
    """A fan of spend tier $$$ whose profile the console never fetched writes: the console
    fetches it, then the whale alert runs (here the hook, given the alert as JSON)."""
    app, pilot, running, sandbox = agency
    out = tmp_path / "alert.json"
    script = tmp_path / "hook.py"
    script.write_text(f"import sys; open({str(out)!r}, 'w').write(sys.stdin.read())\n")
    app.notifier.settings = NotifySettings(whale=["hook"], hook=f"{sys.executable} {script}")
    open_chat = app.chats_screen.chat_id
    whale = None
    for creator in sandbox.world.accounts.values():
        for fan_id, txs in creator.transactions.items():
            chat_id = creator.chat_by_fan.get(fan_id)
            if chat_id and chat_id != open_chat and sum(t["totalGross"] for t in txs) >= 1_000_000:
                whale = (creator, creator.chats[chat_id])
                break
        if whale:
            break
    assert whale is not None
    creator, chat = whale
    row = await running.workspace.store.chat(chat.id)
    assert row is not None and row.spend_millis is None  # never fetched
    message = sandbox.world.add_message(creator, chat, sender_id=chat.fan_id, content="hi 💎")
    await deliver_message(app.services[0].url, sandbox, creator.account_id, message)
    async with asyncio.timeout(20):
        while not out.exists() or not out.read_text():
            await app.notifier.drain()
            await pilot.pause(0.05)
    alert = json.loads(out.read_text())
    assert alert["trigger"] == "whale" and alert["tier"] == 3 and alert["chat_id"] == chat.id


async def test_a_follow_up_is_set_from_the_composer_while_answering_from_the_queue(
    agency: Any,
) -> None:
    """Working from the queue, the answered chat leaves as the reply goes out: ctrl+o in the
    composer sets its follow-up first, and what was being written stays to be sent."""
    app, pilot, running, sandbox = agency
    queue = await _queue(app, pilot)
    top, second = queue.rows[0].chat, queue.rows[1].chat
    await pilot.press("enter")
    await until(
        app,
        pilot,
        lambda: app.chats_screen.chat_id == top.chat_id and isinstance(app.focused, Composer),
    )
    await pilot.press(*"here now", "ctrl+o")
    await until(app, pilot, lambda: isinstance(app.screen, FollowUpForm))
    await pilot.press(*"30", "enter", *"did you see it?", "enter")
    await until(app, pilot, lambda: app.screen is app.chats_screen)
    composer = app.query_one(Composer)
    await until(app, pilot, lambda: app.focused is composer)
    assert composer.text == "here now"
    await pilot.press("enter")
    await until(app, pilot, lambda: app.chats_screen.chat_id == second.chat_id)
    (item,) = await running.workspace.store.queue.follow_ups(top.chat_id)
    assert item.payload["content"] == "did you see it?"
    # The reply, sent, is the chatter's own message: it does not cancel the follow-up.
    await running.workspace.drain_outbox()
    chat = sandbox.world.accounts[top.account_id].chats[top.chat_id]
    assert chat.messages[-1]["content"] == "here now"
    assert len(await running.workspace.store.queue.follow_ups(top.chat_id)) == 1
