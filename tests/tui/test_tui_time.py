"""Times in the chatter's zone: the thread, its day separators, the status line, the offline
banner and search, all in one zone (``[ui] timezone``, else the machine's), named once.

Every test names its zone: India (UTC+05:30) moves both hours and minutes and puts a UTC
evening on the next day; a test that passed by the machine's zone would prove nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support.fakes_tui import FIXED_NOW, MemorySource
from support.tui import press, running

from console.config import ConfigError, load_settings
from console.tui.help_screen import HelpScreen
from console.tui.panes import OfflineBanner, StatusLine
from console.tui.thread import DateSeparator, Thread

INDIA = ZoneInfo("Asia/Kolkata")


def test_config_timezone_is_checked_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[ui]\ntheme = "fansly-dark"\ntimezone = "Mars/Olympus_Mons"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    text = str(caught.value)
    assert f"{path}, line 3: ui.timezone:" in text and "IANA" in text
    path.write_text('[ui]\ntimezone = "Asia/Kolkata"\n')
    assert load_settings(path).ui.timezone == "Asia/Kolkata"
    path.write_text("[ui]\n")
    assert load_settings(path).ui.timezone == ""  # the machine's zone


def test_config_timezone_refuses_paths(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[ui]\ntimezone = "../../etc/passwd"\n')
    with pytest.raises(ConfigError, match=r"line 2: ui\.timezone"):
        load_settings(path)


async def test_thread_and_day_separators_are_in_the_chatters_zone() -> None:
    async with running(timezone="Asia/Kolkata") as (app, _pilot, _source):
        thread = app.query_one(Thread)
        views = thread.message_views
        assert views
        for view in views:
            local = view.row.created_at.astimezone(INDIA)
            assert f"  {local:%H:%M}" in str(view.render())
        # The separators are the local days, in order, one per day.
        days = []
        for view in views:
            day = view.row.created_at.astimezone(INDIA).date()
            if not days or days[-1] != day:
                days.append(day)
        shown = [s.day for s in thread.query(DateSeparator)]
        assert shown == [f"{d:%a %d %b %Y}" for d in days]
        # The test means something: some message's local day is not its UTC day.
        assert any(
            v.row.created_at.astimezone(INDIA).date() != v.row.created_at.date() for v in views
        )


async def test_status_line_and_offline_banner_use_the_zone_and_name_it() -> None:
    since = FIXED_NOW - timedelta(minutes=42)  # 11:18 UTC, 16:48 in India
    source = MemorySource(now=since)
    async with running(source, timezone="Asia/Kolkata") as (app, pilot, _source):
        status = app.query_one(StatusLine)
        assert "IST" in str(status.render())  # the zone, named once
        source.go("offline")
        await press(app, pilot)
        assert "since 16:48" in str(status.render())
        banner = app.query_one(OfflineBanner)
        assert "since 16:48" in str(banner.render())
        assert "11:18" not in str(banner.render()) + str(status.render())


async def test_help_names_the_zone_and_how_to_change_it() -> None:
    async with running(timezone="America/New_York") as (app, pilot, _source):
        await press(app, pilot, "f1")
        assert isinstance(app.screen, HelpScreen)
        text = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert "America/New_York" in text and "[ui] timezone" in text


def test_naive_times_are_utc() -> None:
    from console.tui.zone import local, set_zone

    set_zone(INDIA)
    try:
        assert local(datetime(2026, 1, 1, 20, 0)).strftime("%d %H:%M") == "02 01:30"
    finally:
        set_zone(None)


def test_search_verb_prints_times_in_the_configured_zone(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse
    import asyncio

    from support.store import ACCOUNT, account, chat, message

    from console.commands.search import run
    from console.store import Store, store_path

    when = datetime(2026, 3, 1, 20, 10, tzinfo=ZoneInfo("UTC"))  # 01:40 the next day in India

    async def fill() -> None:
        async with await Store.open(store_path("default")) as store:
            await store.upsert_accounts([account()])
            await store.upsert_chats(ACCOUNT, [chat("c1", "100", display_name="Ann")])
            await store.upsert_messages(
                ACCOUNT, "c1", [message("m1", text="late photo", created=when)]
            )

    asyncio.run(fill())
    monkeypatch.setenv("FANSLY_CONSOLE_UI__TIMEZONE", "Asia/Kolkata")
    args = argparse.Namespace(
        query="photo", account=None, chat=None, limit=5, json=False, profile=None
    )
    assert run(args) == 0
    out = capsys.readouterr().out
    assert "2026-03-02 01:40" in out and "20:10" not in out
