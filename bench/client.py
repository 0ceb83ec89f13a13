"""Bench: page through every chat and message of one sandbox account, ours vs bare httpx.

Starts ``fansly-console sandbox`` as a separate process (so the server does not share our
GIL), then alternates rounds of the same walk done by ``FanslyClient`` (envelope checks,
budget, typed models) and by a bare ``httpx.AsyncClient`` that only parses JSON and follows
cursors. The ratio of the two, measured in the same run, is the figure to watch (goal: ours
within 1.3x of bare httpx).

    python bench/client.py [--rounds 5] [--size default] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import httpx

from console.api.client import FanslyClient
from console.serving import bind

UNLIMITED = 10_000_000


@dataclass
class Walk:
    requests: int
    items: int
    seconds: float

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def items_per_second(self) -> float:
        return self.items / self.seconds


async def walk_ours(base_url: str, key: str, account_id: str) -> Walk:
    started = time.perf_counter()
    items = 0
    async with FanslyClient(base_url, key, requests_per_minute=UNLIMITED) as client:
        chats = [chat async for chat in client.iter_chats(account_id, limit=100)]
        items += len(chats)
        for chat in chats:
            async for _message in client.iter_messages(account_id, chat.id):
                items += 1
        requests = client.requests_sent
    return Walk(requests, items, time.perf_counter() - started)


async def walk_bare(base_url: str, key: str, account_id: str) -> Walk:
    started = time.perf_counter()
    items = requests = 0
    headers = {"x-api-key": key}
    async with httpx.AsyncClient(base_url=base_url, headers=headers) as http:
        chat_ids: list[str] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            body = (await http.get(f"/{account_id}/chats", params=params)).json()
            requests += 1
            rows = body["data"]["data"]["response"]["data"]
            chat_ids.extend(row["groupId"] for row in rows)
            cursor = body["data"].get("nextCursor")
            if not rows or not cursor:
                break
        items += len(chat_ids)
        for chat_id in chat_ids:
            cursor = None
            while True:
                params = {"limit": 10, **({"cursor": cursor} if cursor else {})}
                body = (
                    await http.get(f"/{account_id}/chats/{chat_id}/messages", params=params)
                ).json()
                requests += 1
                response = body["data"]["data"]["response"]
                items += len(response["messages"])
                cursor = response.get("cursor")
                if not response["messages"] or not cursor:
                    break
    return Walk(requests, items, time.perf_counter() - started)


def start_sandbox(size: str, key: str) -> tuple[subprocess.Popen[str], str]:
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "console",
            "sandbox",
            "--port",
            str(port),
            "--api-key",
            key,
            "--size",
            size,
            "--requests-per-minute",
            str(UNLIMITED),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("FANSLY_")},
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "base URL" in line:
            return process, f"http://127.0.0.1:{port}/api/fansly"
    raise SystemExit("the sandbox did not start")


async def bench(base_url: str, key: str, rounds: int) -> dict[str, Any]:
    async with FanslyClient(base_url, key, requests_per_minute=UNLIMITED) as client:
        account_id = (await client.list_accounts())[0].account_id
    await walk_bare(base_url, key, account_id)  # warm-up: connections, caches, imports
    ours: list[Walk] = []
    bare: list[Walk] = []
    for index in range(rounds):
        # Alternate which goes first so drift in the machine's load hits both sides alike.
        order = (walk_ours, walk_bare) if index % 2 == 0 else (walk_bare, walk_ours)
        for walk in order:
            result = await walk(base_url, key, account_id)
            (ours if walk is walk_ours else bare).append(result)
    assert {w.items for w in ours} == {w.items for w in bare}, "the two walks saw different data"

    def best(walks: list[Walk]) -> Walk:
        return min(walks, key=lambda w: w.seconds)

    def median_rps(walks: list[Walk]) -> float:
        return statistics.median(w.requests_per_second for w in walks)

    # The best round is the cost of the code itself; slower rounds measure the machine's other
    # load (this runs beside other work), so the ratio is taken on the best rounds.
    return {
        "rounds": rounds,
        "requests_per_walk": ours[0].requests,
        "items_per_walk": ours[0].items,
        "ours_requests_per_s": round(best(ours).requests_per_second, 1),
        "ours_items_per_s": round(best(ours).items_per_second, 1),
        "bare_requests_per_s": round(best(bare).requests_per_second, 1),
        "bare_items_per_s": round(best(bare).items_per_second, 1),
        "ratio": round(best(ours).seconds / best(bare).seconds, 3),  # >1: ours is slower
        "median_ratio": round(median_rps(bare) / median_rps(ours), 3),
        "goal": 1.3,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--size", choices=["small", "default", "large"], default="default")
    parser.add_argument("--json", action="store_true", help="figures as JSON on the last line")
    args = parser.parse_args()
    key = secrets.token_urlsafe(16)
    process, base_url = start_sandbox(args.size, key)
    try:
        figures = asyncio.run(bench(base_url, key, args.rounds))
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    print(
        f"one account, {figures['requests_per_walk']} requests and "
        f"{figures['items_per_walk']} chats+messages per walk, {args.rounds} rounds each "
        "(best round of each):"
    )
    print(
        f"  bare httpx   {figures['bare_requests_per_s']:>8.1f} req/s "
        f"{figures['bare_items_per_s']:>9.1f} items/s"
    )
    print(
        f"  FanslyClient {figures['ours_requests_per_s']:>8.1f} req/s "
        f"{figures['ours_items_per_s']:>9.1f} items/s"
    )
    verdict = "within" if figures["ratio"] <= figures["goal"] else "OUTSIDE"
    print(
        f"  ratio {figures['ratio']:.3f}x ({verdict} the {figures['goal']}x goal); "
        f"on medians {figures['median_ratio']:.3f}x"
    )
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
