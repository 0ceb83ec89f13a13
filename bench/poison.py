"""Good deliveries under poison: how many are answered 503 while a gateway retries a poison one.

The listener as ``fansly-console listen`` runs it (uvicorn on ``EmbeddedServer`` in a thread,
the ingest worker process committing to a fresh SQLite cache). A paced sender posts good
``message.received`` deliveries (``--good-rate``/s, unique keys); beside it, a validly signed
poison delivery (``"createdAt": 1e300``, the same body each time, as a gateway's retries) is
posted ``--poison-rate`` times a second. The baseline, measured in the same run, is the same
good load with no poison. Figures: good deliveries answered 200 / 503 / other, the poison's
answers, how many times the ingest worker was started.

Runs on any checkout's code: ``bench/poison.py`` imports the ``console`` package beside it, so
a copy of this file in an older tree (``git archive main``) measures that tree.

    .venv/bin/python bench/poison.py [--seconds 22] [--good-rate 30] [--poison-rate 5] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from console.serving import EmbeddedServer
from console.webhooks.app import create_listener_app
from console.webhooks.signature import sign
from console.webhooks.worker import IngestWorker

SECRET = "whsec_bench_poison_0123456789"
PATH = "/webhooks/fansly"


def _body(document: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(document, separators=(",", ":")).encode()
    return body, {"Content-Type": "application/json", "X-Fansly-Signature": sign(SECRET, body)}


def good(n: int, run: int) -> tuple[bytes, dict[str, str]]:
    return _body(
        {
            "event": "message.received",
            "idempotencyKey": f"evt_good_{run}_{n}",
            "accountId": "fansly_acc_bench",
            "timestamp": "2026-09-22T12:00:00.000Z",
            "data": {
                "id": f"4{run:03d}{n:014d}",
                "groupId": f"2000000000000{n % 50:05d}",
                "senderId": f"6000000000000{n % 50:05d}",
                "content": f"good message {n}",
                "createdAt": 1_790_000_000 + n,
            },
        }
    )


#: A signed delivery no range check let through before issue 12 (OverflowError in to_utc).
POISON = _body(
    {
        "event": "message.received",
        "idempotencyKey": "evt_poison",
        "accountId": "fansly_acc_bench",
        "data": {"id": "4999", "groupId": "2999", "senderId": "6999", "createdAt": 1e300},
    }
)


async def _load(url: str, seconds: float, good_rate: float, poison_rate: float, run: int) -> dict:
    """Both senders for ``seconds``; every POST is a task of its own at its scheduled time, so
    a slow answer never delays the next send (as a gateway's parallel delivery workers)."""
    good_status: Counter[int] = Counter()
    poison_status: Counter[int] = Counter()
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def post(body: bytes, headers: dict[str, str], into: Counter[int]) -> None:
            started = time.perf_counter()
            try:
                response = await client.post(PATH, content=body, headers=headers)
                into[response.status_code] += 1
            except httpx.HTTPError:
                into[0] += 1  # no answer at all
            if into is good_status:
                latencies.append((time.perf_counter() - started) * 1000)

        schedule = [
            (n / good_rate, good(n, run), good_status) for n in range(int(seconds * good_rate))
        ]
        if poison_rate:
            schedule += [
                (n / poison_rate, POISON, poison_status) for n in range(int(seconds * poison_rate))
            ]
        schedule.sort(key=lambda item: item[0])
        tasks = []
        start = time.perf_counter()
        for at, (body, headers), into in schedule:
            delay = start + at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(post(body, headers, into)))
        await asyncio.gather(*tasks)
    return {
        "good_sent": sum(good_status.values()),
        "good_200": good_status[200],
        "good_503": good_status[503],
        "good_other": sum(v for k, v in good_status.items() if k not in (200, 503)),
        "good_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "good_max_ms": round(max(latencies), 1) if latencies else None,
        "poison_sent": sum(poison_status.values()),
        "poison_status": dict(sorted(poison_status.items())),
    }


async def measure(seconds: float, good_rate: float, poison_rate: float, run: int) -> dict:
    # One loop serves and sends (the worker, a process of its own, parses and commits): the
    # figure is how many answers are 503, which sharing a loop does not change.
    with tempfile.TemporaryDirectory() as tmp:
        worker = await IngestWorker.open(Path(tmp) / "cache.sqlite3")
        try:
            app = create_listener_app(intake=worker.intake, secrets=[SECRET])
            async with EmbeddedServer(app) as server:
                figures = await _load(server.url, seconds, good_rate, poison_rate, run)
            figures["worker_starts"] = worker.starts
        finally:
            await worker.close()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=22.0)
    parser.add_argument("--good-rate", type=float, default=30.0, help="good deliveries/s")
    parser.add_argument("--poison-rate", type=float, default=5.0, help="poison deliveries/s")
    parser.add_argument("--json", action="store_true", help="all figures as JSON, last line")
    args = parser.parse_args()
    baseline = asyncio.run(measure(args.seconds, args.good_rate, 0.0, run=1))
    poisoned = asyncio.run(measure(args.seconds, args.good_rate, args.poison_rate, run=2))
    for label, figures in (("no poison (baseline)", baseline), ("poison", poisoned)):
        print(
            f"{label:22s} good: {figures['good_200']} x 200, {figures['good_503']} x 503, "
            f"{figures['good_other']} other, of {figures['good_sent']} "
            f"(p50 {figures['good_p50_ms']} ms, max {figures['good_max_ms']} ms); "
            f"poison answers {figures['poison_status']}; worker starts {figures['worker_starts']}"
        )
    if args.json:
        print(
            json.dumps(
                {
                    "baseline": baseline,
                    "poison": poisoned,
                    "seconds": args.seconds,
                    "good_rate": args.good_rate,
                    "poison_rate": args.poison_rate,
                    "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
                }
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
