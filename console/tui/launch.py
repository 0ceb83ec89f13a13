"""Start the console: on the configured gateway (``fansly-console``) or on the embedded
sandbox with its simulator (``fansly-console demo``).

Everything runs in one event loop: the Textual app, the sync workspace, the webhook listener
and (for the demo) the sandbox and its simulator. The servers are entered as the app's
services once it is mounted, and closed when it exits.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import secrets
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console import paths
from console.config import ConfigError, Profile, Secret, Settings, load_settings
from console.tui.app import ConsoleApp, make_app
from console.tui.css_cache import CACHE_FILE as CSS_CACHE_FILE
from console.tui.workspace_source import WorkspaceSource

if TYPE_CHECKING:
    from console.events import Event
    from console.sync.engine import Workspace

NO_KEY = (
    "No API key is configured: set FANSLY_API_KEY=…, or api_key under [profiles.default] in {}.\n"
    "To see the console without one, run `fansly-console demo` (a built-in sandbox)."
)


class Running:
    """The workspace as an app service: opened (when given an ``opener`` instead of a
    workspace), started on mount, stopped on exit (once).

    The console opens it only once the cached chats are painted: opening imports the API
    client and httpx and builds the clients, none of which the first screen needs.
    """

    def __init__(
        self,
        workspace: Workspace | None = None,
        *,
        opener: Callable[[], Awaitable[Workspace]] | None = None,
        source: WorkspaceSource | None = None,
        store: Any = None,
    ) -> None:
        if workspace is None and opener is None:
            raise TypeError("a workspace or an opener")
        self.workspace: Workspace = workspace  # type: ignore[assignment]  # set once opened
        self._opener = opener
        self._source = source
        self._store = store  # closed here if the workspace never opened (and took it)
        self.stopped = False

    async def __aenter__(self) -> Workspace:
        if self.workspace is None:
            assert self._opener is not None
            self.workspace = await self._opener()
            if self._source is not None:
                self._source.attach(self.workspace)
        await self.workspace.start()
        return self.workspace

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        if self._source is not None:
            self._source.close()
        if self.workspace is not None:
            await self.workspace.stop()
        elif self._store is not None:
            await self._store.close()

    async def apply_event(self, event: Event) -> int | None:
        """A listener's or a hub's sink: the workspace's ``apply_event`` once it is open."""
        if self.workspace is None:
            raise RuntimeError("the workspace is not open yet")
        return await self.workspace.apply_event(event)

    async def apply_relayed_event(self, event: Event) -> int | None:
        """A hub's sink: the event was delivered (and billed) to the hub's listener, not here."""
        if self.workspace is None:
            raise RuntimeError("the workspace is not open yet")
        return await self.workspace.apply_event(event, billed=False)


def listener_service(
    settings: Settings, apply_event: Callable[[Event], Awaitable[int | None]]
) -> AbstractAsyncContextManager[Any]:
    """The webhook listener on the configured address, writing through ``apply_event``."""
    from console.serving import EmbeddedServer
    from console.webhooks.app import create_listener_app
    from console.webhooks.sinks import as_sink

    hook = settings.webhooks
    app = create_listener_app(
        as_sink(apply_event),
        secrets=[s.get_secret_value() for s in hook.secrets],
        path=hook.path,
        max_body_bytes=hook.max_body_bytes,
    )
    return EmbeddedServer(app, host=hook.host, port=hook.port)


def _app(
    settings: Settings,
    source: WorkspaceSource,
    services: list[Any],
    theme: str | None,
    title: str,
) -> ConsoleApp:
    from console.store.queue import BadgeRules
    from console.tui.account_switcher import AccountLayout

    ui, queue = settings.ui, settings.queue
    return make_app(
        source,
        badge_rules=BadgeRules(
            spend_tiers=(queue.spend_tiers[0], queue.spend_tiers[1], queue.spend_tiers[2]),
            new_subscriber_days=queue.new_subscriber_days,
            expiring_days=queue.expiring_days,
            recent_purchase_hours=queue.recent_purchase_hours,
        ),
        queue_sort=queue.sort,
        queue_default=queue.default_view,
        notify=settings.notify,
        account_layout=AccountLayout(
            hidden=tuple(settings.accounts.hidden), groups=settings.accounts.groups
        ),
        theme=theme or ui.theme,
        keymap=ui.keymap,
        timezone=ui.timezone,
        tip_alert_dollars=ui.tip_alert_dollars,
        waiting_alert_minutes=ui.waiting_alert_minutes,
        services=services,
        themes_dir=paths.themes_dir(),
        title=title,
        css_cache=paths.cache_dir() / CSS_CACHE_FILE,
        guard=settings.guard,
    )


