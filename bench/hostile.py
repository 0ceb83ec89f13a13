"""Slow or hostile clients against ``fansly-console listen``: this tree beside a baseline tree.

Each side is a real ``listen`` process (its own cache, the common soft file limit of 1,024),
run from this tree ("after") and from a baseline ref exported with ``git archive`` ("before",
``main`` by default), one after the other in the same run:

- **listener**: a good signed delivery's latency on a fresh connection, quiet; then under
  ``--held`` connections holding 1 MiB bodies (all but the last byte), alone and beside
  ``--slow`` slowloris connections (part of a head, then nothing), while the bodies are pushed
  and once they are; the process's RSS before and its peak (VmHWM); the bytes and lines it
  wrote to stderr;
- **hub**: ``--events`` deliveries of ``--content`` bytes of incompressible text posted to a
  fresh ``listen``; then ``--consoles`` websockets that resume from seq 0 and never read (small
  receive buffers, as over a real link); the process's RSS before and its peak after
  ``--settle`` seconds.

    .venv/bin/python bench/hostile.py [--before main] [--slow 2000] [--held 300]
        [--consoles 4] [--events 200] [--content 100000] [--settle 5] [--json]

Linux only (reads /proc). The bench raises its own soft file limit to fit its sockets.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# The hostile clients and the delivery samples are the tests' own (tests/support/).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import httpx
from support.hostile import (
    close_all,
    held_bodies,
    raise_fd_limit,
    rss_mb,
    slowloris,
    wait_until_read,
)
from support.webhooks import contract, message_object

from console.webhooks.signature import sign

ROOT = Path(__file__).resolve().parent.parent
SECRET = "whsec_bench_hostile_0123456789"
TOKEN = "bench-hub-token-0123456789abcdef"
SERVER_FD_LIMIT = 1024


@dataclass
class Listen:
    process: subprocess.Popen[bytes]
    url: str
    stderr: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1].split("/", 1)[0])

    @property
    def pid(self) -> int:
        return self.process.pid


def export_tree(ref: str, into: Path) -> Path:
    """``console/`` as it is at ``ref`` (``git archive``: no worktree, no checkout)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "console"], check=True, capture_output=True
    ).stdout
    into.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def _server_limits() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = SERVER_FD_LIMIT if hard == resource.RLIM_INFINITY else min(SERVER_FD_LIMIT, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))


@contextlib.contextmanager
def listen(tree: Path, home: Path) -> Iterator[Listen]:
    """``fansly-console listen`` with ``tree``'s ``console`` package first on the path."""
    home.mkdir(parents=True, exist_ok=True)
    stderr = home / "stderr.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(tree),
        "PYTHONUNBUFFERED": "1",
        "FANSLY_CONSOLE_HOME": str(home),
        "FANSLY_CONSOLE_WEBHOOKS__HUB_TOKEN": TOKEN,
    }
    with stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "console", "listen", "--port", "0", "--secret", SECRET],
            stdout=subprocess.PIPE,
            stderr=err,
            env=env,
            cwd=home,  # not this tree: the working directory comes first on sys.path
            preexec_fn=_server_limits,
        )
    assert process.stdout is not None
    url = ""
    try:
        for raw in process.stdout:
            line = raw.decode()
            if "webhook URL" in line:
                url = line.split(": ", 1)[1].strip()
            if "Ctrl-C stops" in line:
                break
        else:
            raise RuntimeError(f"listen exited early: {stderr.read_text()[-2000:]}")
        yield Listen(process, url, stderr)
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def deliver(url: str, text: str, timeout: float = 5.0) -> float | None:
    """One signed delivery on a fresh connection (a plain socket: no client set-up in the
    figure): seconds to its 200, or None (refused, reset, or no answer in ``timeout``)."""
    parts = urlsplit(url)
    body = contract("message.received", message_object(content=text))
    request = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"X-Fansly-Signature: {sign(SECRET, body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    started = time.perf_counter()
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
            sock.settimeout(max(0.01, timeout - (time.perf_counter() - started)))
            sock.sendall(request)
            status = sock.recv(64)
    except OSError:
        return None
    return time.perf_counter() - started if status.startswith(b"HTTP/1.1 200") else None


def latencies(results: list[float | None]) -> dict[str, Any]:
    ok = [r * 1000 for r in results if r is not None]
    return {
        "ok": len(ok),
        "sent": len(results),
        "median_ms": round(statistics.median(ok), 1) if ok else None,
        "max_ms": round(max(ok), 1) if ok else None,
    }


def listener_side(tree: Path, home: Path, slow: int, held: int) -> dict[str, Any]:
    with listen(tree, home) as server:
        host, port = "127.0.0.1", server.port
        quiet = [deliver(server.url, f"quiet {i}") for i in range(5)]
        rss_before = rss_mb(server.pid)
        slow_socks = slowloris(host, port, slow)
        pushed: list[socket.socket] = []
        pusher = threading.Thread(
            target=lambda: pushed.extend(held_bodies(host, port, held, deadline=20))
        )
        pusher.start()
        during: list[float | None] = []
        while pusher.is_alive():
            during.append(deliver(server.url, f"during {len(during)}"))
            time.sleep(0.2)
        pusher.join()
        read_all = wait_until_read(port, 10)
        after = [deliver(server.url, f"after {i}") for i in range(5)]
        peak = rss_mb(server.pid, "VmHWM")
        close_all(slow_socks + pushed)
    log = server.stderr.read_bytes()
    return {
        "quiet": latencies(quiet),
        "during_push": latencies(during),
        "under_load": latencies(after),
        "server_read_everything": read_all,
        "rss_before_mb": round(rss_before),
        "rss_peak_mb": round(peak),
        "stderr_bytes": len(log),
        "stderr_lines": log.count(b"\n"),
    }


