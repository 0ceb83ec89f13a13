"""Hostile HTTP clients for the listener's limits (tests and ``bench/hostile.py``).

Plain blocking/non-blocking sockets in the caller's thread, so they load the server and not
the event loop of the test that measures it:

- :func:`slowloris` opens connections that send part of a request head and then nothing;
- :func:`held_bodies` opens connections that send a head announcing ``size`` bytes and all
  but the last byte of the body, then nothing;
- :func:`server_backlog` sums the bytes the kernel holds unread for a server port (Linux's
  ``/proc/net/tcp``): zero once the server has read everything it is going to read;
- :func:`raise_fd_limit` lifts this process's soft file limit as far as allowed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import selectors
import socket
import time
from pathlib import Path

PARTIAL_HEAD = b"POST /webhooks/fansly HTTP/1.1\r\nHost: listener\r\nX-Slow: "


def raise_fd_limit(wanted: int) -> int:
    """Lift the soft RLIMIT_NOFILE towards ``wanted`` (never above the hard limit); the
    resulting soft limit."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd")) if Path("/proc/self/fd").is_dir() else 0


def _connect(host: str, port: int) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=5)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x00" * 8)  # close() never waits
    return sock


def slowloris(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` connections holding an unfinished request head."""
    socks = []
    for _ in range(count):
        sock = _connect(host, port)
        with contextlib.suppress(OSError):  # already closed by the server: still counted
            sock.sendall(PARTIAL_HEAD)
        socks.append(sock)
    return socks


def held_bodies(
    host: str, port: int, count: int, size: int = 1024 * 1024, deadline: float = 20.0
) -> list[socket.socket]:
    """``count`` connections that sent a head announcing ``size`` bytes and ``size - 1`` of
    them; returns once every byte is taken by the kernel or the connection was closed."""
    head = (
        b"POST /webhooks/fansly HTTP/1.1\r\nHost: listener\r\nContent-Type: application/json\r\n"
        b"X-Fansly-Signature: 00\r\nContent-Length: %d\r\n\r\n" % size
    )
    payload = memoryview(head + b"x" * (size - 1))
    socks: list[socket.socket] = []
    sent: dict[socket.socket, int] = {}
    selector = selectors.DefaultSelector()
    for _ in range(count):
        sock = _connect(host, port)
        sock.setblocking(False)
        socks.append(sock)
        sent[sock] = 0
        selector.register(sock, selectors.EVENT_WRITE)
    give_up = time.monotonic() + deadline
    try:
        while sent and time.monotonic() < give_up:
            for key, _events in selector.select(timeout=0.5):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    sent[sock] += sock.send(payload[sent[sock] :])
                except BlockingIOError:
                    continue
                except OSError as exc:
                    if exc.errno not in (errno.ECONNRESET, errno.EPIPE):
                        raise
                    sent[sock] = len(payload)  # the server closed it: nothing more to push
                if sent[sock] >= len(payload):
                    selector.unregister(sock)
                    del sent[sock]
    finally:
        selector.close()
    return socks


def close_all(socks: list[socket.socket]) -> None:
    for sock in socks:
        with contextlib.suppress(OSError):
            sock.close()


def server_backlog(port: int) -> int:
    """Bytes received on ``port`` that its server has not read yet (Linux only)."""
    total = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            next(lines, None)
            for line in lines:
                fields = line.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                if local_port == port:
                    total += int(fields[4].split(":")[1], 16)
    return total


def wait_until_read(port: int, seconds: float) -> bool:
    """Whether the server read everything sent to ``port`` within ``seconds``."""
    give_up = time.monotonic() + seconds
    while time.monotonic() < give_up:
        if server_backlog(port) == 0:
            return True
        time.sleep(0.05)
    return False


def rss_mb(pid: int | str = "self", field: str = "VmRSS") -> float:
    """A process's resident memory (``VmRSS``) or its peak (``VmHWM``) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise LookupError(field)
