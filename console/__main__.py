"""The ``fansly-console`` command: one entry point, several verbs.

Arguments for every verb are declared here (cheap: only argparse is imported) so that
``--help`` answers at once; each verb's work lives in ``console/commands/<verb>.py`` and is
imported only when that verb runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from console import __version__

EXIT_CONFIG = 2


def _profile_name(value: str) -> str:
    from console.paths import check_profile_name

    try:
        return check_profile_name(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port: use 1-65535 (0: any free one)")
    return port


def _add_profile(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS on the verbs: a subparser's default would overwrite `--profile X VERB`.
    default = None if parser.prog == "fansly-console" else argparse.SUPPRESS
    parser.add_argument(
        "--profile",
        default=default,
        type=_profile_name,
        help="config profile to use (default: the default profile)",
    )


def _add_account(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--account", metavar="ID", help="only this connected account")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fansly-console",
        description="A keyboard-only terminal chat console for Fansly creator inboxes.",
        epilog="With no verb, opens the console on the configured gateway. "
        "Try `fansly-console demo` to see it on the built-in sandbox.",
    )
    parser.add_argument("--version", action="version", version=f"fansly-console {__version__}")
    parser.add_argument("--offline", action="store_true", help="open on the cache alone")
    parser.add_argument("--theme", help="theme name (see `locate themes`)")
    parser.add_argument(
        "--events", metavar="WS_URL", help="receive events from a hub (`listen`) instead"
    )
    parser.add_argument(
        "--team",
        metavar="URL",
        nargs="?",
        const="",
        default=None,
        help="team mode: work from a team server (`serve`) with your chatter token",
    )
    _add_profile(parser)
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")

    demo = verbs.add_parser("demo", help="open the console on the embedded sandbox")
    demo.add_argument("--seed", type=int, default=7, help="sandbox world seed")
    demo.add_argument("--size", choices=["small", "default", "large", "agency"], default="default")
    demo.add_argument(
        "--simulate", type=float, default=12.0, metavar="EVENTS_PER_MIN", help="fan activity"
    )
    demo.add_argument("--theme", help="theme name")
    demo.add_argument(
        "--print", action="store_true", help="print a short view of the sandbox and exit"
    )

    sandbox = verbs.add_parser("sandbox", help="run the gateway emulator on a real socket")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=_port, default=0, help="0 picks a free port")
    sandbox.add_argument("--api-key", default=None, help="key clients must send (random if unset)")
    sandbox.add_argument(
        "--seed",
        type=int,
        default=7,
        help="world seed: the same seed is the same world, ids and all",
    )
    sandbox.add_argument(
        "--size", choices=["small", "default", "large", "agency"], default="default"
    )
    sandbox.add_argument("--webhook-url", default=None, help="deliver signed webhooks here")
    sandbox.add_argument("--webhook-secret", default=None, help="signing secret (random if unset)")
    sandbox.add_argument(
        "--simulate", type=float, default=0.0, metavar="EVENTS_PER_MIN", help="fan activity rate"
    )
    sandbox.add_argument("--credits", type=int, default=None, help="monthly credits (402 after)")
    sandbox.add_argument(
        "--requests-per-minute", type=int, default=600, help="rate limit (429 above)"
    )

    accounts = verbs.add_parser("accounts", help="list the connected accounts of the gateway")
    accounts.add_argument("--json", action="store_true", help="machine-readable output")
    _add_profile(accounts)

    locate = verbs.add_parser("locate", help="where config, data and themes live")
    locate.add_argument("what", choices=["config", "data", "themes"])

    sync = verbs.add_parser("sync", help="backfill the offline cache from the gateway")
    _add_account(sync)
    sync.add_argument(
        "--full",
        action="store_true",
        help="every chat's latest messages (costs about a credit per chat), not only what a "
        "chatter reads soon",
    )
    sync.add_argument(
        "--dry-run",
        action="store_true",
        help="print the requests and credits a sync would spend (reads the chat list only)",
    )
    _add_profile(sync)

    usage = verbs.add_parser("usage", help="credits spent with the gateway, by feature and account")
    usage.add_argument("--json", action="store_true", help="machine-readable output")
    usage.add_argument(
        "--team",
        metavar="URL",
        nargs="?",
        const="",
        default=argparse.SUPPRESS,  # `fansly-console --team URL usage` works too
        help="the team's credits, from the team server (your chatter token; URL: [team] url)",
    )
    usage.add_argument(
        "--database",
        metavar="URL",
        help="the team's credits, straight from the team database (an operator on its host)",
    )
    _add_profile(usage)

    search = verbs.add_parser("search", help="search the offline cache (no network)")
    search.add_argument("query")
    _add_account(search)
    search.add_argument("--chat", metavar="ID", help="only this chat")
    search.add_argument("--limit", type=int, default=20)
    search.add_argument("--json", action="store_true")
    _add_profile(search)

    export = verbs.add_parser("export", help="write cached chats and messages")
    _add_account(export)
    export.add_argument("--format", choices=["jsonl"], default="jsonl")
    export.add_argument("--output", "-o", default="-", help="file (default: stdout)")
    _add_profile(export)

    listen = verbs.add_parser("listen", help="run the webhook listener and the event hub")
    listen.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    listen.add_argument("--port", type=_port, default=None)
    listen.add_argument(
        "--secret-file",
        action="append",
        default=None,
        metavar="PATH",
        help="read the webhook secret(s) from this file, one a line (the safe way to give one)",
    )
    listen.add_argument(
        "--secret",
        action="append",
        default=None,
        help="webhook secret(s); other local users can read it in the process list: prefer "
        "--secret-file, FANSLY_WEBHOOK_SECRET or [webhooks] secrets in the config",
    )
    listen.add_argument(
        "--insecure-no-signature", action="store_true", help="accept unsigned webhooks (unsafe)"
    )
    _add_profile(listen)

    serve = verbs.add_parser(
        "serve", help="run a team server instance (team mode, PostgreSQL; see README)"
    )
    _add_database(serve)
    serve.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=None)
    serve.add_argument(
        "--secret-file",
        action="append",
        default=None,
        metavar="PATH",
        help="read the webhook secret(s) from this file, one a line",
    )
    serve.add_argument(
        "--secret", action="append", default=None, help="webhook secret (prefer --secret-file)"
    )
    serve.add_argument(
        "--insecure-no-signature", action="store_true", help="accept unsigned webhooks (unsafe)"
    )
    serve.add_argument("--tls-cert", metavar="PEM", help="serve HTTPS/WSS with this certificate")
    serve.add_argument("--tls-key", metavar="PEM", help="the certificate's private key")
    _add_profile(serve)

    team = verbs.add_parser("team", help="the team's chatters and their stats (team mode)")
    team_verbs = team.add_subparsers(dest="team_verb", metavar="ACTION", required=True)
    add = team_verbs.add_parser("add", help="add a chatter; prints their token once")
    add.add_argument("name")
    add.add_argument("--accounts", metavar="ID,…", help="the accounts they work")
    add.add_argument("--admin", action="store_true", help="every account, and the stats")
    _add_database(add)
    listing = team_verbs.add_parser("list", help="the chatters (never their tokens)")
    listing.add_argument("--json", action="store_true")
    _add_database(listing)
    revoke = team_verbs.add_parser("revoke", help="revoke a chatter's token (within seconds)")
    revoke.add_argument("name")
    _add_database(revoke)
    stats = team_verbs.add_parser(
        "stats", help="per chatter: replies, response time, PPVs, revenue credited"
    )
    stats.add_argument("--since", metavar="8h|1d|7d|ISO", help="a shift, a day, a week back")
    stats.add_argument("--json", action="store_true")
    _add_database(stats)
    team_demo = team_verbs.add_parser(
        "demo", help="team mode end to end: PostgreSQL, sandbox, two servers, a teammate"
    )
    team_demo.add_argument("--seed", type=int, default=7, help="sandbox world seed")
    team_demo.add_argument("--simulate", type=float, default=12.0, metavar="EVENTS_PER_MIN")
    team_demo.add_argument("--theme", help="theme name")
    return parser


def _add_database(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database",
        metavar="URL",
        help="the team database, postgresql://… (else FANSLY_CONSOLE_DATABASE_URL, or "
        "database_url under [team] in the config)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    verb = args.verb or "console"
    module = importlib.import_module(f"console.commands.{verb}")
    from console.config import ConfigError

    try:
        return int(module.run(args) or 0)
    except ConfigError as exc:
        print(f"fansly-console: configuration error\n{exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`fansly-console export | head`): not an error worth a traceback.
        # Point stdout at /dev/null so the interpreter's own final flush does not fail again.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:
        # Something the user can put right (a damaged or read-only cache…) is said in one line;
        # anything else is a bug and keeps its traceback.
        from console.problems import Problem

        if not isinstance(exc, Problem):
            raise
        print(f"fansly-console: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
