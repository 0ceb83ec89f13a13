"""``fansly-console`` (no verb): the console on the configured gateway."""

from __future__ import annotations

import argparse
import gc


def pause_collections() -> None:
    """No cyclic garbage collection until the first frame is out. Start-up builds a few
    hundred thousand long-lived objects (modules, the stylesheet, widgets) and little garbage:
    the collector would scan them again and again for nothing (young collections during the
    imports, a ~12 ms full one inside the first frame). The app freezes what start-up built
    and turns collection back on after its first paint (``ConsoleApp._after_first_paint``)."""
    gc.disable()


def run(args: argparse.Namespace) -> int:
    pause_collections()
    from console.tui.launch import run_console

    return run_console(args)
