"""Team mode's server: ingest rate and fan-out latency, beside ``listen`` in the same run.

Processes, as an operator runs them: a throwaway PostgreSQL 15 cluster (fsync on, as in
production), two ``fansly-console serve`` instances on it, and one ``fansly-console listen``
(the solo hub over its SQLite cache) as the baseline.

- **Ingest**: a loader process (bench/webhooks.py's epoll HTTP/1.1 client) keeps 16
  keep-alive connections busy with signed deliveries for ``--seconds``, against ``listen``,
  then one ``serve`` instance, then both instances at once (one loader each); rounds
  alternate, the median is kept. Goal: one instance ≥ 0.5× ``listen``'s rate.
- **Fan-out latency**: ``--consoles`` websocket consoles (half on each instance) read the
  stream while two paced senders (other processes) POST ``--rate`` events/s in all, half to
  each instance; latency is from just before a POST to each console's receipt
  (CLOCK_MONOTONIC, one clock for every process), over every (event, console) pair. The same
  with the same number of consoles on ``listen``'s hub is the baseline. Goal: p99 ≤ 50 ms at
  200 events/s with 50 consoles.
- **Memory per console**: the RSS of the instance the consoles connect to, before and with
  them connected, divided by their number.

    .venv/bin/python bench/team.py [--seconds 4] [--rounds 3] [--consoles 50] [--rate 200]
        [--events 2000] [--ingest-only]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import asyncpg
from webhooks import SECRET, _loader, _pacer, percentile
from websockets.asyncio.client import connect

from console.commands.team_demo import start_verb
from console.team.auth import add_chatter
from console.team.cluster import Cluster
from console.team.pg import open_database

HOOK = "/webhooks/fansly"


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def ingest(urls: list[str], seconds: float, tag: str) -> float:
    """Deliveries per second answered 200 (all loaders together, one per URL)."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    processes = [
        context.Process(target=_loader, args=(url + HOOK, seconds, 16, f"{tag}{i}", out))
        for i, url in enumerate(urls)
    ]
    for process in processes:
        process.start()
    results = [out.get(timeout=seconds + 180) for _ in processes]
    for process in processes:
        process.join()
    return sum(count for count, _ in results) / seconds


async def _consoles(
    urls: list[str], tokens: list[str], expected: int, ready: Any, out: Any
) -> None:
    """One process's consoles: connect, say so, record when each event key arrives."""
    received: list[dict[str, float]] = [{} for _ in urls]
    async with contextlib.AsyncExitStack() as stack:
        opened = [
            await stack.enter_async_context(
                connect(
                    url.replace("http://", "ws://") + "/events",
                    additional_headers={"Authorization": f"Bearer {token}"},
                    max_size=8 * 1024 * 1024,
                )
            )
            for url, token in zip(urls, tokens, strict=True)
        ]
        done = asyncio.Event()

        async def read(got: dict[str, float], ws: Any) -> None:
            async for text in ws:
                # The key alone: a console's own parse is not the server's cost.
                at = time.perf_counter()
                start = text.find('"idempotency_key":"') + 19
                got[text[start : text.find('"', start)]] = at
                if len(got) >= expected and all(len(r) >= expected for r in received):
                    done.set()

        readers = [
            asyncio.create_task(read(got, ws)) for got, ws in zip(received, opened, strict=True)
        ]
        ready.put(True)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(expected / 50 + 120):
                await done.wait()
        for reader in readers:
            reader.cancel()
    out.put(received)


def _console_process(
    urls: list[str], tokens: list[str], expected: int, ready: Any, out: Any
) -> None:
    asyncio.run(_consoles(urls, tokens, expected, ready, out))


