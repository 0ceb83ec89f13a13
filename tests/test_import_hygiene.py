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
