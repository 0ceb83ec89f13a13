"""``fansly-console listen``: the webhook listener, the profile's cache and the event hub.

Headless: signed deliveries are verified, recorded and applied to the profile's cache, and
streamed to any console that connects to the hub. Secrets and the hub token are never printed;
the startup lines say where the token is kept. One log line per delivery goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import TextIO

from console.commands import stop_on_signals

EXIT_CONFIG = 2
EXIT_BIND = 1
EXIT_WORKER = 1

NO_SECRET = """\
fansly-console listen: no webhook secret is configured, so deliveries cannot be verified.
Give one with --secret-file PATH, the FANSLY_WEBHOOK_SECRET environment variable, or
`secrets = ["…"]` under [webhooks] in the config file; the gateway's dashboard shows it.
(--insecure-no-signature accepts unsigned deliveries: only for a local test.)"""

INSECURE = (
    "WARNING: --insecure-no-signature: deliveries are accepted WITHOUT a signature check; "
    "anyone who can reach this port can write to the cache."
)


def _say(text: str, stream: TextIO = sys.stdout) -> None:
    from console.output import terminal_text

    print(terminal_text(text, newlines=True), file=stream, flush=True)


def _configure_logging() -> None:
    from console.output import TerminalFormatter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(TerminalFormatter("%(asctime)s %(message)s", "%H:%M:%S"))
    for name in ("console.webhooks", "console.webhooks.remote"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    # uvicorn's lifecycle chatter adds nothing here; its errors still show.
    logging.getLogger("uvicorn").setLevel(logging.WARNING)
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)


def secrets_from_files(names: list[str]) -> list[str]:
    """The secrets in ``--secret-file`` files: one a line, blank lines and ``#`` comments
    skipped. A file that cannot be read is a ``ConfigError`` (its content is never shown)."""
    from pathlib import Path

    from console.config import ConfigError

    secrets: list[str] = []
    for name in names:
        try:
            text = Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise ConfigError(f"--secret-file {name}: cannot be read ({reason})") from None
        found = [line.strip() for line in text.splitlines()]
        found = [line for line in found if line and not line.startswith("#")]
        if not found:
            raise ConfigError(f"--secret-file {name}: holds no secret")
        secrets.extend(found)
    return secrets


def run(args: argparse.Namespace) -> int:
    from console.config import load_settings

    settings = load_settings()
    hook = settings.webhooks
    # --secret / --secret-file replace the configured secrets (FANSLY_WEBHOOK_SECRET among
    # them); --secret is visible to every local user in the process list, the others are not.
    given = [s for s in (args.secret or []) if s] + secrets_from_files(args.secret_file or [])
    secrets = given or [s.get_secret_value() for s in hook.secrets if s.get_secret_value()]
    if not secrets and not args.insecure_no_signature:
        _say(NO_SECRET, sys.stderr)
        return EXIT_CONFIG
    if args.insecure_no_signature:
        _say(INSECURE, sys.stderr)
    profile = args.profile or settings.default_profile
    settings.profile(profile)  # an unknown profile is a ConfigError, shown by main()
    host = args.host or hook.host
    port = hook.port if args.port is None else args.port
    _configure_logging()
    try:
        return asyncio.run(
            _serve(
                profile=profile,
                host=host,
                port=port,
                secrets=secrets,
                insecure=bool(args.insecure_no_signature),
            )
        )
    except KeyboardInterrupt:
        return 0


async def _serve(*, profile: str, host: str, port: int, secrets: list[str], insecure: bool) -> int:
    from console.config import load_settings
    from console.serving import EmbeddedServer
    from console.store import Store, store_path
    from console.webhooks.app import create_listener_app
    from console.webhooks.hub import EventHub
    from console.webhooks.tokens import hub_token
    from console.webhooks.worker import IngestWorker, WorkerError

    hook = load_settings().webhooks
    path = store_path(profile)
    # This process serves HTTP and the hub (reading the cache); the ingest worker, a process
    # of its own, parses and commits each delivery before it is answered.
    store = await Store.open(path, event_retention_days=hook.event_retention_days)
    try:
        worker = await IngestWorker.open(path, event_retention_days=hook.event_retention_days)
    except WorkerError as exc:
        await store.close()
        _say(f"fansly-console listen: {exc}", sys.stderr)
        return EXIT_WORKER
    try:
        # After the cache: a read-only data dir is reported about the cache, first.
        token, token_source = hub_token(hook)
        assert token is not None
        hub = EventHub(store, token=token)
        app = create_listener_app(
            intake=worker.intake,
            secrets=secrets,
            path=hook.path,
            max_body_bytes=hook.max_body_bytes,
            insecure_no_signature=insecure,
            hub=hub,
        )
        try:
            server = EmbeddedServer(app, host=host, port=port)
        except OSError as exc:
            _say(
                f"fansly-console listen: cannot listen on {host}:{port}: {exc.strerror}", sys.stderr
            )
            return EXIT_BIND
        stop = stop_on_signals()
        async with server:
            base = server.url
            _say(f"fansly-console listen: profile {profile!r}, cache {path}")
            _say(f"  webhook URL (register it in the gateway's dashboard): {base}{hook.path}")
            ws = base.replace("http://", "ws://", 1)
            _say(f"  hub for other consoles: {ws}/events (token in {token_source}; never printed)")
            if host not in ("127.0.0.1", "::1", "localhost"):
                _say(f"  note: bound to {host}, reachable from other machines")
            _say(f"  {len(secrets)} signing secret(s) accepted. Ctrl-C stops.")
            await stop.wait()
        _say("fansly-console listen: stopped")
        return 0
    finally:
        await worker.close()
        await store.close()