def hub_address(settings: Settings, given: str) -> tuple[str, str | None]:
    """The hub's websocket address and its token, for ``--events``: the token from the URL
    (``?token=``), else the config's ``webhooks.hub_token``, else the file ``listen`` keeps on
    this machine. A ``ConfigError`` (shown in one line) when none of them has it."""
    from urllib.parse import parse_qs, urlsplit

    from console.tui.hub_feed import HubAddressError, events_url
    from console.webhooks.tokens import hub_token

    try:
        url = events_url(given)
    except HubAddressError as exc:
        raise ConfigError(str(exc)) from None
    if parse_qs(urlsplit(url).query).get("token"):
        return url, None
    token, where = hub_token(settings.webhooks, create=False)
    if token is None:
        raise ConfigError(
            "--events needs the hub's token: add ?token=… to the address, set hub_token under "
            f"[webhooks] in the config, or run `fansly-console listen` on this machine (it keeps "
            f"one in {where})"
        )
    return url, token


async def build_console(
    settings: Settings,
    *,
    profile: str | None = None,
    offline: bool = False,
    events: str | None = None,
    theme: str | None = None,
    workspace: Workspace | None = None,
    path: Path | None = None,
    team: tuple[str, str] | None = None,
) -> tuple[ConsoleApp, Running]:
    """The console on the configured gateway (or the cache alone when ``offline``). Live events
    come from the embedded listener, or from a hub at ``events`` (``ws://…``), in which case
    no listener is started here. ``path``: another cache file (the bench).

    Only the cache is opened here: the first screen is painted from it, then the workspace
    (clients, sync, outbox) is opened and started as the app's first service."""
    from console.changes import UpdateBus
    from console.store import Store, store_path

    hub = hub_address(settings, events) if events else None
    if team is not None:
        # Team mode (``--team URL``): the cache is filled from the team server, never the
        # gateway, and its stream is the hub (console/team/cache.py).
        offline = True
        hub = (team[0].rstrip("/").replace("http", "ws", 1) + "/events", team[1])
        if path is None:
            path = store_path(_team_profile(team[0]))
    if workspace is not None:
        source = WorkspaceSource(workspace)
        running = Running(workspace, source=source)
    else:
        if profile is not None:
            chosen = settings.profile(profile)  # an unknown name: a ConfigError, said at once
            key = chosen.api_key.get_secret_value() if chosen.api_key is not None else ""
            if not offline and not key:
                raise ConfigError(
                    f"no API key is configured for profile {profile!r}.\n"
                    f"Set FANSLY_API_KEY, or api_key under [profiles.{profile}] in "
                    f"{paths.config_file()}."
                )
        store = await Store.open(
            path or store_path(profile or settings.default_profile),
            event_retention_days=settings.webhooks.event_retention_days,
        )
        bus = UpdateBus()

        async def open_workspace() -> Workspace:
            from console.sync.engine import Workspace

            return await Workspace.open(
                settings, profile=profile, offline=offline, bus=bus, store=store
            )

        source = WorkspaceSource(store=store, bus=bus, offline=offline)
        running = Running(opener=open_workspace, source=source, store=store)
    if team is not None:
        from console.team.cache import fill_from_team
        from console.team.client import TeamClient

        async with TeamClient(team[0], team[1]) as client:
            filled = await fill_from_team(source.store, client)
    await source.preload()  # the cached accounts: tabs and chats paint before the network
    services: list[Any] = [running]
    notes: list[str] = []
    feed = None
    hook = settings.webhooks
    if hub is not None:
        from console.tui.hub_feed import HubFeed, HubPosition

        cache = source.store.path  # one position per cache file and hub
        parse = None
        if team is not None:
            from console.team.client import parse_stream

            parse = parse_stream
        feed = HubFeed(
            hub[0],
            running.apply_relayed_event,
            source.bus.publish,
            token=hub[1],
            position=HubPosition(paths.data_dir(), cache, hub[0]),
            parse=parse,
        )
        services.append(feed)  # after the workspace: events are applied to a started one
        if team is not None:
            from console.team.client import TeamClient
            from console.team.relay import TeamRelay
            from console.tui.team_ui import TeamUI

            team_ui = TeamUI(
                TeamClient(team[0], team[1]),
                source.store,
                me=filled.me,
                accounts=filled.account_ids,
                presence=filled.presence,
            )

            async def retry(client_id: str) -> None:
                await (await source._opened()).retry(client_id)

            async def discard(client_id: str) -> None:
                await (await source._opened()).discard(client_id)

            team_ui.retry, team_ui.discard = retry, discard
            source.team_credits = lambda: team_ui.credits  # the status line's credits
            source.older_history = team_ui.fetch_older  # past the cache, the server's history
            # Replies and actions go to the team server (its outbox sends them, once).
            services.append(
                TeamRelay(
                    source.store,
                    team[0],
                    team[1],
                    filled.account_ids,
                    source.bus.publish,
                    send_anyway=team_ui.send_anyway,
                    on_ask=team_ui.asked,
                )
            )
    elif not offline and hook.embedded:
        if hook.secrets:
            try:
                services.append(listener_service(settings, running.apply_event))
            except OSError as exc:
                notes.append(
                    f"Webhook listener not started on {hook.host}:{hook.port}: {exc.strerror}"
                )
        else:
            notes.append("No webhook secret configured: live events are off (see README).")
    title = f"team {team[0]}" if team is not None else "offline" if offline else ""
    app = _app(settings, source, services, theme, title)
    app.startup_notes = notes
    if feed is not None:
        feed.on_state = app.hub_changed
    if feed is not None and team is not None:
        from console.changes import ConnectionChanged
        from console.tui.panes import TEAM_SERVER

        shown = ["live"]  # the cache was just filled from the server: it answered

        def on_state(state: ConnectionChanged) -> None:
            # Team mode: the team server's stream is the console's connection (the status
            # line, the banner); the gateway is the server's business.
            app.hub_changed(state)
            team_ui.online = state.state == "live"
            if state.state != shown[0]:
                shown[0] = state.state
                source.bus.publish(ConnectionChanged(state.state, state.since, TEAM_SERVER))

        feed.on_state = on_state
    if feed is not None and team is not None:
        from console.tui.team_notices import notice_text

        app.team = team_ui
        app.services.append(_closing(team_ui))  # the app copied its list

        def on_notice(notice: Any) -> None:
            if not team_ui.notice(notice):  # presence in the list and the header; notes
                return  # a heartbeat: shown already, not toasted again
            text = notice_text(notice, me=filled.me, open_chat=app.chats_screen.chat_id)
            if text is not None:
                app.notify(text, markup=False, timeout=4)

        feed.on_notice = on_notice
    return app, running


