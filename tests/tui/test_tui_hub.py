"""``fansly-console --events ws://…``: the console fed by a hub (``listen``) instead of its own
listener. A real hub (the listener app with its event hub, served on a socket, as ``listen``
serves it), the real sandbox as the gateway, signed webhooks POSTed to the hub."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from support.hub import post_message
from support.tui import until
from textual.pilot import Pilot

from console import paths
from console.config import ConfigError, Profile, Secret, Settings, WebhookSettings
from console.sandbox.server import SandboxServer
from console.serving import EmbeddedServer
from console.store import Store, store_path
from console.tui.app import ConsoleApp
from console.tui.hub_feed import HubFeed
from console.tui.launch import Running, build_console, hub_address
from console.tui.panes import StatusLine
from console.tui.thread import Thread
from console.webhooks.app import create_listener_app
from console.webhooks.hub import EventHub
from console.webhooks.sinks import as_sink
from console.webhooks.tokens import hub_token


def _settings(sandbox: SandboxServer) -> Settings:
    profile = Profile(
        api_key=Secret(sandbox.api_key), base_url=sandbox.base_url, requests_per_minute=100_000
    )
    return Settings(
        profiles={"default": profile},
        webhooks=WebhookSettings(secrets=[Secret(sandbox.webhook_secret)], port=0),
    )


@asynccontextmanager
async def _hub(cache: Path, secret: str, port: int = 0) -> AsyncIterator[EmbeddedServer]:
    """What ``listen`` serves: verified deliveries applied to its cache and streamed."""
    token, _where = hub_token(WebhookSettings())  # created in the data dir, as `listen` does
    assert token is not None
    store = await Store.open(cache)
    try:
        app = create_listener_app(
            as_sink(store.apply_event), secrets=[secret], hub=EventHub(store, token=token)
        )
        async with EmbeddedServer(app, port=port) as server:
            yield server
    finally:
        await store.close()


def _ws(server: EmbeddedServer) -> str:
    return server.url.replace("http://", "ws://", 1)  # `/events` is added when left out


@asynccontextmanager
async def _console(
    settings: Settings, events: str
) -> AsyncIterator[tuple[ConsoleApp, Pilot[int], Running]]:
    app, running = await build_console(settings, events=events)
    app.open_delay = 0
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await until(
                app,
                pilot,
                lambda: running.workspace is not None and running.workspace.engines != {},
            )
            await running.workspace.wait_backfilled()
            await until(app, pilot, lambda: app.chats_screen.chat_id is not None)
            yield app, pilot, running
    finally:
        await running.stop()


def _status(app: ConsoleApp) -> str:
    return str(app.query_one(StatusLine).render())


@pytest.mark.parametrize("shared", [True, False], ids=["same-cache", "own-cache"])
async def test_webhook_posted_to_the_hub_appears_in_the_open_thread(
    sandbox_async: SandboxServer, tmp_path: Path, shared: bool
) -> None:
    sandbox = sandbox_async
    settings = _settings(sandbox)
    # `listen` on the same machine and profile writes the console's own cache file; a hub
    # elsewhere has its own.
    cache = store_path("default") if shared else tmp_path / "hub.sqlite3"
    async with _hub(cache, sandbox.webhook_secret) as hub:
        async with _console(settings, _ws(hub)) as (app, pilot, _running):
            # The hub replaces the embedded listener: no server of our own was started.
            kinds = {type(service) for service in app.services}
            assert kinds == {Running, HubFeed}
            await until(app, pilot, lambda: "⇄ hub live" in _status(app))
            thread = app.query_one(Thread)
            message_id = await post_message(hub, sandbox, app)
            await until(app, pilot, lambda: thread.view_of(message_id) is not None)
            view = thread.view_of(message_id)
            assert view is not None and "via the [b]hub[/b]" in str(view.render())
            # The local cache has it too (searchable offline later).
            assert await _running.workspace.store.message(message_id) is not None
            # Stored by the hub in a shared cache, the event is no news to the store: the feed
            # still told the screen.
            feed = next(s for s in app.services if isinstance(s, HubFeed))
            assert (feed.applied, feed.already_cached) == (1, 1 if shared else 0)


async def test_hub_lost_and_back_shows_in_the_status_line(
    sandbox_async: SandboxServer, tmp_path: Path
) -> None:
    sandbox = sandbox_async
    cache = tmp_path / "hub.sqlite3"
    async with _hub(cache, sandbox.webhook_secret) as hub:
        port = hub.port
        url = _ws(hub)
        async with _console(_settings(sandbox), url) as (app, pilot, _running):
            await until(app, pilot, lambda: "⇄ hub live" in _status(app))
            await hub.__aexit__(None, None, None)
            await until(app, pilot, lambda: "⇄ hub reconnecting since" in _status(app))
            async with _hub(cache, sandbox.webhook_secret, port=port) as back:
                await until(app, pilot, lambda: "⇄ hub live" in _status(app))
                thread = app.query_one(Thread)
                message_id = await post_message(back, sandbox, app)
                await until(app, pilot, lambda: thread.view_of(message_id) is not None)


async def test_a_console_closed_for_a_while_gets_what_the_hub_logged_meanwhile(
    sandbox_async: SandboxServer, tmp_path: Path
) -> None:
    sandbox = sandbox_async
    settings = _settings(sandbox)
    async with _hub(tmp_path / "hub.sqlite3", sandbox.webhook_secret) as hub:
        url = _ws(hub) + "?token=" + (hub_token(WebhookSettings())[0] or "")
        async with _console(settings, url) as (app, pilot, _running):
            await until(app, pilot, lambda: "⇄ hub live" in _status(app))
            first = await post_message(hub, sandbox, app)
            await until(app, pilot, lambda: app.query_one(Thread).view_of(first) is not None)
            where = (app.chats_screen.account_id or "", app.chats_screen.chat_id or "")
        # The console is closed; the hub keeps logging.
        missed = await post_message(hub, sandbox, where)
        saved = list(paths.data_dir().glob("hub-*.json"))
        assert len(saved) == 1 and "token" not in saved[0].read_text()
        async with _console(settings, url) as (app, pilot, running):
            feed = next(s for s in app.services if isinstance(s, HubFeed))
            async with asyncio.timeout(15):
                while await running.workspace.store.message(missed) is None:
                    await pilot.pause(0.02)
            # Only what it missed: the first message is not sent again.
            assert feed.applied == 1


def test_events_address_and_token_are_checked_before_anything_opens(
    console_home: Path,
) -> None:
    settings = Settings()
    with pytest.raises(ConfigError, match="ws://"):
        hub_address(settings, "http://127.0.0.1:8801")
    with pytest.raises(ConfigError, match="token"):
        hub_address(settings, "ws://127.0.0.1:8801")
    url, token = hub_address(settings, "ws://127.0.0.1:8801/events?token=abc")
    assert token is None and url.endswith("/events?token=abc")
    made, _where = hub_token(settings.webhooks)  # `listen` made one on this machine
    url, token = hub_address(settings, "ws://127.0.0.1:8801")
    assert url == "ws://127.0.0.1:8801/events" and token == made


def test_feed_repr_never_shows_the_token() -> None:
    async def apply(_event: object) -> int | None:
        return None

    feed = HubFeed("ws://127.0.0.1:9/events?token=s3cret-token", apply, lambda _u: None)
    assert "s3cret" not in repr(feed) and "s3cret" not in feed.url
    assert "s3cret" not in feed.state.detail
