"""Installed as a package (``pip install .``, ``pipx install .``: not editable) the console is
whole: everything it reads at run time ships in the wheel (issue 11: the built-in themes were
missing, looked for two folders above the module).

The wheel is built from this checkout and installed into a fresh virtualenv; its dependencies
come from this test environment's site-packages (a ``.pth`` line: nothing downloaded, fast,
offline), while ``console`` itself can only come from the wheel (the checkout is never on the
path: the commands run from a temporary folder).
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import textwrap
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(argv: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, f"{argv}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel of this checkout installed (not editable)."""
    tmp = tmp_path_factory.mktemp("wheel")
    pip = [sys.executable, "-m", "pip"]
    _run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", "dist", str(ROOT)], tmp)
    (wheel,) = (tmp / "dist").glob("fansly_console-*.whl")
    env_dir = tmp / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp
    ).strip()
    # The dependencies (textual, httpx, …) from this environment, after the env's own folder.
    Path(purelib, "_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([*pip, "--python", str(python), "install", "-q", "--no-deps", "--no-index", wheel], tmp)
    return env_dir


def _python(env_dir: Path, code: str, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}}
    env["FANSLY_CONSOLE_HOME"] = str(cwd / "home")
    return _run([str(env_dir / "bin" / "python"), "-c", textwrap.dedent(code)], cwd, env)


def test_the_wheel_carries_every_builtin_theme(installed: Path, tmp_path: Path) -> None:
    out = _python(
        installed,
        """
        import console
        from console.tui.themes import builtin_themes

        print(console.__file__)
        themes, problems = builtin_themes()
        assert not problems, problems
        print(" ".join(sorted(t.name for t in themes)))
        """,
        tmp_path,
    )
    where, names = out.strip().splitlines()
    assert Path(where).is_relative_to(installed), where  # the wheel's copy, not the checkout
    shipped = {p.stem for p in (ROOT / "console" / "tui" / "builtin_themes").glob("*.toml")}
    assert set(names.split()) == shipped
    assert {"fansly-dark", "fansly-light", "fansly-high-contrast", "midnight"} <= shipped


def test_the_installed_demo_starts_with_a_builtin_theme(installed: Path, tmp_path: Path) -> None:
    # Headless: the demo as `fansly-console demo --theme fansly-light` builds it, on the
    # embedded sandbox, until the chat list shows; no theme warning.
    out = _python(
        installed,
        """
        import asyncio
        from pathlib import Path
        from console.tui.launch import build_demo

        async def main():
            app, running, _sandbox = await build_demo(
                seed=7, size="small", simulate_per_minute=0, theme="fansly-light",
                cache=Path("demo.sqlite3"),
            )
            try:
                async with app.run_test(size=(120, 36)) as pilot:
                    async with asyncio.timeout(60):
                        while app.chats_screen.chat_id is None:
                            await pilot.pause(0.05)
                    said = [n.message for n in app._notifications if n.severity != "information"]
                    print(app.theme, app.current_theme.dark, len(said), said)
            finally:
                await running.stop()

        asyncio.run(main())
        """,
        tmp_path,
    )
    assert out.split()[:3] == ["fansly-light", "False", "0"], out
    help_text = _run([str(installed / "bin" / "fansly-console"), "--help"], tmp_path)
    assert "demo" in help_text
