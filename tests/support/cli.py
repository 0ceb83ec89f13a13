"""The CLI as a real process, and the sandbox as one."""

from __future__ import annotations

import os
import subprocess
import sys

from console.serving import bind


def free_port() -> int:
    sock = bind("127.0.0.1", 0)
    try:
        return int(sock.getsockname()[1])
    finally:
        sock.close()


def run_cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("FANSLY_")}
    return subprocess.run(
        [sys.executable, "-m", "console", *argv],
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )
