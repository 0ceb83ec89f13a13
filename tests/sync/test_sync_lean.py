"""Issue 17, cheaper sync: the lean pass fills the console from the chat list and fetches the
history of what a chatter reads soon, with no unread message missing; the rest comes on open;
`sync --dry-run` says what a sync will spend within 10%; a fan's profile is not fetched again
within its freshness window. Real sandbox over HTTP, real cache."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest
from support.sync import open_workspace, settings_for

from console.commands.sync import _sync
from console.sandbox.server import SandboxServer
from console.sandbox.world import CreatorState
from console.store import Store


def _unread_ids(creator: CreatorState) -> dict[str, list[str]]:
    """Each chat's unread messages (the fan's newest ``unread_count``), by chat id."""
    return {
        chat.id: [m["id"] for m in chat.messages[-chat.unread_count :]]
        for chat in creator.chats.values()
        if chat.unread_count
    }


async def _missing(store: Store, creator: CreatorState) -> list[str]:
    missing = []
    for ids in _unread_ids(creator).values():
        for message_id in ids:
            if await store.message(message_id) is None:
                missing.append(message_id)
    return missing


async def test_lean_sync_has_every_unread_message_for_a_fraction_of_a_full_one(
    tmp_path: Path,
) -> None:
    async with SandboxServer(seed=7, size="small", requests_per_minute=1_000_000) as server:
        creator = next(iter(server.world.accounts.values()))
        lean = await open_workspace(server, tmp_path / "lean.sqlite3", full=False)
        async with lean:
            await lean.start()
            await lean.wait_backfilled()
            lean_credits = lean.meter.used
            assert await lean.store.count_chats(creator.account_id) == 40
            assert await _missing(lean.store, creator) == []
            # A chat left to the chatter: its last message, and a gap below it filled on open.
            unread = _unread_ids(creator)
            quiet = next(
                c for c in creator.chat_order()[10:] if c.id not in unread and len(c.messages) > 12
            )
            assert [r.message_id for r in await lean.store.latest_messages(quiet.id, 50)] == [
                quiet.messages[-1]["id"]
            ]
            before = lean.meter.used
            rows = await lean.load_older(creator.account_id, quiet.id, None, 10)
            assert [r.message_id for r in rows] == [m["id"] for m in quiet.messages[-10:]]
            assert lean.meter.used == before + 1  # one page, on demand
        full = await open_workspace(server, tmp_path / "full.sqlite3", full=True)
        async with full:
            await full.start()
            await full.wait_backfilled()
            full_credits = full.meter.used
        # Small world: 16 of 40 chats have unread messages; a full pass reads 2-3 pages each.
        assert lean_credits <= 0.35 * full_credits, (lean_credits, full_credits)


def _figures(text: str, pattern: str) -> tuple[int, int]:
    found = re.search(pattern, text)
    assert found, text
    return int(found.group(1).replace(",", "")), int(found.group(2).replace(",", ""))


@pytest.mark.parametrize(("full", "size"), [(False, "default"), (True, "small")])
async def test_dry_run_estimates_within_ten_percent_of_what_the_sync_spends(
    full: bool, size: str, console_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with SandboxServer(seed=7, size=size, requests_per_minute=1_000_000) as server:
        settings = settings_for(server, messages_per_chat=30)
        args = argparse.Namespace(account=None, profile=None, full=full, dry_run=True)
        assert await _sync(args, settings) == 0
        plan = capsys.readouterr().out
        requests, credits = _figures(plan, r"In all: ([\d,]+) requests, ([\d,]+) credits")
        assert "a sync reads them again" in plan
        before = dict(server.gateway.usage.requests), server.gateway.credits_used()
        args.dry_run = False
        assert await _sync(args, settings) == 0
        out = capsys.readouterr().out
        spent_requests = sum(server.gateway.usage.requests.values()) - sum(before[0].values())
        spent_credits = server.gateway.credits_used() - before[1]
        assert re.search(r"Credits: [\d,]+ spent by this run", out), out
        if full:
            # A full plan counts every chat's pages at most; short chats end sooner.
            assert spent_credits <= credits and spent_requests <= requests
        else:
            assert abs(spent_credits - credits) <= 0.1 * spent_credits, (plan, spent_credits)
            assert abs(spent_requests - requests) <= 0.1 * spent_requests, (plan, spent_requests)


async def test_a_fans_profile_is_not_fetched_again_within_its_freshness_window(
    tmp_path: Path,
) -> None:
    async with SandboxServer(seed=7, size="small", requests_per_minute=1_000_000) as server:
        workspace = await open_workspace(server, tmp_path / "cache.sqlite3", full=False)
        async with workspace:
            await workspace.start()
            await workspace.wait_backfilled()
            account = workspace.accounts[0].account_id
            [row] = await workspace.store.chats(account, limit=1)
            fan = row.fan_id or ""

            def requests() -> int:
                return sum(server.gateway.usage.requests.values())

            for expected in (5, 0, 0):  # profile, lists, three for the spend; then nothing
                before = requests()
                task = workspace.refresh_fan(account, fan)
                assert task is not None
                await task
                assert requests() - before == expected
            # A change the chatter makes is read back at once.
            lists = await workspace.fan_lists(account, fan)
            before = requests()
            await workspace.set_fan_list(account, fan, lists[0][0].id, not lists[0][1])
            assert requests() - before == 1 + 5
            # Past the window, opening the chat fetches it again.
            workspace.engine(account).fan_fresh_seconds = 0
            before = requests()
            task = workspace.refresh_fan(account, fan)
            assert task is not None
            await task
            assert requests() - before == 5


async def test_a_lean_resync_leaves_no_hole_a_chatter_could_not_see(tmp_path: Path) -> None:
    """Fans write while the console is closed (no webhooks): the next lean pass and the
    chats' first opens show every chat's newest messages, none missing between them."""
    async with SandboxServer(seed=7, size="small", requests_per_minute=1_000_000) as server:
        creator = next(iter(server.world.accounts.values()))
        cache = tmp_path / "cache.sqlite3"
        workspace = await open_workspace(server, cache, full=False)
        async with workspace:
            await workspace.start()
            await workspace.wait_backfilled()
            fetched = []
            for chat in creator.chat_order():
                state = await workspace.store.sync_state.get_backfill(creator.account_id, chat.id)
                if state is not None and state.fetched:
                    fetched.append(chat)
        server.simulator.simulate(60, ["message.received"])  # nobody listening
        # And in chats whose history the first pass fetched: the creator answers from another
        # device, the fan writes once more (one unread message, two new ones). The first five
        # touched end below the top of the list, which a lean pass fetches anyway.
        world = server.world
        assert len(fetched) >= 10
        for chat in fetched[:10]:
            world.add_message(creator, chat, sender_id=creator.native_id, content="on my phone")
            world.add_message(creator, chat, sender_id=chat.fan_id, content="ok!")
        workspace = await open_workspace(server, cache, full=False)
        async with workspace:
            await workspace.start()
            await workspace.wait_backfilled()
            assert await _missing(workspace.store, creator) == []
            for chat in creator.chats.values():
                # Opening a chat: the cache's newest, and a page from the gateway first when
                # next to nothing is cached (console/tui/workspace_source.py).
                rows = await workspace.store.latest_messages(chat.id, 10)
                if len(rows) < 10:
                    await workspace.load_older(creator.account_id, chat.id, None, 10)
                    rows = await workspace.store.latest_messages(chat.id, 10)
                # Every one of the chat's newest messages is cached (the order of messages
                # sent within one second is the cache's own, so ids are compared as a set).
                newest = {m["id"] for m in chat.messages[-10:]}
                missing = [i for i in newest if await workspace.store.message(i) is None]
                assert missing == [], chat.id
