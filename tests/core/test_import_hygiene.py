"""The layers of DESIGN.md hold: the headless core never imports Textual (checked at run time
here), and the import-linter contracts of pyproject.toml hold and do catch an upward import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

HEADLESS = [
    "console.api",
    "console.sandbox",
    "console.store",
    "console.sync",
    "console.team",
    "console.webhooks",
]

_PROBE = """
import importlib, pkgutil, sys
roots = sys.argv[1:]
loaded = []
for root in roots:
    package = importlib.import_module(root)
    loaded.append(root)
    for info in pkgutil.walk_packages(package.__path__, prefix=root + "."):
        importlib.import_module(info.name)
        loaded.append(info.name)
print(len(loaded))
print("textual" in sys.modules)
"""


def test_headless_packages_do_not_import_textual() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, *HEADLESS], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    count, textual = result.stdout.split()
    assert int(count) > len(HEADLESS)  # the submodules were really walked
    assert textual == "False"


def test_commands_that_need_no_ui_do_not_import_textual() -> None:
    code = (
        "import sys, console.commands.accounts, console.commands.locate, console.config\n"
        "import console.api.client\n"
        "print('textual' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


# What `fansly-console --offline` imports before its first frame: the verb, the config, the
# console's app and the cache. The API models (pydantic), the client (httpx) and the workspace
# come after the first paint.
_CONSOLE_PRE_PAINT = [
    "console.__main__",
    "console.commands.console",
    "console.config",
    "console.tui.launch",
    "console.tui.app",
    "console.store",
]

_HEAVY_PROBE = """
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(",".join(m for m in ("pydantic", "httpx") if m in sys.modules))
"""


def _heavy_after_importing(*modules: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", _HEAVY_PROBE, *modules], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_console_imports_neither_pydantic_nor_httpx_before_its_first_paint() -> None:
    assert _heavy_after_importing(*_CONSOLE_PRE_PAINT) == ""


def test_the_cache_imports_no_pydantic() -> None:
    # The store compares event types and subscription states by value and imports the models
    # where it builds them, so opening the cache costs no pydantic import (~40 ms).
    assert _heavy_after_importing("console.store") == ""


# The layers of DESIGN.md as import-linter contracts ([tool.importlinter] in pyproject.toml);
# `make lint` runs them too. Type-only imports count: an upward one is still a dependency.
_ROOT = Path(__file__).resolve().parents[2]
_LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
_CONTRACTS = (
    "Layers: commands > tui > webhooks | sync > store > changes > events > api",
    "The headless core never imports the TUI or the commands",
    "No Textual outside the TUI",
    "The store and the vocabulary never reach the network",
    "The sandbox is independent of the client",
    "The TUI never talks to httpx or SQLite itself",
    "The store's private modules are the store's",
    "The layers below team mode never import it",
)


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    # --no-cache: nothing written beside the sources; PYTHONPATH: `console` is the one in root.
    return subprocess.run(
        [str(_LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _verdicts(output: str) -> dict[str, str]:
    return {
        name: verdict
        for line in output.splitlines()
        for name in _CONTRACTS
        for verdict in ("KEPT", "BROKEN")
        # "NAME KEPT", or "NAME KEPT (1 ignored import)" for a contract with an allowed one
        if line.strip().startswith(f"{name} {verdict}")
    }


def test_the_import_contracts_hold() -> None:
    result = _lint_imports(_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _verdicts(result.stdout) == dict.fromkeys(_CONTRACTS, "KEPT")


# One upward import per contract, each where a hurried change would put it.
_VIOLATIONS = {
    # The store reaching up to sync for a type: type-only imports count too.
    "console/store/rows.py": "if TYPE_CHECKING:\n    from console.sync import engine",
    "console/config.py": "from console.tui import zone",  # the core reaching the UI
    "console/store/text.py": "import textual",
    "console/store/_core.py": "import httpx",
    "console/sandbox/world.py": "from console.api import client",
    "console/tui/zone.py": "import sqlite3",
    "console/sync/policy.py": "from console.store._core import one",  # past the store's parts
    # (the in-memory listener's fake is in tests/ now: the signature checker stands in)
    "console/webhooks/signature.py": "from console.team import pg",  # a listener using team's
}


def test_each_contract_catches_an_upward_import(tmp_path: Path) -> None:
    shutil.copytree(
        _ROOT / "console", tmp_path / "console", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for relative, code in _VIOLATIONS.items():
        path = tmp_path / relative
        path.write_text(f"{path.read_text()}\n{code}\n")
    result = _lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert _verdicts(result.stdout) == dict.fromkeys(_CONTRACTS, "BROKEN")
    assert "console.store is not allowed to import console.sync" in result.stdout


def test_tests_share_helpers_through_support_only() -> None:
    """A test module imports no other test module (nor ``tests.…``): what two of them share
    is in tests/support/, and every test sits in its layer's folder."""
    import ast

    tests = Path(__file__).resolve().parents[1]
    assert not list(tests.glob("test_*.py")), "a test outside the layer folders"
    offenders = []
    for path in tests.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name.split(".")[0] == "tests" or name.split(".")[-1].startswith("test_"):
                    offenders.append(f"{path.relative_to(tests)}: {name}")
    assert offenders == []
