"""The start-up stylesheet's parsed rules, kept between starts (console/tui/css_cache.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from console.tui.app import make_app
from console.tui.css_cache import CachedStylesheet
from console.tui.footer import ConsoleFooter
from console.tui.memory import FIXED_NOW, MemorySource


async def _start(cache: Path, theme: str = "fansly-dark") -> tuple[CachedStylesheet, list[str]]:
    app = make_app(MemorySource(), clock=lambda: FIXED_NOW, css_cache=cache, theme=theme)
    async with app.run_test(size=(120, 36)) as pilot:
        # Until the footer is mounted (after the first paint): a start that ended before it
        # would not have parsed its CSS, and the next one would (a flake under load).
        async with asyncio.timeout(15):
            while not app._first_painted or not app.query(ConsoleFooter):
                await pilot.pause(0.01)
        await app.settled()
        sheet = app.stylesheet
        assert isinstance(sheet, CachedStylesheet)
        # Sorted: widgets' default CSS is added in the order they first mount, which varies
        # from start to start (the profile's chart may come before or after the footer).
        rules = sorted(repr((rule.selector_set, rule.styles.get_rules())) for rule in sheet.rules)
    return sheet, rules


async def test_second_start_reads_the_rules_the_first_one_parsed(tmp_path: Path) -> None:
    cache = tmp_path / "cache" / "rules.pickle"
    first, first_rules = await _start(cache)
    assert first.parsed > 0 and first.cached == 0
    assert cache.exists()
    second, second_rules = await _start(cache)
    assert second.parsed == 0 and second.cached == first.parsed
    assert second_rules == first_rules


async def test_another_theme_is_parsed_not_read(tmp_path: Path) -> None:
    cache = tmp_path / "rules.pickle"
    _, dark = await _start(cache, "fansly-dark")
    light, light_rules = await _start(cache, "fansly-light")
    assert light.parsed > 0  # the variables are part of the key
    assert light_rules != dark


async def test_an_unreadable_cache_is_parsed_over_and_replaced(tmp_path: Path) -> None:
    cache = tmp_path / "rules.pickle"
    cache.write_bytes(b"not a pickle")
    broken, rules = await _start(cache)
    assert broken.parsed > 0 and broken.cached == 0
    again, again_rules = await _start(cache)
    assert again.parsed == 0 and again_rules == rules
