"""The command line itself: instant --help, --version, locate."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from console import __version__


def run_cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("FANSLY_")}
    return subprocess.run(
        [sys.executable, "-m", "console", *argv],
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_help_is_instant() -> None:
    # Best of three: the first run may pay for cold disk caches, not for our imports.
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        result = run_cli("--help")
        timings.append(time.perf_counter() - started)
        assert result.returncode == 0
    assert "demo" in result.stdout and "accounts" in result.stdout
    assert min(timings) < 0.5, timings


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys\n"
        "from console.__main__ import build_parser\n"
        "build_parser()\n"
        "heavy = [m for m in ('textual', 'httpx', 'pydantic', 'uvicorn') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"fansly-console {__version__}"


def test_locate(tmp_path: Path) -> None:
    env = {"FANSLY_CONSOLE_HOME": str(tmp_path)}
    config = run_cli("locate", "config", env=env)
    data = run_cli("locate", "data", env=env)
    themes = run_cli("locate", "themes", env=env)
    assert config.stdout.strip() == str(tmp_path / "config.toml")
    assert data.stdout.strip() == str(tmp_path / "data")
    assert themes.stdout.strip() == str(tmp_path / "themes")
    explicit = run_cli("locate", "config", env={**env, "FANSLY_CONSOLE_CONFIG": "/x/c.toml"})
    assert explicit.stdout.strip() == "/x/c.toml"


def test_unknown_verb_is_a_usage_error() -> None:
    result = run_cli("frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_profile_is_honoured_before_or_after_the_verb() -> None:
    from console.__main__ import build_parser

    parser = build_parser()
    assert parser.parse_args(["--profile", "agency", "accounts"]).profile == "agency"
    assert parser.parse_args(["accounts", "--profile", "solo"]).profile == "solo"
    assert parser.parse_args(["accounts"]).profile is None
    assert parser.parse_args(["--profile", "agency", "sync"]).profile == "agency"


async def test_collections_paused_by_the_console_verb_resume_after_the_first_paint() -> None:
    import gc

    from support.fakes_tui import FIXED_NOW, MemorySource

    from console.commands.console import pause_collections
    from console.tui.app import make_app

    pause_collections()
    try:
        assert not gc.isenabled()
        app = make_app(MemorySource(), clock=lambda: FIXED_NOW)
        async with app.run_test(size=(120, 36)):
            await app.settled()
            assert gc.isenabled()
    finally:
        gc.enable()
