"""Webhook listener throughput and latency, beside bare endpoints measured in the same run.

One server (uvicorn on ``EmbeddedServer``, in a thread) serves, each endpoint reached by one
dict lookup on its path (as ``listen``'s app takes the webhook POST before any routing):

- ``POST /webhooks/fansly``: the listener as ``fansly-console listen`` runs it: signature check
  on the loop, then the ingest worker process parses, normalises and commits each event in a
  real SQLite cache (group commit) before the 200; hub fan-out after the answer;
- ``POST /webhooks/in-process``: the listener as the TUI embeds it: parsed, normalised and
  committed through a ``Store`` in this process (its writer thread);
- ``POST /webhooks/memory``: the in-process listener with an in-memory log instead of SQLite;
- ``POST /bare``: a Starlette endpoint that answers 200 without reading the body or working;
- ``POST /bare-asgi``: a plain ASGI callable that reads the body and answers a constant 200
  (the listener's POST is served as plain ASGI too, so this is the like-for-like floor).

Throughput: separate loader processes POST pre-signed deliveries (unique keys) as fast as the
server answers; the ratio (listener over the faster bare endpoint) is the figure that holds on
a noisy machine. No subscriber is attached meanwhile (a ``listen`` process with no console
connected). CPU per request is read from /proc: the server's event loop, its other threads
(the in-process store's writer), the ingest worker's process and the loaders. Latency: a paced
sender at a steady rate (200/s by default) to ``/webhooks/fansly`` and an in-process hub
subscriber; from just before the POST to the subscriber's get().

    .venv/bin/python bench/webhooks.py [--seconds 5] [--rounds 3] [--loaders 2]
        [--concurrency 16] [--rate 200] [--latency-events 2000] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import select
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# The in-memory event log (the baseline sink) is a test fake.
sys.path.insert(1, str(Path(__file__).resolve().parent.parent / "tests"))

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from support.fakes_webhooks import MemoryEventLog

from console.events import Event
from console.serving import EmbeddedServer
from console.store import Store
from console.webhooks.app import create_listener_app
from console.webhooks.hub import EventHub
from console.webhooks.signature import sign
from console.webhooks.worker import IngestWorker

SECRET = "whsec_bench_0123456789"
PATH = "/webhooks/fansly"
#: Requests each loader prepares per second of run: above any rate it can reach (a 4,000 cap
#: once clipped the bare endpoint at exactly 8,000/s with two loaders).
PREPARED_PER_SECOND = 12_000
MEMORY_PATH = "/webhooks/memory"
IN_PROCESS_PATH = "/webhooks/in-process"
BARE_ASGI_PATH = "/bare-asgi"


class BareASGI:
    """The stack's floor: a plain ASGI callable that reads the body and answers a constant.

    The listener's POST is served the same way (no Starlette Request/Response), so this is the
    like-for-like baseline beside the Starlette endpoint ``/bare``.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive()).get("more_body"):
            pass
        headers = [(b"content-type", b"application/json"), (b"content-length", b"11")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"ok":true}'})


class Endpoints:
    """The bench's top-level app: each plain-ASGI endpoint by its exact path, the rest
    (``/bare``, the lifespan) through Starlette.

    Every endpoint under test is reached the same way, one dict lookup, as ``listen`` reaches
    the listener (its app is the server's top-level app, which takes the POST before any
    Starlette routing or middleware).
    """

    def __init__(self, endpoints: dict[str, Any], rest: Starlette) -> None:
        self.endpoints = endpoints
        self.rest = rest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self.endpoints.get(scope["path"]) if scope["type"] == "http" else None
        await (app or self.rest)(scope, receive, send)


def delivery(n: int, tag: str) -> tuple[bytes, dict[str, str]]:
    """A signed §16.0 message.received with a unique key and message id."""
    body = json.dumps(
        {
            "event": "message.received",
            "idempotencyKey": f"evt_{tag}_{n}",
            "accountId": "fansly_acc_bench",
            "timestamp": "2026-09-22T12:00:00.000Z",
            "data": {
                # A Fansly id is a digit string (the listener refuses others): the tag as digits.
                "id": f"4{zlib.crc32(tag.encode()):010d}{n:08d}",
                "groupId": f"2000000000000{n % 50:05d}",
                "senderId": f"6000000000000{n % 50:05d}",
                "content": f"bench message {n}: are you online tonight?",
                "createdAt": 1_790_000_000 + n,
                "attachments": [],
                "interactions": [],
            },
        },
        separators=(",", ":"),
    ).encode()
    return body, {"Content-Type": "application/json", "X-Fansly-Signature": sign(SECRET, body)}


