"""``fansly-console sync [--account ID] [--profile NAME] [--full] [--dry-run]``: backfill the
offline cache.

Every chat, then the messages a chatter reads soon (``--full``: the latest messages of every
chat; see console/sync/backfill.py), with a progress bar on a terminal and plain lines
elsewhere (CI, pipes). It ends with the credits it spent; ``--dry-run`` reads the chat list
only and prints the requests and credits a sync would spend. A sync is background work: it
stops at the credit budget minus the chatter's reserve (``[budget]``), says so and exits 3.
Stopped half-way (Ctrl-C, a kill, a lost network), the next run continues where this one
stopped. Exit 1 when the gateway refuses the key or cannot be reached.

Each account's line says the chats and messages done, about how long is left (from the pace of
the chats done so far in this run), and where the time went: held back by the gateway's rate
limit (the plan's requests per minute: only a bigger plan makes that faster), waiting for the
gateway's answers, or our own work.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from console.output import terminal_text

if TYPE_CHECKING:
    from console.api.timing import Split
    from console.changes import SyncProgress
    from console.sync.engine import BackfillReport, Workspace

EXIT_GATEWAY = 1
#: The credit budget stopped the sync (``[budget]``); it continues next month or with more.
EXIT_BUDGET = 3


def _interactive(stream: TextIO) -> bool:
    ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    return stream.isatty() and not ci and os.environ.get("TERM") != "dumb"


def duration_text(seconds: float) -> str:
    """``42 s``, ``3 min 5 s``, ``1 h 20 min``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def where_time_went(split: Split) -> str:
    """``62% rate limit, 30% gateway, 8% us`` (the largest first)."""
    total = split.total
    if total <= 0:
        return ""
    parts = [
        (split.rate_limit, "rate limit"),
        (split.gateway, "gateway"),
        (split.ours, "us"),
    ]
    return ", ".join(f"{round(100 * s / total)}% {name}" for s, name in sorted(parts, reverse=True))


class Pace:
    """What is left of each account's run, from the pace of the chats done in this run."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._start: dict[str, tuple[float, int]] = {}

    def left(self, progress: SyncProgress) -> str:
        if progress.finished:
            return "done"
        if progress.phase == "chats":
            return "reading the chat list"
        now = self.clock()
        started, done_then = self._start.setdefault(progress.account_id, (now, progress.done))
        done, elapsed = progress.done - done_then, now - started
        if done <= 0 or elapsed <= 0:
            return "estimating what is left"
        seconds = (progress.total - progress.done) * elapsed / done
        return "almost done" if seconds < 1 else f"about {duration_text(seconds)} left"


def progress_line(progress: SyncProgress, pace: Pace, split: Split | None) -> str:
    """What an account's progress says, after its name."""
    if progress.phase == "chats" and not progress.finished:
        text = f"chat list: {progress.total} chats so far"
    else:
        text = f"chats {progress.done}/{progress.total}, {progress.messages:,} messages"
    text += f" · {pace.left(progress)}"
    where = where_time_went(split) if split is not None else ""
    return f"{text} · time: {where}" if where else text


class PlainProgress:
    """One line per account each time it gets a tenth further (and when it finishes)."""

    def __init__(
        self,
        stream: TextIO,
        names: dict[str, str],
        split: Callable[[], Split | None] = lambda: None,
    ) -> None:
        self.stream = stream
        self.names = names
        self.split = split
        self.pace = Pace()
        self._shown: dict[tuple[str, str], int] = {}

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
        key = (progress.account_id, progress.phase)
        if self._shown.get(key, -1) >= step:
            return
        self._shown[key] = step
        name = self.names.get(progress.account_id) or terminal_text(progress.account_id)
        line = progress_line(progress, self.pace, self.split())
        self.stream.write(f"{name}: {line}\n")
        self.stream.flush()


