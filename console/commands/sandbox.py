"""``fansly-console sandbox``: the gateway emulator on a real socket until Ctrl-C.

Printing the API key and webhook secret here is intended: the user started a local emulator
and needs them to point a console (or anything else) at it.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
import time

from console.commands import stop_on_signals


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_serve(args))
    except KeyboardInterrupt:  # platforms without loop signal handlers
        return 0


async def _serve(args: argparse.Namespace) -> int:
    from console.sandbox.server import SandboxServer

    try:
        sandbox = SandboxServer(
            seed=args.seed,
            size=args.size,
            reference_time=int(time.time()) // 60 * 60,
            host=args.host,
            port=args.port,
            api_key=args.api_key,
            webhook_secret=args.webhook_secret,
            webhook_url=args.webhook_url,
            simulate_per_minute=args.simulate,
            requests_per_minute=args.requests_per_minute,
            credits=args.credits,
        )
    except OSError as exc:
        print(f"fansly-console sandbox: cannot listen on {args.host}:{args.port}: {exc.strerror}")
        return 1
    stop = stop_on_signals()
    async with sandbox:
        _announce(sandbox, args)
        await stop.wait()
    print("sandbox stopped", flush=True)
    return 0


def _announce(sandbox: object, args: argparse.Namespace) -> None:
    from console.output import terminal_text
    from console.sandbox.server import SandboxServer

    assert isinstance(sandbox, SandboxServer)
    world = sandbox.world
    q = shlex.quote
    lines = [
        f"Fansly sandbox (seed {world.seed}, size {world.size}): {len(world.accounts)} accounts, "
        f"{world.chat_count} chats, {world.message_count} messages",
        f"  base URL:       {sandbox.base_url}",
        f"  API key:        {sandbox.api_key}",
        f"  webhook secret: {sandbox.webhook_secret}",
        f"  webhooks to:    {args.webhook_url or '(none; pass --webhook-url)'}",
        f"  fan activity:   {args.simulate:g} events/min",
        "",
        "Point the console at it:",
        f"  FANSLY_API_BASE_URL={q(sandbox.base_url)} FANSLY_API_KEY={q(sandbox.api_key)} "
        "fansly-console accounts",
        f"  FANSLY_WEBHOOK_SECRET={q(sandbox.webhook_secret)} fansly-console listen",
        "",
        "Ctrl-C to stop.",
    ]
    sys.stdout.write(terminal_text("\n".join(lines), newlines=True) + "\n")
    sys.stdout.flush()