def _non_reading_console(port: int) -> socket.socket:
    """A websocket handshake for ``after=0``, then never another read (64 KiB buffer)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /events?after=0 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Bearer {TOKEN}\r\n\r\n"
        ).encode()
    )
    return sock


def hub_side(
    tree: Path, home: Path, consoles: int, events: int, content: int, settle: float
) -> dict[str, Any]:
    with listen(tree, home) as server:
        rng = random.Random(7)
        with httpx.Client(timeout=30) as client:
            for i in range(events):
                noise = base64.b64encode(rng.randbytes(content)).decode()[:content]
                body = contract("message.received", message_object(content=f"{i} {noise}"))
                response = client.post(
                    server.url, content=body, headers={"X-Fansly-Signature": sign(SECRET, body)}
                )
                response.raise_for_status()
        rss_before = rss_mb(server.pid)
        socks = [_non_reading_console(server.port) for _ in range(consoles)]
        # Let each stream fill what it can: RSS stops growing once every send waits.
        time.sleep(settle)
        rss_now = rss_mb(server.pid)
        peak = rss_mb(server.pid, "VmHWM")
        close_all(socks)
    return {
        "rss_before_mb": round(rss_before),
        "rss_after_mb": round(rss_now),
        "rss_peak_mb": round(peak),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default="main", help="baseline git ref (default: main)")
    parser.add_argument("--slow", type=int, default=2000, help="slowloris connections")
    parser.add_argument("--held", type=int, default=300, help="held 1 MiB bodies")
    parser.add_argument("--consoles", type=int, default=4, help="non-reading hub consoles")
    parser.add_argument("--events", type=int, default=200, help="events in the hub's log")
    parser.add_argument("--content", type=int, default=100_000, help="bytes of text per event")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds consoles stay")
    parser.add_argument("--json", action="store_true", help="all figures as JSON, last line")
    parser.add_argument("--keep", type=Path, help="keep the caches and stderr logs here")
    args = parser.parse_args()

    soft = raise_fd_limit(args.slow + args.held + 512)
    if soft < args.slow + args.held + 64:
        args.slow = max(0, soft - args.held - 64)
        print(f"(file limit {soft}: --slow lowered to {args.slow})")
    figures: dict[str, Any] = {"before_ref": args.before}
    with contextlib.ExitStack() as stack:
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            tmp = str(args.keep)
        else:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-hostile-"))
        before_tree = export_tree(args.before, Path(tmp) / "before")
        trees = {"before": before_tree, "after": ROOT}
        for side, tree in trees.items():
            # Held bodies alone first: under a high enough file limit a server reads them all.
            for scenario, slow in (("bodies", 0), ("attack", args.slow)):
                print(f"{side}: listener under {slow} slowloris + {args.held} held bodies …")
                figures[f"{side}_{scenario}"] = listener_side(
                    tree, Path(tmp) / f"{side}-{scenario}", slow, args.held
                )
            print(f"{side}: hub with {args.consoles} non-reading consoles …")
            figures[f"{side}_hub"] = hub_side(
                tree,
                Path(tmp) / f"{side}-hub",
                args.consoles,
                args.events,
                args.content,
                args.settle,
            )

    def row(name: str, cells: list[str]) -> None:
        print(f"{name:40} {cells[0]:>24} {cells[1]:>24}")

    sides = ("before", "after")
    for scenario, title in (
        ("bodies", f"{args.held} held 1 MiB bodies"),
        ("attack", f"{args.slow} slowloris + {args.held} held 1 MiB bodies"),
    ):
        print()
        row(f"listener, {title}", [f"before ({args.before})", "after"])
        for name, key in (
            ("good delivery, quiet", "quiet"),
            ("good delivery, while bodies are pushed", "during_push"),
            ("good delivery, bodies held", "under_load"),
        ):
            cells = []
            for side in sides:
                f = figures[f"{side}_{scenario}"][key]
                cells.append(f"{f['ok']}/{f['sent']} ok, med {f['median_ms']} ms")
            row(name, cells)
        for name, key in (
            ("RSS before (MB)", "rss_before_mb"),
            ("RSS peak (MB)", "rss_peak_mb"),
            ("stderr (bytes)", "stderr_bytes"),
            ("stderr (lines)", "stderr_lines"),
            ("read everything sent", "server_read_everything"),
        ):
            row(name, [str(figures[f"{side}_{scenario}"][key]) for side in sides])
    print()
    row(f"hub, {args.consoles} consoles that do not read", [f"before ({args.before})", "after"])
    for name, key in (
        ("RSS before consoles (MB)", "rss_before_mb"),
        ("RSS with consoles (MB)", "rss_after_mb"),
        ("RSS peak (MB)", "rss_peak_mb"),
    ):
        row(name, [str(figures[f"{side}_hub"][key]) for side in sides])
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