class BarProgress:
    """A rich progress bar per account."""

    def __init__(
        self,
        stream: TextIO,
        names: dict[str, str],
        split: Callable[[], Split | None] = lambda: None,
    ) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn
        from rich.table import Column

        self.names = names
        self.split = split
        self.pace = Pace()
        widest = min(24, max((len(name) for name in names.values()), default=8))
        self.progress = Progress(
            # The account's name stays whole; the line's tail gives way on a narrow terminal.
            TextColumn(
                "{task.description}",
                markup=False,
                table_column=Column(no_wrap=True, min_width=widest),
            ),
            BarColumn(bar_width=16),  # the words need the room more than the bar
            TextColumn("{task.fields[line]}", markup=False),
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
            task = self._tasks[progress.account_id] = self.progress.add_task(
                name, total=None, line=""
            )
        assert isinstance(task, int)
        self.progress.update(
            TaskID(task),
            completed=progress.done,
            total=max(progress.total, progress.done) or None,
            line=progress_line(progress, self.pace, self.split()),
        )


def run(args: argparse.Namespace) -> int:
    from console.config import load_settings

    settings = load_settings()
    return asyncio.run(_sync(args, settings))


async def _sync(args: argparse.Namespace, settings: object) -> int:
    from console.api.errors import ApiError, CreditBudgetReached
    from console.changes import SyncProgress
    from console.commands.accounts import gateway_failure
    from console.config import Settings
    from console.sync.engine import Workspace

    assert isinstance(settings, Settings)
    account: str | None = getattr(args, "account", None)
    profile: str | None = getattr(args, "profile", None)
    full = bool(getattr(args, "full", False))
    workspace = await Workspace.open(
        settings, profile=profile, accounts=[account] if account else None, full_sync=full
    )
    started = time.monotonic()
    async with workspace:
        await workspace.start_credits()  # this month's spending so far, from the cache
        credits_before = workspace.meter.used
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
        if getattr(args, "dry_run", False):
            return await _dry_run(workspace, names, full, base_url)
        display_cls = BarProgress if _interactive(sys.stdout) else PlainProgress
        before = _split(workspace)

        def spent() -> Split:
            return _split(workspace) - before

        with display_cls(sys.stdout, names, spent) as display:
            async with workspace.bus.subscribe() as updates:

                async def show() -> None:
                    while True:
                        update = await updates.get()
                        if isinstance(update, SyncProgress):
                            display.update(update)

                shower = asyncio.create_task(show())
                try:
                    reports = await workspace.backfill()
                except CreditBudgetReached as exc:
                    print(f"fansly-console: {exc}", file=sys.stderr)
                    print(_credits_line(workspace, credits_before), file=sys.stderr)
                    return EXIT_BUDGET
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
        print(_summary(reports, time.monotonic() - started, workspace, spent()))
        print(_credits_line(workspace, credits_before))
    return 0


def _credits_line(workspace: Workspace, before: float) -> str:
    """What this run spent, and where the month stands against the budget."""
    status = workspace.credits()
    spent = status.used - before
    budget = f" of the {status.budget:,} budgeted" if status.budget is not None else ""
    return (
        f"Credits: {spent:,.0f} spent by this run; {status.used:,.0f}{budget} this month "
        "(see `fansly-console usage`)."
    )


async def _dry_run(workspace: Workspace, names: dict[str, str], full: bool, base_url: str) -> int:
    """Print the plan of a sync: requests and credits, per account and in all."""
    from console.api.errors import ApiError
    from console.commands.accounts import gateway_failure

    before = workspace.meter.used
    # A full plan counts messages_per_chat for every chat: chats with fewer messages end
    # sooner, so it is an upper bound. A lean plan is what the sync will do, within 10%.
    head = (
        "A full sync (every chat's latest messages) would spend at most:"
        if full
        else "A sync would spend about:"
    )
    lines = [head]
    requests = len(workspace.clients)  # listing each key's accounts
    credits = float(requests)
    for account_id, name in names.items():
        try:
            plan = await workspace.engine(account_id).plan()
        except ApiError as exc:
            print(gateway_failure(exc, base_url), file=sys.stderr)
            return EXIT_GATEWAY
        requests += plan.requests
        credits += plan.credits
        lines.append(
            f"  {name}: {plan.requests:,} requests, {plan.credits:,.0f} credits "
            f"({plan.list_pages} chat-list page{'s' * (plan.list_pages != 1)} for "
            f"{plan.chats:,} chats, history of {plan.chats_with_history:,} chats in "
            f"{plan.message_pages:,} page{'s' * (plan.message_pages != 1)})"
        )
    lines.append(f"In all: {requests:,} requests, {credits:,.0f} credits.")
    if not full:
        lines.append("`sync --full --dry-run` prices a full backfill.")
    spent = workspace.meter.used - before
    lines.append(
        f"Making this plan read the chat lists: {spent:,.0f} credits (a sync reads them again)."
    )
    status = workspace.credits()
    if status.budget is not None:
        left = max(0, (status.background_cap or 0) - status.used)
        lines.append(
            f"This month: {status.used:,.0f} of {status.budget:,} credits spent; background "
            f"sync may spend {left:,.0f} more (the last {status.reserve:,} are kept for replies)."
        )
    print("\n".join(lines))
    return 0


def _split(workspace: Workspace) -> Split:
    """The clients' time split, summed (one client per API key; usually one)."""
    from console.api.timing import Split

    return sum((c.timing.split() for c in workspace.clients.values()), Split())


def _summary(
    reports: list[BackfillReport], seconds: float, workspace: Workspace, split: Split
) -> str:
    chats = sum(r.chats for r in reports)
    synced = sum(r.chats_synced for r in reports)
    messages = sum(r.messages for r in reports)
    n = len(reports)
    lines = [
        f"Synced {n} account{'s' * (n != 1)}: {chats} chats ({synced} updated), "
        f"{messages} messages fetched in {seconds:.1f} s. "
        f"Cache: {terminal_text(workspace.store.path)}"
    ]
    gone = sum(r.chats_gone for r in reports)
    if gone:
        lines.append(
            f"{gone} cached chat{'s' * (gone != 1)} the gateway no longer knows (404) "
            f"{'were' if gone != 1 else 'was'} skipped and kept as cached."
        )
    if split.total > 0:
        lines.append(
            f"Time: {split.rate_limit:.1f} s held back by the gateway's rate limit, "
            f"{split.gateway:.1f} s waiting for the gateway's answers, "
            f"{split.ours:.1f} s our own work ({where_time_went(split)})."
        )
        if split.rate_limit >= split.total / 2:
            lines.append(
                "The rate limit set the pace: a plan with more requests per minute "
                "(requests_per_minute in the profile) would make it faster."
            )
    return "\n".join(lines)
