"""``fansly-console sync [--account ID] [--profile NAME]``: backfill the offline cache.

Every chat, then the latest messages of each chat, with a progress bar on a terminal and plain
lines elsewhere (CI, pipes). Stopped half-way (Ctrl-C, a kill, a lost network), the next run
continues where this one stopped. Exit 1 when the gateway refuses the key or cannot be reached.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from typing import TYPE_CHECKING, TextIO

from console.output import terminal_text

if TYPE_CHECKING:
    from console.sync.engine import BackfillReport, Workspace
    from console.sync.updates import SyncProgress

EXIT_GATEWAY = 1


def _interactive(stream: TextIO) -> bool:
    ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    return stream.isatty() and not ci and os.environ.get("TERM") != "dumb"


class PlainProgress:
    """One line per account each time it gets a tenth further (and when it finishes)."""

    def __init__(self, stream: TextIO, names: dict[str, str]) -> None:
        self.stream = stream
        self.names = names
        self._shown: dict[str, int] = {}

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, progress: SyncProgress) -> None:
        if progress.total == 0:
            return
        step = progress.done * 10 // progress.total
        if progress.finished:
            step = 11
        if self._shown.get(progress.account_id, -1) >= step:
            return
        self._shown[progress.account_id] = step
        name = self.names.get(progress.account_id) or terminal_text(progress.account_id)
        word = "done" if progress.finished else "chats"
        self.stream.write(f"{name}: {word} {progress.done}/{progress.total}\n")
        self.stream.flush()


class BarProgress:
    """A rich progress bar per account."""

    def __init__(self, stream: TextIO, names: dict[str, str]) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.names = names
        self.progress = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("chats"),
            console=Console(file=stream),
            transient=False,
        )
        self._tasks: dict[str, object] = {}

    def __enter__(self) -> BarProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, progress: SyncProgress) -> None:
        from rich.progress import TaskID

        task = self._tasks.get(progress.account_id)
        if task is None:
            name = self.names.get(progress.account_id) or terminal_text(progress.account_id)
            task = self._tasks[progress.account_id] = self.progress.add_task(name, total=None)
        assert isinstance(task, int)
        self.progress.update(
            TaskID(task), completed=progress.done, total=max(progress.total, progress.done) or None
        )


def run(args: argparse.Namespace) -> int:
    from console.config import load_settings

    settings = load_settings()
    return asyncio.run(_sync(args, settings))


async def _sync(args: argparse.Namespace, settings: object) -> int:
    from console.api.errors import ApiError
    from console.commands.accounts import gateway_failure
    from console.config import Settings
    from console.sync.engine import Workspace
    from console.sync.updates import SyncProgress

    assert isinstance(settings, Settings)
    account: str | None = getattr(args, "account", None)
    profile: str | None = getattr(args, "profile", None)
    workspace = await Workspace.open(
        settings, profile=profile, accounts=[account] if account else None
    )
    started = time.monotonic()
    async with workspace:
        base_url = next(iter(workspace.clients.values())).base_url
        try:
            accounts = await workspace.connect()
        except ApiError as exc:
            print(gateway_failure(exc, base_url), file=sys.stderr)
            return EXIT_GATEWAY
        for change in workspace.set_aside:  # another creator behind an account: said plainly
            print(f"fansly-console: {terminal_text(change.text())}", file=sys.stderr)
        if account and not accounts:
            print(
                f"fansly-console: no connected account {terminal_text(account)} for this API key "
                "(see `fansly-console accounts`)",
                file=sys.stderr,
            )
            return EXIT_GATEWAY
        if not accounts:
            print("No accounts are connected to this API key; nothing to sync.")
            return 0
        names = {a.account_id: terminal_text(a.username or a.name) for a in accounts}
        display_cls = BarProgress if _interactive(sys.stdout) else PlainProgress
        with display_cls(sys.stdout, names) as display:
            async with workspace.bus.subscribe() as updates:

                async def show() -> None:
                    while True:
                        update = await updates.get()
                        if isinstance(update, SyncProgress):
                            display.update(update)

                shower = asyncio.create_task(show())
                try:
                    reports = await workspace.backfill()
                except ApiError as exc:
                    print(gateway_failure(exc, base_url), file=sys.stderr)
                    print("Run `fansly-console sync` again to continue.", file=sys.stderr)
                    return EXIT_GATEWAY
                finally:
                    while not updates.empty():
                        update = updates.get_nowait()
                        if isinstance(update, SyncProgress):
                            display.update(update)
                    shower.cancel()
        print(_summary(reports, time.monotonic() - started, workspace))
    return 0


def _summary(reports: list[BackfillReport], seconds: float, workspace: Workspace) -> str:
    chats = sum(r.chats for r in reports)
    synced = sum(r.chats_synced for r in reports)
    messages = sum(r.messages for r in reports)
    n = len(reports)
    return (
        f"Synced {n} account{'s' * (n != 1)}: {chats} chats ({synced} updated), "
        f"{messages} messages fetched in {seconds:.1f} s. "
        f"Cache: {terminal_text(workspace.store.path)}"
    )
