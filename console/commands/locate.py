"""``fansly-console locate config|data|themes``."""

from __future__ import annotations

import argparse

from console import paths
from console.output import terminal_text


def run(args: argparse.Namespace) -> int:
    where = {"config": paths.config_file, "data": paths.data_dir, "themes": paths.themes_dir}
    print(terminal_text(where[args.what]()))
    return 0
