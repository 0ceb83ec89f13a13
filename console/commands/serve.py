"""``fansly-console serve``: one team server instance (team mode), over PostgreSQL.

It holds the gateway API key (the profile's) and the webhook secret; chatters connect with
their own tokens (``team add``). Run as many instances as wanted on the same ``--database``
behind any load balancer. Secrets, tokens and the database password are never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from console.commands import stop_on_signals
from console.commands.listen import (
    INSECURE,
    NO_SECRET,
    _configure_logging,
    _say,
    secrets_from_files,
)

EXIT_CONFIG = 2
EXIT_BIND = 1


def run(args: argparse.Namespace) -> int:
    import logging

    from console.config import load_settings
    from console.team.pg import database_url

    settings = load_settings()
    hook = settings.webhooks
    configured = settings.team.database_url
    url = database_url(args.database, configured.get_secret_value() if configured else None)
    given = [s for s in (args.secret or []) if s] + secrets_from_files(args.secret_file or [])
    secrets = given or [s.get_secret_value() for s in hook.secrets if s.get_secret_value()]
    if not secrets and not args.insecure_no_signature:
        _say(NO_SECRET.replace("fansly-console listen", "fansly-console serve"), sys.stderr)
        return EXIT_CONFIG
    if args.insecure_no_signature:
        _say(INSECURE, sys.stderr)
    if bool(args.tls_cert) != bool(args.tls_key):
        _say("fansly-console serve: give both --tls-cert and --tls-key", sys.stderr)
        return EXIT_CONFIG
    profile = settings.profile(args.profile or settings.default_profile)
    _configure_logging()
    logging.getLogger("console.team").addHandler(logging.getLogger("console.webhooks").handlers[0])
    logging.getLogger("console.team").setLevel(logging.INFO)
    logging.getLogger("console.team").propagate = False
    try:
        return asyncio.run(
            _serve(
                args,
                url=url,
                secrets=secrets,
                api_key=profile.api_key.get_secret_value() if profile.api_key else None,
                base_url=profile.base_url,
                requests_per_minute=profile.requests_per_minute,
                guard_seconds=settings.team.guard_seconds,
                monthly_credits=settings.budget.monthly_credits,
                reserve_credits=settings.budget.reserve,
            )
        )
    except KeyboardInterrupt:
        return 0


async def _serve(
    args: argparse.Namespace,
    *,
    url: str,
    secrets: list[str],
    api_key: str | None,
    base_url: str,
    requests_per_minute: int,
    guard_seconds: int,
    monthly_credits: int | None = None,
    reserve_credits: int = 0,
) -> int:
    from console.api.client import FanslyClient
    from console.config import load_settings
    from console.serving import EmbeddedServer
    from console.team.pg import safe_url
    from console.team.server import TeamServer

    hook = load_settings().webhooks
    host = args.host or hook.host
    port = hook.port if args.port is None else args.port
    client = (
        FanslyClient(base_url, api_key, requests_per_minute=requests_per_minute)
        if api_key
        else None
    )
    try:
        async with TeamServer.open(
            url,
            secrets=secrets,
            path=hook.path,
            max_body_bytes=hook.max_body_bytes,
            insecure_no_signature=bool(args.insecure_no_signature),
            guard_seconds=guard_seconds,
            client=client,
            requests_per_minute=requests_per_minute,
            event_retention_days=hook.event_retention_days,
            monthly_credits=monthly_credits,
            reserve_credits=reserve_credits,
        ) as team:
            try:
                server = EmbeddedServer(
                    team.app,
                    host=host,
                    port=port,
                    ssl_certfile=args.tls_cert,
                    ssl_keyfile=args.tls_key,
                )
            except OSError as exc:
                _say(
                    f"fansly-console serve: cannot listen on {host}:{port}: {exc.strerror}",
                    sys.stderr,
                )
                return EXIT_BIND
            stop = stop_on_signals()
            async with server:
                base = server.url
                _say(f"fansly-console serve: team database {safe_url(url)}")
                _say(f"  webhook URL (register it in the gateway's dashboard): {base}{hook.path}")
                ws = base.replace("http", "ws", 1)
                _say(f"  consoles: fansly-console --team {base} (stream {ws}/events)")
                if client is None:
                    _say(
                        "  note: no API key in the profile: the team outbox waits, history "
                        "comes from webhooks only"
                    )
                if not args.tls_cert and host not in ("127.0.0.1", "::1", "localhost"):
                    _say(
                        f"  note: bound to {host} without TLS: put a TLS reverse proxy in "
                        "front, or give --tls-cert/--tls-key"
                    )
                if monthly_credits:
                    _say(
                        f"  credit budget {monthly_credits:,} a month for the team: its sync "
                        f"stops at {monthly_credits - reserve_credits:,}, sends at "
                        f"{monthly_credits:,} (`fansly-console usage --team`)"
                    )
                _say(f"  {len(secrets)} signing secret(s) accepted. Ctrl-C stops.")
                await stop.wait()
            _say("fansly-console serve: stopped")
            return 0
    finally:
        if client is not None:
            await client.aclose()
