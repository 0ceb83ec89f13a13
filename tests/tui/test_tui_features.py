"""Issue 6 on the in-memory source: themes, lists, the offline banner, the automations form's
checks, search, and the app's keys staying on the chats screen."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from support.fakes_tui import FIXED_NOW, MemorySource
from support.tui import keep_notices
from textual.content import Content
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static

from console.api.models import AutomatedMessage, TriggerType
from console.sandbox.hostile import HOSTILE_STRINGS
from console.tui.app import ConsoleApp, make_app
from console.tui.automation_form import AutomationForm, field_of, parse_duration
from console.tui.automations import AutomationsScreen
from console.tui.help_screen import HelpScreen
from console.tui.panes import OfflineBanner
from console.tui.profile import FanProfile, ListPicker, spend_buckets
from console.tui.search import SearchScreen
from console.tui.themes import BUILTIN_DIR, builtin_themes
from console.tui.thread import Thread


@asynccontextmanager
async def running(
    source: MemorySource | None = None, **options: object
) -> AsyncIterator[tuple[ConsoleApp, Pilot[int], MemorySource]]:
    source = source or MemorySource()
    app = keep_notices(make_app(source, clock=lambda: FIXED_NOW, **options))  # type: ignore[arg-type]
    app.open_delay = 0
    async with app.run_test(size=(120, 36)) as pilot:
        await app.settled()
        await pilot.pause()
        yield app, pilot, source


async def press(app: ConsoleApp, pilot: Pilot[int], *keys: str) -> None:
    await pilot.press(*keys)
    await app.settled()
    await pilot.pause()


def test_builtin_themes_are_files_with_the_app_variables() -> None:
    themes, problems = builtin_themes()
    names = {t.name for t in themes}
    assert {"fansly-dark", "fansly-light", "fansly-high-contrast"} <= names and not problems
    assert (BUILTIN_DIR / "fansly-dark.toml").is_file()
    for theme in themes:
        for variable in ("unread-badge", "pinned", "vip", "waiting-too-long"):
            assert variable in theme.variables


async def test_broken_theme_files_make_one_notice_and_the_default_is_used(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text("name = 'x'\nprimary = \n", "utf-8")
    (tmp_path / "bad-colour.toml").write_text("name = 'y'\nprimary = 'notacolour'\n", "utf-8")
    (tmp_path / "mine.toml").write_text("name = 'mine'\nprimary = '#123456'\n", "utf-8")
    async with running(theme="broken", themes_dir=tmp_path) as (app, _pilot, _source):
        assert app.theme == "fansly-dark"
        warnings = [n for n in app._notifications if n.severity == "warning"]
        assert len(warnings) == 1
        text = warnings[0].message
        assert "broken.toml" in text and "bad-colour.toml" in text and "notacolour" in text
    async with running(theme="mine", themes_dir=tmp_path) as (app, _pilot, _source):
        assert app.theme == "mine"
        assert app.theme_variables["unread-badge"]  # the app's variables filled in


async def test_lists_are_changed_from_the_profile() -> None:
    async with running() as (app, pilot, source):
        await press(app, pilot, "L")
        assert isinstance(app.screen, ListPicker)
        first = app.screen.choices[0]
        await press(app, pilot, "space", "enter")
        assert (
            "list",
            (app.chats_screen.account_id, app.chats_screen.fan_id, first.list_id, not first.member),
        ) in [(k, a) for k, a in source.calls]
        await app.settled()
        lists = str(app.query_one("#profile-lists", Static).render())
        assert (first.label in lists) is (not first.member)
        source.go("offline")
        await press(app, pilot, "L")
        assert not isinstance(app.screen, ListPicker)
        assert "Lists need the gateway" in list(app._notifications)[-1].message


async def test_offline_banner_says_since_when_and_counts_queued_actions() -> None:
    async with running() as (app, pilot, source):
        banner = app.query_one(OfflineBanner)
        assert not banner.display
        source.go("offline")
        await press(app, pilot, "r", *"hello", "enter")
        assert banner.display
        text = str(banner.render())
        assert "Offline since" in text and "1 action queued" in text
        source.go("live")
        await press(app, pilot)
        assert not banner.display


async def test_profile_shows_spend_chart_and_note_editor_saves_on_escape() -> None:
    async with running() as (app, pilot, source):
        profile = app.query_one(FanProfile)
        assert profile.card is not None
        await press(app, pilot, "N", *"likes [b]cats[/b]", "escape")
        assert source.notes[app.chats_screen.fan_id or ""] == "likes [b]cats[/b]"
        assert "likes [b]cats[/b]" in str(app.query_one("#note-text", Static).render())
    history = [(FIXED_NOW.replace(month=1), 10_000), (FIXED_NOW.replace(month=6), 5_000)]
    buckets = spend_buckets(history, FIXED_NOW, bars=4)
    assert sum(buckets) == 15.0 and buckets[0] == 10.0


async def test_app_keys_stay_on_the_chats_screen() -> None:
    async with running() as (app, pilot, source):
        await press(app, pilot, "a")
        assert isinstance(app.screen, AutomationsScreen)
        await press(app, pilot, "l", "p", "m", "n")
        assert not [c for c in source.calls if c[0] in {"like", "pin", "mute"}]
        assert isinstance(app.screen, AutomationsScreen)
        await press(app, pilot, "escape", "f1")
        assert isinstance(app.screen, HelpScreen)
        body = str(app.screen.query_one("#help-body", Static).render())
        assert "Automated messages" in body and "ctrl+f" in body and "Team note" not in body


async def test_automation_form_checks_each_trigger_before_sending() -> None:
    assert parse_duration("90") == 90 and parse_duration("5m") == 300
    assert parse_duration("2h") == 7200 and parse_duration("") == 0
    assert field_of("a subscription streak only applies to renewal triggers") == "streak"
    assert field_of("keywords only apply to the new-tip trigger") == "keywords"
    assert field_of("subscriptionTierId is not a tier of this account") == "tier"
    assert field_of("tipAmount must be between 1 and 500") == "tip"
    async with running() as (app, pilot, source):
        await press(app, pilot, "a", "c")
        form = app.screen
        assert isinstance(form, AutomationForm)
        await press(app, pilot, "ctrl+s")
        assert "empty" in str(form.query_one("#error-content", Static).render())
        form.query_one("#field-trigger", Select).value = TriggerType.NEW_TIP.value
        await press(app, pilot)
        assert form.query_one("#row-tip").display and not form.query_one("#row-streak").display
        form.query_one("#field-tip", Input).value = "900"
        form.query_one("#field-keywords", Input).value = "thanks, love"
        await press(app, pilot, *"Thank you!", "ctrl+s")
        assert "$500" in str(form.query_one("#error-tip", Static).render())
        assert not [c for c in source.calls if c[0] == "create_automation"]
        form.query_one("#field-tip", Input).value = "15"
        await press(app, pilot, "ctrl+s")
        created = [a[1] for k, a in source.calls if k == "create_automation"]
        assert len(created) == 1
        rule = created[0]
        assert isinstance(rule, AutomatedMessage)
        assert rule.tip_amount_dollars == 15 and rule.keywords == ["thanks", "love"]
        assert isinstance(app.screen, AutomationsScreen)


async def test_replace_is_create_then_delete_after_confirming_a_delete() -> None:
    async with running() as (app, pilot, source):
        account = app.chats_screen.account_id or ""
        old = source.rules[account][0]
        await press(app, pilot, "a", "e")
        form = app.screen
        assert isinstance(form, AutomationForm)
        assert "deletes the old one" in str(form.query_one("#form-replace-note").render())
        await press(app, pilot, "ctrl+s")
        kinds = [k for k, _ in source.calls if k.endswith("automation")]
        assert kinds == ["create_automation", "delete_automation"]
        assert old.id not in {r.id for r in source.rules[account]}
        await press(app, pilot, "d", "n")
        assert len(source.rules[account]) == 2
        await press(app, pilot, "d", "y")
        assert len(source.rules[account]) == 1


async def test_search_finds_history_and_opens_the_message_with_hostile_text_plain() -> None:
    source = MemorySource()
    account = source.accounts()[0].account_id
    chat = source._chats[account][5]
    hostile = HOSTILE_STRINGS[2]
    target = source.receive(account, chat.chat_id, f"zebra {hostile}")
    async with running(source) as (app, pilot, _source):
        await press(app, pilot, "slash", *"zebra")
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        await press(app, pilot)
        assert [r.message_id for r in screen.results] == [target]
        for option in screen.query_one("#search-results").options:  # type: ignore[attr-defined]
            prompt = option.prompt
            assert isinstance(prompt, Content)
            assert all("@click" not in str(span.style) for span in prompt.spans)
        await press(app, pilot, "enter")
        assert app.chats_screen.chat_id == chat.chat_id
        selected = app.query_one(Thread).selected
        assert selected is not None and selected.message_id == target
