"""The start-up stylesheet's parsed rules, kept between starts (console/tui/css_cache.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from support.fakes_tui import FIXED_NOW, MemorySource
from textual.widgets._footer import FooterKey

from console.tui.app import make_app
from console.tui.css_cache import CACHE_FILE, CachedStylesheet


async def _start(cache: Path, theme: str = "fansly-dark") -> tuple[CachedStylesheet, list[str]]:
    app = make_app(MemorySource(), clock=lambda: FIXED_NOW, css_cache=cache, theme=theme)
    async with app.run_test(size=(120, 36)) as pilot:
        # Until the footer's keys are mounted (after the first paint): a start that ended
        # before them would not have parsed their CSS, and the next one would (a flake under
        # load, and in a fresh clone's full run).
        async with asyncio.timeout(15):
            while not app._first_painted or not app.query(FooterKey):
                await pilot.pause(0.01)
        await app.settled()
        sheet = app.stylesheet
        assert isinstance(sheet, CachedStylesheet)
        # Widgets mounted after the first paint (footer keys, the thread's held messages) bring
        # their default CSS a frame or two later: wait until no new source has come for a few
        # frames, so each start records (or reads) the same sources (a flake under load).
        seen, quiet = -1, 0
        async with asyncio.timeout(15):
            while quiet < 3:
                now = sheet.parsed + sheet.cached
                quiet = quiet + 1 if now == seen else 0
                seen = now
                await pilot.pause(0.02)
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


class _Planted:
    """What an attacker would plant: unpickling it makes a folder (instead of worse)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return (os.mkdir, (str(self.marker),))


async def test_a_planted_pickle_runs_no_code(tmp_path: Path) -> None:
    # A pickle in the cache dir, under the file's name and under the name older versions
    # used: the console starts as usual (parsing its stylesheet), and nothing in it runs.
    import pickle

    from console.tui.css_cache import LEGACY_FILE

    marker = tmp_path / "planted-code-ran"
    cache = tmp_path / "cache" / CACHE_FILE
    cache.parent.mkdir()
    payload = pickle.dumps({"any": _Planted(marker)}, protocol=pickle.HIGHEST_PROTOCOL)
    cache.write_bytes(payload)
    (cache.parent / LEGACY_FILE).write_bytes(payload)
    sheet, rules = await _start(cache)
    assert not marker.exists()
    assert sheet.parsed > 0 and sheet.cached == 0 and rules
    assert not (cache.parent / LEGACY_FILE).exists()  # the old pickle is removed, never read
    again, again_rules = await _start(cache)
    assert again.cached > 0 and again_rules == rules and not marker.exists()


async def test_the_cache_is_private(tmp_path: Path) -> None:
    cache = tmp_path / "cache" / CACHE_FILE
    await _start(cache)
    assert cache.stat().st_mode & 0o777 == 0o600
    assert cache.parent.stat().st_mode & 0o777 == 0o700


def test_stored_rules_are_rebuilt_exactly_and_nothing_else_is_built() -> None:
    # Every widget's default CSS the console uses, encoded and decoded: the same rules, to the
    # last field. Data that is not what encode writes is refused, never called.
    import json

    import pytest
    from textual.css.stylesheet import Stylesheet

    import console.tui.app
    from console.tui.css_cache import Undecodable, decode, encode

    sheet = Stylesheet(variables=make_app(MemorySource()).get_css_variables())
    app_css = (Path(console.tui.app.__file__).parent / "app.tcss").read_text()
    sources = [app_css, *(w.DEFAULT_CSS for w in _widget_classes())]
    for css in sources:
        rules = Stylesheet._parse_rules(sheet, css, ("test", "css"))
        back = decode(json.loads(json.dumps(encode(rules))))
        assert _state(back) == _state(rules)
    for bad in (
        {"py/object": "os.system"},
        [[[], [{"width": {"py/reduce": ["os.system", ["true"]]}}, [], 0], False, 0, [], []]],
        [[[], [{"width": {"c": ["255", 0, 0, 1.0, None, False]}}, [], 0], False, 0, [], []]],
        [[[[[["App", 99, 2, [], [0, 0, 1], 1]], [0, 0, 1]]], [{}, [], 0], False, 0, [], []]],
        [[[], [{"layout": {"layout": "__import__"}}, [], 0], False, 0, [], []]],
    ):
        with pytest.raises(Undecodable):
            decode(bad)


def _widget_classes() -> list[type]:
    from textual.widget import Widget

    import console.tui.app  # noqa: F401  (imports the console's widgets)

    found: list[type] = []
    todo: list[type] = [Widget]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith(("console.", "textual.widgets")) and cls.DEFAULT_CSS:
            found.append(cls)
    return found


def _state(value: object) -> object:
    """Every field of rules, selectors and styles, for comparing two sets of rules."""
    from textual.css.model import RuleSet, Selector, SelectorSet
    from textual.css.styles import Styles
    from textual.layout import Layout

    if isinstance(value, list | tuple):
        return [type(value).__name__, *(_state(item) for item in value)]
    if isinstance(value, dict):
        return {key: _state(item) for key, item in value.items()}
    if isinstance(value, RuleSet | SelectorSet | Selector | Styles):
        fields = {k: v for k, v in vars(value).items() if k not in ("get_rule", "has_rule")}
        check = fields.pop("_check", None)
        if check is not None:
            fields["_check"] = (check.func, check.args)
        return (type(value).__name__, _state(fields))
    if isinstance(value, Layout):
        return ("layout", value.name, vars(value))
    return (type(value).__name__, value)


def test_a_source_brought_with_another_tie_breaker_is_read_not_parsed(tmp_path: Path) -> None:
    # A widget's default CSS gets the tie breaker of the first class that brings it (-2 for
    # Static's CSS brought by a subclass of a subclass, 0 by a Static), which depends on the
    # order widgets mount in: a start that mounted them in another order parsed them all
    # again. Read from the cache, the rules are exactly what Textual parses for that tie breaker.
    from textual.css.stylesheet import Stylesheet

    variables = make_app(MemorySource()).get_css_variables()
    sources = [
        (w.DEFAULT_CSS, (w.__module__, f"{w.__name__}.DEFAULT_CSS"), w._css_type_name)
        for w in _widget_classes()
    ]
    cache = tmp_path / CACHE_FILE
    first = CachedStylesheet(variables=variables, path=cache)
    for css, where, scope in sources:
        first._parse_rules(css, where, True, 0, scope)
    first.save()
    assert first.parsed == len(sources)
    plain = Stylesheet(variables=variables)
    for tie in (0, -1, -3):
        again = CachedStylesheet(variables=variables, path=cache)
        for css, where, scope in sources:
            assert _state(again._parse_rules(css, where, True, tie, scope)) == _state(
                Stylesheet._parse_rules(plain, css, where, True, tie, scope)
            )
        assert again.parsed == 0 and again.cached == len(sources)
