"""The headless core never imports Textual (DESIGN.md layering rule)."""

from __future__ import annotations

import subprocess
import sys

HEADLESS = ["console.api", "console.sandbox", "console.store", "console.sync", "console.webhooks"]

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
