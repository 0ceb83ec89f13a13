"""``fansly-console`` (no verb): the console on the configured gateway."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from console.tui.launch import run_console

    return run_console(args)