# --- the loaders (separate processes) ----------------------------------------------------


async def _post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """One keep-alive HTTP/1.1 POST on an open connection; the status code."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


def _request(host: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _load(url: str, seconds: float, concurrency: int, tag: str) -> tuple[int, float]:
    """Keep ``concurrency`` keep-alive connections busy until ``seconds`` pass; how many
    requests were answered, and this process's CPU time meanwhile.

    A minimal HTTP/1.1 client on epoll, no asyncio: the loaders share the server's two cores,
    so every microsecond they spend per request is taken from the server under test (an
    asyncio client cost ~55-90 µs per request, this one ~half; httpx's pool cost more than the
    bare endpoint itself).
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    # Bodies are signed before the clock starts: signing is the gateway's cost, not ours.
    prepared = [
        _request(f"{host}:{port}", parts.path, *delivery(n, tag))
        for n in range(int(PREPARED_PER_SECOND * seconds))
    ]
    poller = select.epoll()
    connections: dict[int, tuple[socket.socket, bytearray]] = {}
    for _ in range(concurrency):
        sock = socket.create_connection((host, port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        connections[sock.fileno()] = (sock, bytearray())
        poller.register(sock.fileno(), select.EPOLLIN)
    done = 0
    cpu = time.process_time()
    deadline = time.perf_counter() + seconds
    sent = 0
    for sock, _ in connections.values():
        sock.send(prepared[sent])
        sent += 1
    while connections:
        for fd, _ in poller.poll(1.0):
            sock, buffer = connections[fd]
            buffer += sock.recv(65536)
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                continue
            head = bytes(buffer[:end]).lower()
            at = head.find(b"content-length:")
            length = int(head[at + 15 : head.find(b"\r\n", at) % (len(head) + 1)]) if at >= 0 else 0
            if len(buffer) < end + 4 + length:
                continue  # the body is still on its way
            if head[9:12] != b"200":
                raise RuntimeError(f"status {head[9:12].decode()}")
            del buffer[: end + 4 + length]
            done += 1
            if sent < len(prepared) and time.perf_counter() < deadline:
                sock.send(prepared[sent])
                sent += 1
            else:
                poller.unregister(fd)
                sock.close()
                del connections[fd]
    poller.close()
    if sent >= len(prepared):
        # The rate would be the loader's cap, not the server's.
        print("warning: a loader ran out of prepared requests", file=sys.stderr)
    return done, time.process_time() - cpu


def _loader(url: str, seconds: float, concurrency: int, tag: str, out: Any) -> None:
    out.put(_load(url, seconds, concurrency, tag))


@dataclass
class Run:
    """One throughput run: the rate, and CPU per request by whom (µs)."""

    rps: float
    loop_us: float  # the server's event-loop thread (HTTP stack + listener)
    other_us: float  # the server's other threads (the store's writer)
    worker_us: float  # the ingest worker's process (parse, normalise, commit)
    loader_us: float  # the loader processes


def _stat_cpu(path: str) -> float:
    """CPU seconds (user + system) from a /proc ``stat`` file."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    stat = Path(path).read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / tick


def _thread_cpu(worker: int | None = None) -> dict[int, float]:
    """CPU seconds of each thread of this process, and of the ingest worker's process under
    the key ``-pid`` (Linux /proc; empty elsewhere)."""
    out: dict[int, float] = {}
    with contextlib.suppress(OSError):
        for tid in os.listdir("/proc/self/task"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                out[int(tid)] = _stat_cpu(f"/proc/self/task/{tid}/stat")
    if worker is not None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            out[-worker] = _stat_cpu(f"/proc/{worker}/stat")
    return out


def load(
    url: str,
    *,
    seconds: float,
    loaders: int,
    concurrency: int,
    tag: str,
    loop_thread: int,
    worker: int | None,
) -> Run:
    """Requests per second the server answered (all loaders together), and who spent CPU."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    processes = [
        context.Process(target=_loader, args=(url, seconds, concurrency, f"{tag}{i}", out))
        for i in range(loaders)
    ]
    for process in processes:
        process.start()
    # Each loader starts its own clock once its bodies are signed; their runs overlap but are
    # not perfectly aligned, so the sum slightly understates a fully parallel load. Thread CPU
    # is read around the whole wait, loaders' signing included: the server is idle then.
    before = _thread_cpu(worker)
    results = [out.get(timeout=seconds + 120) for _ in processes]
    after = _thread_cpu(worker)
    for process in processes:
        process.join()
    done = sum(count for count, _ in results) or 1
    spent = {tid: cpu - before.get(tid, 0.0) for tid, cpu in after.items()}
    loop_cpu = spent.pop(loop_thread, 0.0)
    worker_cpu = spent.pop(-worker, 0.0) if worker is not None else 0.0
    # The main thread only waits for the loaders here; the rest are the server's.
    spent.pop(threading.get_native_id(), None)
    return Run(
        rps=done / seconds,
        loop_us=loop_cpu / done * 1e6,
        other_us=sum(spent.values()) / done * 1e6,
        worker_us=worker_cpu / done * 1e6,
        loader_us=sum(cpu for _, cpu in results) / done * 1e6,
    )


# --- the server ---------------------------------------------------------------------------


class Bench:
    """The server under test: listener + bare endpoint + an in-process hub subscriber."""

    def __init__(self, folder: Path, template: Path | None = None) -> None:
        self.folder = folder
        self.template = template
        self.cache = self._round_cache(0)
        self.store: Store | None = None
        self.worker = IngestWorker(self.cache)
        self.hub = EventHub(token="bench-token")
        self.received: dict[str, float] = {}
        self.all_received = threading.Condition()
        #: The server's event-loop thread, for CPU accounting (set once it serves).
        self.loop_thread = 0
        self.loop: asyncio.AbstractEventLoop | None = None

    async def sink(self, event: Event) -> int | None:
        assert self.store is not None
        applied = await self.store.apply_event(event)
        return None if applied is None else applied.seq

    async def intake(self, body: bytes, headers: Any, want_event: bool) -> Any:
        return await self.worker.intake(body, headers, want_event)

    async def _open(self, cache: Path) -> None:
        self.cache = cache
        self.store = await Store.open(cache)
        self.hub.log = self.store
        self.worker = IngestWorker(cache)
        await self.worker.start()

    async def _close(self) -> None:
        await self.worker.close()
        if self.store is not None:
            await self.store.close()

    def _round_cache(self, number: int) -> Path:
        """Round ``number``'s cache: new and empty, or a copy of ``--start-from``."""
        path = self.folder / f"round{number}.sqlite3"
        if self.template is not None:
            shutil.copyfile(self.template, path)
        return path

    def fresh_cache(self, number: int) -> None:
        """Round ``number`` writes to a new, empty cache, so every round measures the same
        thing (a cache's write cost grows with its size: see bench/README.md)."""
        assert self.loop is not None

        async def swap() -> None:
            await self._close()
            await self._open(self._round_cache(number))

        asyncio.run_coroutine_threadsafe(swap(), self.loop).result(120)

    def attach_subscriber(self) -> None:
        """Subscribe in-process (the latency phase). The throughput runs have no subscriber,
        as a ``listen`` process with no console connected."""
        assert self.loop is not None
        subscribed = threading.Event()
        asyncio.run_coroutine_threadsafe(self.subscriber(subscribed), self.loop)
        subscribed.wait(10)

    async def subscriber(self, subscribed: threading.Event) -> None:
        async with self.hub.subscribe() as queue:
            subscribed.set()
            while True:
                event = await queue.get()
                self.received[event.idempotency_key] = time.perf_counter()
                if queue.empty():
                    with self.all_received:
                        self.all_received.notify_all()

    def app(self) -> Endpoints:
        # As `fansly-console listen` serves it: the ingest worker parses and commits.
        listener = create_listener_app(intake=self.intake, secrets=[SECRET], hub=self.hub)
        # As the TUI embeds it: parsed and committed in this process.
        in_process = create_listener_app(
            self.sink, secrets=[SECRET], path=IN_PROCESS_PATH, hub=self.hub
        )
        # The same listener with an in-memory log: its own cost without SQLite.
        memory = create_listener_app(
            MemoryEventLog().apply_event, secrets=[SECRET], path=MEMORY_PATH, hub=EventHub()
        )

        async def bare(request: Request) -> Response:
            return JSONResponse({"ok": True})

        @contextlib.asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            self.loop_thread = threading.get_native_id()
            self.loop = asyncio.get_running_loop()
            await self._open(self.cache)
            try:
                yield
            finally:
                await self._close()

        return Endpoints(
            {
                BARE_ASGI_PATH: BareASGI(),
                PATH: listener,
                IN_PROCESS_PATH: in_process,
                MEMORY_PATH: memory,
            },
            Starlette(routes=[Route("/bare", bare, methods=["POST"])], lifespan=lifespan),
        )


async def _paced(url: str, rate: float, count: int, tag: str = "lat") -> dict[str, float]:
    """POST ``count`` deliveries at ``rate`` per second; when each POST started, by
    idempotency key (``evt_<tag>_<n>``). Also bench/team.py's pacer."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    prepared = [
        (f"evt_{tag}_{n}", _request(f"{host}:{port}", parts.path, *delivery(n, tag)))
        for n in range(count)
    ]
    sent: dict[str, float] = {}
    queue: asyncio.Queue[tuple[str, bytes] | None] = asyncio.Queue()

    async def sender() -> None:
        # Several open connections, like a gateway's delivery workers: one slow answer does
        # not hold back the next event.
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while (item := await queue.get()) is not None:
                key, request = item
                sent[key] = time.perf_counter()
                status = await _post(reader, writer, request)
                if status != 200:
                    raise RuntimeError(f"status {status}")
        finally:
            writer.close()

    senders = [asyncio.create_task(sender()) for _ in range(8)]
    start = time.perf_counter()
    for n, item in enumerate(prepared):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait(item)
    for _ in senders:
        queue.put_nowait(None)
    await asyncio.gather(*senders)
    return sent


def _pacer(url: str, rate: float, count: int, out: Any, tag: str = "lat") -> None:
    out.put(asyncio.run(_paced(url, rate, count, tag)))


def paced(url: str, bench: Bench, rate: float, count: int) -> list[float]:
    """Latency (ms) from just before each POST to the in-process subscriber's ``get()``.

    The sender is another process, so it does not share the server's GIL; ``perf_counter``
    is CLOCK_MONOTONIC on Linux, one clock for every process of the machine.
    """
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    process = context.Process(target=_pacer, args=(url, rate, count, out))
    process.start()
    sent: dict[str, float] = out.get(timeout=count / rate + 120)
    process.join()
    # The last events reach the subscriber just after their answers: wait for them.
    with bench.all_received:
        arrived = bench.all_received.wait_for(lambda: sent.keys() <= bench.received.keys(), 10)
    if not arrived:
        print("warning: some events never reached the subscriber", file=sys.stderr)
    return [(bench.received[key] - at) * 1000 for key, at in sent.items() if key in bench.received]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


#: The endpoints of one round, in the order they are loaded: (name, path, label, note).
ENDPOINTS = (
    ("bare", "/bare", "bare endpoint", "Starlette endpoint, no work"),
    ("bare_asgi", BARE_ASGI_PATH, "bare ASGI", "plain ASGI, reads the body, no work"),
    ("listener", PATH, "listener -> cache", "as `listen` runs it: the ingest worker commits"),
    ("in_process", IN_PROCESS_PATH, "in-process -> cache", "as the TUI embeds it"),
    ("in_process_memory", MEMORY_PATH, "in-process, memory", "in-memory log, no SQLite"),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per throughput run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of all runs")
    parser.add_argument("--loaders", type=int, default=2, help="loader processes")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight each")
    parser.add_argument("--rate", type=float, default=200.0, help="events/s for latency")
    parser.add_argument("--latency-events", type=int, default=2000)
    parser.add_argument(
        "--start-from",
        type=Path,
        help="a cache each round starts from (a copy), e.g. bench/store.py's 1,000,000 messages",
    )
    parser.add_argument("--json", action="store_true", help="all figures as JSON, last line")
    args = parser.parse_args()

    # Rounds: every endpoint once per round, one after the other, so the baseline and the
    # listener are measured seconds apart. This machine's speed drifts by tens of per cent
    # within a minute (a shared VM), so each round's ratio is taken within the round, and the
    # figure is the median of the rounds.
    rounds: list[dict[str, Run]] = []
    with tempfile.TemporaryDirectory() as tmp:
        bench = Bench(Path(tmp), args.start_from)
        server = EmbeddedServer(bench.app()).start_thread()
        try:
            opts: dict[str, Any] = {
                "seconds": args.seconds,
                "loaders": args.loaders,
                "concurrency": args.concurrency,
                "loop_thread": bench.loop_thread,
            }
            # A warm-up round, not measured: the first endpoint loaded used to run on a cold
            # server (imports, caches, the ingest worker's first batches) and always lost.
            opts["worker"] = bench.worker.pid
            for name, path, _, _ in ENDPOINTS:
                warm = {**opts, "seconds": max(1.0, args.seconds / 4)}
                load(f"{server.url}{path}", tag=f"{name}warmx", **warm)
            for number in range(args.rounds):
                bench.fresh_cache(number + 1)
                opts["worker"] = bench.worker.pid
                # The order rotates every round: no endpoint is always first or last.
                shift = number % len(ENDPOINTS)
                order = ENDPOINTS[shift:] + ENDPOINTS[:shift]
                runs = {
                    name: load(f"{server.url}{path}", tag=f"{name}{number}x", **opts)
                    for name, path, _, _ in order
                }
                rounds.append({name: runs[name] for name, *_ in ENDPOINTS})
            bench.attach_subscriber()
            latencies = paced(f"{server.url}{PATH}", bench, args.rate, args.latency_events)
        finally:
            server.stop_thread()
        stored = len(bench.received)

    def ratio(runs: dict[str, Run], name: str) -> float:
        # Over the faster of the two baselines, so the fast path cannot flatter itself.
        floor = max(runs["bare"].rps, runs["bare_asgi"].rps)
        return runs[name].rps / floor if floor else 0.0

    def median(name: str, field: str) -> float:
        return statistics.median(getattr(runs[name], field) for runs in rounds)

    ratios = [ratio(runs, "listener") for runs in rounds]
    figure = statistics.median(ratios)
    p50 = statistics.median(latencies) if latencies else float("nan")
    p99 = percentile(latencies, 99) if latencies else float("nan")
    figures: dict[str, Any] = {
        "ratio": round(figure, 3),
        "ratio_per_round": [round(value, 3) for value in ratios],
        "ratio_goal": 0.5,
        "in_process_ratio": round(statistics.median(ratio(r, "in_process") for r in rounds), 3),
        "in_process_memory_ratio": round(
            statistics.median(ratio(r, "in_process_memory") for r in rounds), 3
        ),
        "rps_per_round": {
            name: [round(runs[name].rps, 1) for runs in rounds] for name, *_ in ENDPOINTS
        },
        "cpu_us_per_request_median": {
            name: {
                "loop": round(median(name, "loop_us"), 1),
                "other_threads": round(median(name, "other_us"), 1),
                "ingest_worker": round(median(name, "worker_us"), 1),
                "loaders": round(median(name, "loader_us"), 1),
            }
            for name, *_ in ENDPOINTS
        },
        "latency_rate_per_s": args.rate,
        "latency_events": len(latencies),
        "latency_p50_ms": round(p50, 2),
        "latency_p99_ms": round(p99, 2),
        "latency_max_ms": round(max(latencies), 2) if latencies else None,
        "latency_p99_goal_ms": 20.0,
        "events_reaching_subscriber": stored,
        "rounds": args.rounds,
        "start_from": str(args.start_from) if args.start_from else None,
        "loaders": args.loaders,
        "concurrency": args.concurrency,
        "seconds": args.seconds,
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }
    print(
        f"load average {figures['load_average'][0]:.1f} (1 min) on {os.cpu_count()} cores; "
        "req/s per round (a warm-up round first, the order rotated each round); median CPU "
        "per request (us): server event loop / its other threads (store writer) / ingest "
        "worker process / loaders"
    )
    for name, _, label, note in ENDPOINTS:
        rates = " ".join(f"{runs[name].rps:7.0f}" for runs in rounds)
        print(
            f"{label:20s}{rates}   cpu {median(name, 'loop_us'):4.0f} / "
            f"{median(name, 'other_us'):4.0f} / {median(name, 'worker_us'):4.0f} / "
            f"{median(name, 'loader_us'):3.0f}   ({note})"
        )
    print(
        f"listener -> cache / best bare, per round: "
        f"{' '.join(f'{value:.3f}' for value in ratios)}; median {figure:.3f} "
        f"(goal >= 0.5: {'ok' if figure >= 0.5 else 'MISSED'}); in-process: "
        f"{figures['in_process_ratio']}, in-process memory: {figures['in_process_memory_ratio']}"
    )
    print(
        f"POST -> subscriber at {args.rate:.0f}/s: p50 {p50:.2f} ms, p99 {p99:.2f} ms "
        f"(goal <= 20 ms: {'ok' if p99 <= 20 else 'MISSED'}), n={len(latencies)}"
    )
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
