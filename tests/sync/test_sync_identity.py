"""Issue 11.7: a gateway that lists a cached account with another creator behind it (another
world) never gets that cache merged into the new one, nor its queued replies. The real sandbox
on a real socket, the real cache file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from support.sync import another_creator_as, cached_with_a_queued_reply, open_workspace, wait_for

from console.sandbox.server import SandboxServer
from console.store import SET_ASIDE, OutboxState


async def test_an_account_whose_creator_changed_is_set_aside_not_merged(tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite3"
    first = SandboxServer(seed=7, size="small", requests_per_minute=100_000)
    async with first:
        account_id, chat_id = await cached_with_a_queued_reply(first, cache)
        old_creator = first.world.first_account().native_id
        old_chats = set(first.world.first_account().chats)

    other = SandboxServer(world=another_creator_as(account_id), requests_per_minute=100_000)
    new_creator = other.world.first_account().native_id
    assert new_creator != old_creator
    async with other:
        workspace = await open_workspace(other, cache)
        async with workspace:
            await workspace.start()
            await workspace.wait_backfilled()
            store = workspace.store

            # Said once, plainly.
            (change,) = workspace.set_aside
            assert (change.old_creator_id, change.new_creator_id) == (old_creator, new_creator)
            assert change.chats == 40 and change.unsent == 1
            text = change.text()
            assert old_creator in text and new_creator in text and "(old)" in text

            # Two accounts, two worlds: the tab holds the new creator's chats only.
            rows = {row.account_id: row for row in await store.accounts()}
            aside = rows[change.aside_id]
            assert aside.status == SET_ASIDE and aside.fansly_account_id == old_creator
            assert rows[account_id].fansly_account_id == new_creator
            new_chats = {c.chat_id for c in await store.chats(account_id, limit=500)}
            assert new_chats == set(other.world.first_account().chats)
            assert {c.chat_id for c in await store.chats(change.aside_id, limit=500)} == old_chats
            assert [a.account_id for a in workspace.accounts] == [account_id, change.aside_id]

            # The old world's reply went nowhere: failed with the reason, kept, not retried.
            assert other.gateway.usage.requests["send_message"] == 0
            (item,) = await store.outbox.items(change.aside_id)
            assert item.state is OutboxState.FAILED and item.chat_id == chat_id
            assert "identity changed" in (item.last_error or "")
            assert change.aside_id not in workspace.engines
            with pytest.raises(ValueError, match="identity changed"):
                await workspace.retry(item.client_id)

        # The next start on the same gateway: nothing changes any more.
        again = await open_workspace(other, cache)
        async with again:
            await again.start()
            await again.wait_backfilled()
            assert again.set_aside == []
            assert len(await again.store.accounts()) == 2
            assert await again.store.count_chats(account_id) == 40


def test_sync_says_when_an_account_is_another_creator_now(tmp_path: Path) -> None:
    """`fansly-console sync` (a real process) says it too, and keeps the worlds apart."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("FANSLY_")}
    env.update(FANSLY_CONSOLE_HOME=str(tmp_path), FANSLY_API_KEY="k", CI="true")
    first = SandboxServer(seed=7, size="small", api_key="k", requests_per_minute=100_000)
    account_id = first.world.first_account().account_id
    worlds = [first, SandboxServer(world=another_creator_as(account_id), api_key="k")]
    runs = []
    for server in worlds:
        server.start_thread()
        try:
            runs.append(
                subprocess.run(
                    [sys.executable, "-m", "console", "sync"],
                    env={**env, "FANSLY_API_BASE_URL": server.base_url},
                    capture_output=True,
                    text=True,
                    timeout=120,
                    check=False,
                )
            )
        finally:
            server.stop_thread()
    assert [run.returncode for run in runs] == [0, 0], runs[-1].stderr
    assert "different Fansly account" not in runs[0].stderr
    assert runs[1].stderr.count("different Fansly account") == 1
    assert runs[1].stderr.startswith("fansly-console: ")
    assert "(old)" in runs[1].stderr and "Traceback" not in runs[1].stderr


async def test_queued_replies_wait_for_the_identity_check_when_the_gateway_was_down(
    tmp_path: Path,
) -> None:
    """Down at start, the console shows the cached accounts; when the gateway comes back with
    another creator behind the account, nothing queued for the old one reaches it (the senders
    wait for the gateway's listing, not only for the gateway)."""
    cache = tmp_path / "cache.sqlite3"
    first = SandboxServer(seed=7, size="small", requests_per_minute=100_000)
    async with first:
        account_id, _chat_id = await cached_with_a_queued_reply(first, cache)
    world = another_creator_as(account_id)
    down = SandboxServer(world=world, requests_per_minute=100_000)
    down.server.socket.close()  # the address refuses connections
    workspace = await open_workspace(down, cache)
    async with workspace:
        await workspace.start()
        await asyncio.sleep(0)  # the listing fails; the cached accounts are shown meanwhile
        async with workspace.bus.subscribe() as updates:

            async def lost() -> bool:
                return workspace.connection.state != "live" and account_id in workspace.engines

            await wait_for(lost, updates)
            back = SandboxServer(
                world=world,
                port=down.server.port,
                api_key=down.api_key,
                requests_per_minute=100_000,
            )
            # The listing is slow (the probe's and the attach's): a sender that only waited
            # for the gateway would have sent the old world's reply meanwhile.
            slow = {"route": "list_accounts", "delay_before": 0.4}
            back.gateway.faults.configure({"next": [slow, slow]})
            async with back:
                await workspace.wait_attached()
                await workspace.wait_backfilled()
                (change,) = workspace.set_aside
                assert change.unsent == 1
                assert back.gateway.usage.requests["send_message"] == 0
                (item,) = await workspace.store.outbox.items(change.aside_id)
                assert "identity changed" in (item.last_error or "")