async def fan_out(
    urls: list[str],
    tokens: list[str],
    consoles: int,
    rate: float,
    events: int,
    tag: str,
    *,
    processes: int = 2,
    watch_pid: int | None = None,
) -> tuple[list[float], float]:
    """Latencies (ms) of every (event, console), and the RSS per console (KB) of
    ``watch_pid`` once its consoles are connected. The consoles run in ``processes`` other
    processes, so reading 50 streams does not share this process with the senders."""
    context = multiprocessing.get_context("spawn")
    ready, out = context.Queue(), context.Queue()
    before = _rss_kb(watch_pid) if watch_pid else 0
    targets = [urls[i % len(urls)] for i in range(consoles)]
    readers = [
        context.Process(
            target=_console_process,
            args=(targets[p::processes], tokens[p::processes], events, ready, out),
        )
        for p in range(processes)
    ]
    for reader in readers:
        reader.start()
    for _ in readers:
        await asyncio.to_thread(ready.get, True, 120)
    await asyncio.sleep(0.5)
    watched = sum(1 for url in targets if url == urls[-1])
    per_console = (_rss_kb(watch_pid) - before) / max(1, watched) if watch_pid else 0.0
    pacers = [
        context.Process(
            target=_pacer,
            args=(url + HOOK, rate / len(urls), events // len(urls), out, f"{tag}{i}"),
        )
        for i, url in enumerate(urls)
    ]
    for pacer in pacers:
        pacer.start()
    results = [
        await asyncio.to_thread(out.get, True, events / rate + 300)
        for _ in range(len(pacers) + processes)
    ]
    for process in (*pacers, *readers):
        process.join()
    sent: dict[str, float] = {}
    received: list[dict[str, float]] = []
    for result in results:
        if isinstance(result, dict):
            sent.update(result)
        else:
            received.extend(result)
    latencies = [
        (got[key] - at) * 1000 for got in received for key, at in sent.items() if key in got
    ]
    missing = len(sent) * consoles - len(latencies)
    if missing:
        print(f"warning: {missing} (event, console) pairs never arrived", file=sys.stderr)
    return latencies, per_console


async def main_async(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="fansly-bench-team-"))
    with Cluster(fast=False, synchronous_commit=args.synchronous_commit == "on") as cluster:
        admin = await asyncpg.connect(cluster.url())
        await admin.execute("CREATE DATABASE bench")
        await admin.close()
        url = cluster.url("bench")
        await open_database(url)
        conn = await asyncpg.connect(url)
        tokens = [await add_chatter(conn, f"c{i}", [], admin=True) for i in range(args.consoles)]
        await conn.close()
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "FANSLY_CONSOLE_DATABASE_URL": url}
        listen_env = {**env, "FANSLY_CONSOLE_HOME": str(tmp / "listen-home")}
        serve_env = {**env, "FANSLY_CONSOLE_HOME": str(tmp / "serve-home")}
        listen, listen_url = await start_verb(
            "listen", "--secret", SECRET, env=listen_env, log_path=tmp / "listen.log"
        )
        first, first_url = await start_verb(
            "serve", "--secret", SECRET, env=serve_env, log_path=tmp / "serve1.log"
        )
        second, second_url = await start_verb(
            "serve", "--secret", SECRET, env=serve_env, log_path=tmp / "serve2.log"
        )
        try:
            hub_token = (tmp / "listen-home" / "data" / "hub-token").read_text().strip()
            solo, one, two = [], [], []
            for r in range(args.rounds):
                solo.append(ingest([listen_url], args.seconds, f"l{r}_"))
                one.append(ingest([first_url], args.seconds, f"a{r}_"))
                two.append(ingest([first_url, second_url], args.seconds, f"b{r}_"))
                print(
                    f"round {r + 1}: listen {solo[-1]:.0f}/s, one serve {one[-1]:.0f}/s, "
                    f"two serves {two[-1]:.0f}/s",
                    flush=True,
                )
            m_solo, m_one, m_two = (statistics.median(v) for v in (solo, one, two))
            print(
                "\ningest (deliveries answered 200 per second, median of rounds; "
                f"synchronous_commit={args.synchronous_commit})"
            )
            print(f"  listen (SQLite, ingest worker)   {m_solo:8.0f}/s   baseline")
            print(f"  serve, one instance (PostgreSQL) {m_one:8.0f}/s   {m_one / m_solo:.2f}x")
            print(f"  serve, two instances together    {m_two:8.0f}/s   {m_two / m_solo:.2f}x")
            if args.ingest_only:
                return 0

            base, _ = await fan_out(
                [listen_url],
                [hub_token] * args.consoles,
                args.consoles,
                args.rate,
                args.events,
                "hl",
            )
            team, per_console = await fan_out(
                [first_url, second_url],
                tokens,
                args.consoles,
                args.rate,
                args.events,
                "ht",
                watch_pid=second.pid,
            )
            print(
                f"\nfan-out: webhook -> each of {args.consoles} consoles at {args.rate:.0f} "
                f"events/s ({args.events} events)"
            )
            for name, values in (("listen's hub (baseline)", base), ("two serve instances", team)):
                print(
                    f"  {name:<24} p50 {percentile(values, 50):6.1f} ms  p99 "
                    f"{percentile(values, 99):6.1f} ms  max {max(values):7.1f} ms  "
                    f"({len(values)} deliveries to consoles)"
                )
            print(f"\nmemory per connected console (serve instance RSS): {per_console:.0f} KB")
        finally:
            for process in (listen, first, second):
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGINT)
            for process in (listen, first, second):
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(15):
                        await process.wait()
                if process.returncode is None:
                    process.kill()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--consoles", type=int, default=50)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--ingest-only", action="store_true", help="skip the fan-out part")
    parser.add_argument(
        "--synchronous-commit",
        choices=["on", "off"],
        default="off",
        help="PostgreSQL's synchronous_commit; off matches the solo cache's durability "
        "(SQLite WAL, synchronous=NORMAL: a process crash loses nothing, a power cut may "
        "lose the last moments)",
    )
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
