"""The sandbox as a real process, for the CLI's tests against a gateway."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
from support.cli import free_port


@pytest.fixture
def sandbox_process() -> Iterator[str]:
    """`fansly-console sandbox --port P --api-key k` until the test ends; yields the base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANSLY_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "console", "sandbox", "--port", str(port), "--api-key", "k"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        # The banner is printed once the socket serves: reading it is the readiness signal.
        for line in process.stdout:
            if "base URL" in line:
                break
        else:
            pytest.fail(
                f"the sandbox exited early: {process.stderr.read() if process.stderr else ''}"
            )
        yield f"http://127.0.0.1:{port}/api/fansly"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
