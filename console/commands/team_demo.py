"""``fansly-console team demo`` (``make demo-team``): team mode on one machine, end to end.

A throwaway PostgreSQL cluster (initdb in a temp dir, from the system's binaries), the sandbox
as the gateway (its simulated fans write, tip and buy), two ``serve`` processes on that
database (the sandbox's webhooks go to the first; this console reads the second, so every
event crosses instances through PostgreSQL), a simulated teammate ("anna") working some chats,
and the console in team mode. The console's machine holds no API key: only the servers do.
On exit, ``team stats`` shows who sold what; everything is removed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import tempfile
from pathlib import Path


async def start_verb(
    verb: str, *args: str, env: dict[str, str], log_path: Path
) -> tuple[asyncio.subprocess.Process, str]:
    """``fansly-console VERB --port 0 ARGS…`` (``serve`` or ``listen``) as a process, its
    stderr to ``log_path``; returns once its banner said it serves, with its base URL (the
    webhook URL without its path). Also the bench's way to start them (bench/team.py)."""
    with log_path.open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "console",
            verb,
            "--port",
            "0",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
            env=env,
        )
    assert process.stdout is not None
    base = ""
    async with asyncio.timeout(60):
        while True:
            line = (await process.stdout.readline()).decode()
            if not line:
                raise RuntimeError(f"{verb} exited early: see {log_path}")
            if "webhook URL" in line:
                base = line.split(": ", 1)[1].strip().rsplit("/webhooks/", 1)[0]
            if "Ctrl-C stops" in line:
                return process, base


async def _demo(args: argparse.Namespace, tmp: Path) -> int:
    import asyncpg

    from console.config import Settings
    from console.sandbox.server import SandboxServer
    from console.team import teammate
    from console.team.auth import add_chatter
    from console.team.client import TeamClient
    from console.team.cluster import Cluster
    from console.team.pg import open_database
    from console.team.stats import team_stats
    from console.tui.launch import build_console

    print("team demo: starting PostgreSQL (throwaway cluster)…", flush=True)
    with Cluster() as cluster:
        admin = await asyncpg.connect(cluster.url())
        await admin.execute("CREATE DATABASE team")
        await admin.close()
        url = cluster.url("team")
        await open_database(url)
        sandbox = SandboxServer(
            seed=args.seed,
            size="small",
            simulate_per_minute=args.simulate,
            requests_per_minute=100_000,
        )
        async with sandbox:
            env = {
                **os.environ,
                "PYTHONUNBUFFERED": "1",
                "FANSLY_CONSOLE_HOME": str(tmp / "server-home"),
                "FANSLY_CONSOLE_DATABASE_URL": url,
                "FANSLY_API_KEY": sandbox.api_key,
                "FANSLY_API_BASE_URL": sandbox.base_url,
                "FANSLY_WEBHOOK_SECRET": sandbox.webhook_secret,
            }
            print("team demo: starting two serve instances…", flush=True)
            first, first_url = await start_verb("serve", env=env, log_path=tmp / "serve-1.log")
            second, second_url = await start_verb("serve", env=env, log_path=tmp / "serve-2.log")
            processes = [first, second]
            bot: asyncio.Task[None] | None = None
            try:
                conn = await asyncpg.connect(url)
                try:
                    you = await add_chatter(conn, "you", [], admin=True)
                    account = next(iter(sandbox.world.accounts))
                    anna = await add_chatter(conn, "anna", [account], admin=False)
                finally:
                    await conn.close()
                sandbox.simulator.webhook_url = first_url + "/webhooks/fansly"
                mate = TeamClient(first_url, anna)
                bot = asyncio.create_task(teammate.work(mate, account))
                os.environ["FANSLY_CONSOLE_HOME"] = str(tmp / "console-home")
                app, running = await build_console(
                    Settings(), theme=args.theme, team=(second_url, you)
                )
                try:
                    await app.run_async()
                finally:
                    await running.stop()
                bot.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await bot
                await mate.aclose()
                conn = await asyncpg.connect(url)
                try:
                    rows = await team_stats(conn)
                finally:
                    await conn.close()
                print(
                    f"\n{'chatter':<10} {'replies':>7} {'PPVs sent':>9} {'bought':>6} "
                    f"{'revenue':>10}"
                )
                for row in rows:
                    print(
                        f"{row['chatter']:<10} {row['replies']:>7} {row['ppvs_sent']:>9} "
                        f"{row['ppvs_bought']:>6} ${row['revenue_millis'] / 1000:>9.2f}"
                    )
                return app.return_code or 0
            finally:
                if bot is not None:
                    bot.cancel()
                for process in processes:
                    if process.returncode is None:
                        process.send_signal(signal.SIGINT)
                for process in processes:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(10):
                            await process.wait()
                    if process.returncode is None:
                        process.kill()


def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="fansly-team-demo-") as tmp:
        return asyncio.run(_demo(args, Path(tmp)))
