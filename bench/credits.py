"""Bench: the credits an empty console spends to reach its first usable screen with every unread
thread readable, against today's full backfill, on the sandbox (issue 17).

For each world size, on one sandbox (reads do not change its world), from an empty cache each:

- baseline: the full backfill (``sync --full``, the pass every sync made before issue 17): every
  chat's latest ``messages_per_chat`` (30);
- lean: the console's start-up pass (``sync``): the chat lists, and the history of the chats with
  more unread messages than the list row's last one, VIPs and the top of each list; then every
  unread message is looked up in the cache (the figure must be 0 missing);
- then: the chatter opens every unread chat (what that costs on top, on demand);
- the API's floor: what any console must spend for every unread message to be readable, given
  the gateway's paging (../shared/api/fansly-api.md §6, §9, §10: messages come per chat, at most
  10 a page, and a chat-list row carries only the last message): the chat-list pages the lean
  pass read, plus one message page per 10 unread messages past the last one, per chat.

Credits are counted twice: by the console's meter and by the sandbox's own bill (the same rule,
console/credit_rule.py); both are printed. The goal: lean ≤ 10% of the baseline's credits.

    python bench/credits.py [--sizes default,large] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from console.config import Profile, Secret, Settings, SyncSettings
from console.sandbox.server import SandboxServer
from console.sync.engine import Workspace

# A chat opened with fewer messages cached reads one gateway page first (the console's rule).
from console.tui.workspace_source import OPEN_FETCH

UNLIMITED = 10_000_000


#: Messages per page of a chat's history (the gateway's maximum, §6).
MESSAGE_PAGE = 10


@dataclass
class Run:
    label: str
    requests: int
    credits_meter: float
    credits_billed: float
    seconds: float
    unread_missing: int | None = None
    #: Credits of the chat-list pages (feature "chats") in this pass.
    list_credits: float = 0


def _settings(server: SandboxServer) -> Settings:
    profile = Profile(
        api_key=Secret(server.api_key),
        base_url=server.base_url,
        requests_per_minute=100_000,  # the config's ceiling: far above what a run sends
        timeout_seconds=60,
    )
    return Settings(
        profiles={"default": profile}, sync=SyncSettings(messages_per_chat=30, concurrency=4)
    )


def _billed(server: SandboxServer) -> tuple[int, float]:
    gateway = server.gateway
    return sum(gateway.usage.requests.values()), gateway.credits_used()


def _feature_billed(server: SandboxServer, feature: str) -> float:
    return sum(c for (_account, f), c in server.gateway.usage.credits_by.items() if f == feature)


def _floor_message_pages(server: SandboxServer) -> int:
    """One page per 10 unread messages past the one the chat-list row carries, per chat."""
    return sum(
        -(-(chat.unread_count - 1) // MESSAGE_PAGE)
        for creator in server.world.accounts.values()
        for chat in creator.chats.values()
        if chat.unread_count > 1
    )


async def _missing_unread(workspace: Workspace, server: SandboxServer) -> int:
    missing = 0
    for creator in server.world.accounts.values():
        for chat in creator.chats.values():
            if not chat.unread_count:
                continue
            for message in chat.messages[-chat.unread_count :]:
                if await workspace.store.message(message["id"]) is None:
                    missing += 1
    return missing


async def _pass(server: SandboxServer, cache: Path, full: bool) -> tuple[Run, Run | None]:
    workspace = await Workspace.open(_settings(server), path=cache, full_sync=full)
    requests0, billed0 = _billed(server)
    lists0 = _feature_billed(server, "chats")
    started = time.perf_counter()
    async with workspace:
        await workspace.start()
        await workspace.wait_backfilled()
        seconds = time.perf_counter() - started
        requests1, billed1 = _billed(server)
        missing = await _missing_unread(workspace, server)
        run = Run(
            "full backfill (baseline)" if full else "lean start-up sync",
            requests1 - requests0,
            workspace.meter.used,
            billed1 - billed0,
            seconds,
            missing,
        )
        run.list_credits = _feature_billed(server, "chats") - lists0
        if full:
            return run, None
        # The chatter then opens every unread chat (as WorkspaceSource.latest_messages does).
        meter0 = workspace.meter.used
        started = time.perf_counter()
        for creator in server.world.accounts.values():
            for chat in creator.chats.values():
                if chat.unread_count:
                    rows = await workspace.store.latest_messages(chat.id, OPEN_FETCH)
                    if len(rows) < OPEN_FETCH:
                        await workspace.load_older(creator.account_id, chat.id, None, OPEN_FETCH)
        requests2, billed2 = _billed(server)
        opened = Run(
            "+ opening every unread chat",
            requests2 - requests1,
            workspace.meter.used - meter0,
            billed2 - billed1,
            time.perf_counter() - started,
        )
        return run, opened


async def measure(size: str) -> dict[str, Any]:
    async with SandboxServer(seed=7, size=size, requests_per_minute=UNLIMITED) as server:
        world = server.world
        with tempfile.TemporaryDirectory(prefix="bench-credits-") as tmp:
            full, _ = await _pass(server, Path(tmp) / "full.sqlite3", full=True)
            lean, opened = await _pass(server, Path(tmp) / "lean.sqlite3", full=False)
        unread_chats = sum(
            1 for c in world.accounts.values() for chat in c.chats.values() if chat.unread_count
        )
        floor = lean.list_credits + _floor_message_pages(server)
        return {
            "size": size,
            "accounts": len(world.accounts),
            "chats": world.chat_count,
            "messages": world.message_count,
            "unread_chats": unread_chats,
            "runs": [asdict(r) for r in (full, lean, opened) if r is not None],
            "lean_share_of_full": lean.credits_billed / full.credits_billed,
            "api_floor_credits": floor,
            "api_floor_share_of_full": floor / full.credits_billed,
            "with_opening_share_of_full": (
                (lean.credits_billed + opened.credits_billed) / full.credits_billed
                if opened
                else None
            ),
        }


def _print(result: dict[str, Any]) -> None:
    print(
        f"\n{result['size']} world: {result['accounts']} accounts, {result['chats']:,} chats, "
        f"{result['messages']:,} messages, {result['unread_chats']:,} chats with unread messages"
    )
    print(
        f"  {'':28} {'requests':>9} {'credits (meter)':>16} {'credits (billed)':>17} "
        f"{'seconds':>8} {'unread missing':>15}"
    )
    for run in result["runs"]:
        missing = "" if run["unread_missing"] is None else str(run["unread_missing"])
        print(
            f"  {run['label']:28} {run['requests']:>9,} {run['credits_meter']:>16,.1f} "
            f"{run['credits_billed']:>17,.1f} {run['seconds']:>8.1f} {missing:>15}"
        )
    print(
        f"  lean / full credits: {result['lean_share_of_full']:.1%} (goal ≤ 10%); with every "
        f"unread chat opened: {result['with_opening_share_of_full']:.1%}"
    )
    print(
        f"  the API's floor (the chat lists + a message page per 10 unread past the last, per "
        f"chat): {result['api_floor_credits']:,.0f} credits = "
        f"{result['api_floor_share_of_full']:.1%} of full"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="default,large")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = []
    for size in args.sizes.split(","):
        result = asyncio.run(measure(size.strip()))
        results.append(result)
        if not args.json:
            _print(result)
            sys.stdout.flush()
    if args.json:
        json.dump(results, sys.stdout, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
