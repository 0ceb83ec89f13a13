"""``fansly-console listen`` as a real process: started, waited for, stopped."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class ListenProcess:
    process: asyncio.subprocess.Process
    url: str
    stdout: list[str]

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1].split("/", 1)[0])


async def start_listen(*args: str, stderr_path: Path, **popen: Any) -> ListenProcess:
    """Start ``fansly-console listen``; returns once it printed its startup lines
    (``popen``: more arguments for the process, e.g. ``preexec_fn``)."""
    with stderr_path.open("ab") as stderr:
        # stderr to a file: a delivery log line per event would fill a pipe and stall the child.
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "console",
            "listen",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            **popen,
        )
    assert process.stdout is not None
    lines: list[str] = []
    url = ""
    async with asyncio.timeout(30):
        while True:
            line = (await process.stdout.readline()).decode()
            assert line, f"listen exited early, see {stderr_path}"
            lines.append(line)
            if "webhook URL" in line:
                url = line.split(": ", 1)[1].strip()
            if "Ctrl-C stops" in line:
                return ListenProcess(process, url, lines)


async def stop(listen: ListenProcess) -> int:
    listen.process.send_signal(signal.SIGINT)
    async with asyncio.timeout(20):
        return await listen.process.wait()


@asynccontextmanager
async def running(*args: str, stderr_path: Path, **popen: Any) -> AsyncIterator[ListenProcess]:
    listen = await start_listen(*args, stderr_path=stderr_path, **popen)
    try:
        yield listen
    finally:
        if listen.process.returncode is None:
            await stop(listen)


async def wait_until(condition: Callable[[], bool], seconds: float) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")