@contextlib.asynccontextmanager
async def _closing(team_ui: Any) -> Any:
    """The team UI's client, closed with the app's services (after telling the team this
    chatter left: their name leaves the others' chat lists at once, not in 30 s)."""
    try:
        yield team_ui
    finally:
        await team_ui.tell(None)
        await team_ui.aclose()


def _team_profile(url: str) -> str:
    """The cache of a team server: a profile name of its own per server, so a chatter's solo
    cache and each team's never mix."""
    import hashlib

    return "team-" + hashlib.sha256(url.encode()).hexdigest()[:12]


def run_console(args: argparse.Namespace) -> int:
    """``fansly-console [--offline] [--theme T] [--profile P] [--events ws://…]``."""
    import asyncio

    settings = load_settings()
    offline = bool(getattr(args, "offline", False))
    team_url = getattr(args, "team", None)
    team: tuple[str, str] | None = None
    if team_url is not None:
        from console.team.cache import team_token

        team = (team_url or settings.team.url, team_token(settings.team))
        if not team[0]:
            print("fansly-console --team: give the team server's URL", file=sys.stderr)
            return 2
        offline = True  # the gateway is the server's business, not this console's
    if not offline and not settings.configured_profiles():
        print(NO_KEY.format(paths.config_file()), file=sys.stderr)
        return 2
    events = getattr(args, "events", None)
    if events:
        hub_address(settings, events)  # a bad address or no token: say so before opening

    async def main() -> int:
        app, running = await build_console(
            settings,
            profile=args.profile,
            offline=offline,
            events=events,
            theme=args.theme,
            team=team,
        )
        try:
            await app.run_async()
        finally:
            # Normally the app stopped it already; a workspace never started still owns its store.
            await running.stop()
        return app.return_code or 0

    return asyncio.run(main())


def _demo_settings(base: Settings, base_url: str, api_key: str, secret: str) -> Settings:
    """The user's UI settings, with one profile on the sandbox."""
    demo = copy.deepcopy(base)
    demo.profiles = {
        "demo": Profile(api_key=Secret(api_key), base_url=base_url, requests_per_minute=100_000)
    }
    demo.default_profile = "demo"
    demo.webhooks = dataclasses.replace(
        demo.webhooks, secrets=[Secret(secret)], port=0, host="127.0.0.1"
    )
    return demo


def demo_cache_path(seed: int, size: str, tmp: Path) -> Path:
    """``FANSLY_CONSOLE_HOME``'s data dir when set (kept for inspection), else a temp dir."""
    import os

    if os.environ.get("FANSLY_CONSOLE_HOME"):
        path = paths.data_dir() / f"demo-{seed}-{size}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{path}{suffix}").unlink()
        return path
    return tmp / "demo.sqlite3"


async def build_demo(
    *,
    seed: int = 7,
    size: str = "default",
    simulate_per_minute: float = 12.0,
    theme: str | None = None,
    cache: Path,
    settings: Settings | None = None,
    workspace_options: dict[str, Any] | None = None,
    sandbox_port: int = 0,
) -> tuple[ConsoleApp, Running, Any]:
    """The console on a fresh sandbox: listener bound first (the simulator needs its URL),
    then the sandbox, then the workspace; the app enters them in that order on mount.
    ``workspace_options`` go to the Workspace (tests and screenshots shorten its pauses)."""
    from console.sandbox.server import SandboxServer
    from console.store import Store
    from console.webhooks.app import DEFAULT_PATH

    settings = settings or Settings()
    secret = f"whsec_{secrets.token_urlsafe(24)}"
    api_key = f"sbx_{secrets.token_urlsafe(24)}"
    from console.serving import EmbeddedServer
    from console.webhooks.app import create_listener_app
    from console.webhooks.sinks import as_sink

    async def apply(event: Any) -> Any:
        # The workspace is built below (it needs the sandbox's URL, which needs ours).
        return await workspace.apply_event(event)

    listener = EmbeddedServer(
        create_listener_app(as_sink(apply), secrets=[secret], path=DEFAULT_PATH),
        host="127.0.0.1",
        port=0,
    )
    sandbox = SandboxServer(
        seed=seed,
        size=size,
        reference_time=int(time.time()) // 60 * 60,  # history ends now: waits read like a shift
        api_key=api_key,
        webhook_secret=secret,
        webhook_url=listener.url + DEFAULT_PATH,
        simulate_per_minute=simulate_per_minute,
        requests_per_minute=100_000,
        port=sandbox_port,
    )
    demo = _demo_settings(settings, sandbox.base_url, api_key, secret)
    from console.api.client import client_from_settings
    from console.sync.engine import Workspace

    store = await Store.open(cache)
    workspace = Workspace(
        demo,
        store,
        clients={"demo": client_from_settings(demo, "demo")},
        owns_store=True,
        **(workspace_options or {}),
    )
    source = WorkspaceSource(workspace)
    running = Running(workspace, source=source)
    await source.preload()
    app = _app(demo, source, [listener, sandbox, running], theme, f"demo · seed {seed}")
    return app, running, sandbox


def run_demo(args: argparse.Namespace) -> int:
    """``fansly-console demo``: the full console on the embedded sandbox."""
    import asyncio

    base = load_settings()

    async def main(tmp: Path) -> int:
        app, running, _sandbox = await build_demo(
            seed=args.seed,
            size=args.size,
            simulate_per_minute=args.simulate,
            theme=args.theme,
            cache=demo_cache_path(args.seed, args.size, tmp),
            settings=base,
        )
        try:
            await app.run_async()
        finally:
            await running.stop()
        return app.return_code or 0

    with tempfile.TemporaryDirectory(prefix="fansly-demo-") as tmp:
        return asyncio.run(main(Path(tmp)))
