"""Textual's parsed stylesheet rules, kept on disk from one start to the next.

Parsing the console's stylesheet and the default CSS of the widgets on its first screen takes
~20 ms before the first frame (Textual's tokenizer is pure Python), the same work at every
start; rebuilding the rules it produced last time from JSON takes a few ms. The rules of each
CSS source are stored under a digest of everything that shapes them: the text, where it was
read from, its scope and priority, the CSS variables (the theme) and Textual's version. A
source whose digest is not stored is parsed as usual and stored for the next start; an
unreadable cache is ignored. Only the start-up stylesheet uses it: a theme switch re-parses in
a fresh Textual stylesheet, as before.

The file is JSON, read by a decoder that knows a fixed list of Textual's value types (rule
sets, selectors, colours, scalars, spacings, layouts by name) and builds nothing else, so a
file planted in the cache dir can at worst be ignored: it cannot run code, as a pickle would.
A source whose rules hold a value of another type is simply not stored (parsed each start).
It lives in the user's cache dir (``FANSLY_CONSOLE_HOME/cache`` when set), 0600 in a 0700
folder, written atomically.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import Any

from textual.color import Color
from textual.css.model import CombinatorType, RuleSet, Selector, SelectorSet, SelectorType
from textual.css.scalar import Scalar, ScalarOffset, Unit
from textual.css.styles import Styles
from textual.css.stylesheet import Stylesheet
from textual.css.transition import Transition
from textual.geometry import Spacing
from textual.layout import Layout
from textual.layouts.factory import LAYOUT_MAP, get_layout

from console import paths

CACHE_FILE = "stylesheet-rules.json"
#: The pickle earlier versions kept: removed, never read.
LEGACY_FILE = "stylesheet-rules.pickle"
#: Bumped when the encoding changes; a file of another format is ignored.
FORMAT = 1


def _textual_stamp() -> str:
    """Which Textual parsed the rules: its files' place and age (``textual.__version__``
    reads the package metadata, ~15 ms of imports before the first frame)."""
    import textual.css.parse as parse

    path = Path(parse.__file__)
    with contextlib.suppress(OSError):
        return f"{path} {path.stat().st_mtime_ns}"
    return str(path)


class Unencodable(Exception):
    """A value of a type the cache does not know (or a rule set with errors)."""


class Undecodable(Exception):
    """Stored data that is not what ``encode`` writes."""


# -- encoding. The rule sets, selectors and styles have a fixed shape: arrays of their fields
# (names and flags as they are, enums as their numbers). A style's values are JSON scalars,
# or objects with one key saying what they are: {"t": [...]} a tuple, {"c": [...]} a Color...
# The decoder checks every field's type as it builds, and builds nothing else.

_NUMBER = (int, float)


def _encode_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    kind = type(value)
    if kind is Color:
        return {"c": list(value)}
    if kind is Scalar:
        return {"sc": [value.value, value.unit.value, value.percent_unit.value]}
    if kind is Spacing:
        return {"sp": list(value)}
    if kind is ScalarOffset:
        return {"so": [_encode_value(value.x), _encode_value(value.y)]}
    if kind is Transition:
        return {"tr": list(value)}
    if kind is tuple:
        return {"t": [_encode_value(item) for item in value]}
    if kind is list:
        return {"l": [_encode_value(item) for item in value]}
    if kind is dict and all(isinstance(key, str) for key in value):
        return {"d": {key: _encode_value(item) for key, item in value.items()}}
    if isinstance(value, Layout) and LAYOUT_MAP.get(value.name) is kind:
        if vars(value) != vars(get_layout(value.name)):  # a layout with state of its own
            raise Unencodable("a layout with state")
        return {"layout": value.name}
    raise Unencodable(kind.__qualname__)


def _encode_selector(selector: Selector) -> list[Any]:
    return [
        selector.name,
        selector.combinator.value,
        selector.type.value,
        sorted(selector.pseudo_classes),
        list(selector.specificity),
        selector.advance,
    ]


def _encode_rule(rule: RuleSet) -> list[Any]:
    styles = rule.styles
    if type(rule) is not RuleSet or type(styles) is not Styles:
        raise Unencodable(type(rule).__qualname__)
    if rule.errors or styles.node is not None:
        raise Unencodable("a rule set with errors")
    return [
        [
            [[_encode_selector(s) for s in sset.selectors], list(sset.specificity)]
            for sset in rule.selector_set
        ],
        [
            {name: _encode_value(value) for name, value in styles._rules.items()},
            sorted(styles.important),
            styles._updates,
        ],
        rule.is_default_rules,
        rule.tie_breaker,
        sorted(rule.selector_names),
        sorted(rule.pseudo_classes),
    ]


def encode(rules: list[RuleSet]) -> list[Any]:
    """A source's parsed rules as JSON-ready data; ``Unencodable`` if they hold a value of a
    type the decoder does not build."""
    return [_encode_rule(rule) for rule in rules]


def decode(data: Any) -> list[RuleSet]:
    """The rules ``encode`` wrote, rebuilt; ``Undecodable`` for anything else. Builds only
    the types named in this module, from checked fields: never calls what the data names."""
    return [_decode_rule(item) for item in _list(data)]


def _decode_rule(data: Any) -> RuleSet:
    selector_sets, styles, default, tie, names, pseudo = _fields(data, 6)
    rules, important, updates = _fields(styles, 3)
    if not isinstance(rules, dict):  # from JSON: its keys are strings
        raise Undecodable("styles")
    return RuleSet(
        selector_set=[_decode_selector_set(item) for item in _list(selector_sets)],
        styles=Styles(
            None,
            # A RulesMap by construction (saved from one); mypy cannot follow the decoded keys.
            {name: _decode_value(value) for name, value in rules.items()},  # type: ignore[arg-type]
            _typed(updates, int),
            _names(important),
        ),
        is_default_rules=_typed(default, bool),
        tie_breaker=_typed(tie, int),
        selector_names=_names(names),
        pseudo_classes=_names(pseudo),
    )


def _decode_selector_set(data: Any) -> SelectorSet:
    selectors, specificity = _fields(data, 2)
    return SelectorSet([_decode_selector(item) for item in _list(selectors)], _triple(specificity))


def _decode_selector(data: Any) -> Selector:
    name, combinator, kind, pseudo, specificity, advance = _fields(data, 6)
    try:
        return Selector(
            _typed(name, str),
            CombinatorType(combinator),  # a lookup among the enum's members
            SelectorType(kind),
            _names(pseudo),
            _triple(specificity),
            _typed(advance, int),
        )
    except ValueError:
        raise Undecodable("selector") from None


def _decode_value(data: Any) -> Any:
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if not isinstance(data, dict) or len(data) != 1:
        raise Undecodable("a style's value")
    ((tag, value),) = data.items()
    if tag == "c":
        r, g, b, a, ansi, auto = _fields(value, 6)
        if ansi is not None:
            _typed(ansi, int)
        return Color(
            _typed(r, int), _typed(g, int), _typed(b, int), _number(a), ansi, _typed(auto, bool)
        )
    if tag == "sc":
        number, unit, percent_unit = _fields(value, 3)
        try:
            return Scalar(_number(number), Unit(unit), Unit(percent_unit))
        except ValueError:
            raise Undecodable("unit") from None
    if tag == "sp":
        return Spacing(*(_typed(item, int) for item in _fields(value, 4)))
    if tag == "so":
        x, y = (_decode_value(item) for item in _fields(value, 2))
        return ScalarOffset(_typed(x, Scalar), _typed(y, Scalar))
    if tag == "tr":
        duration, easing, delay = _fields(value, 3)
        return Transition(_number(duration), _typed(easing, str), _number(delay))
    if tag == "t":
        return tuple(_decode_value(item) for item in _list(value))
    if tag == "l":
        return [_decode_value(item) for item in _list(value)]
    if tag == "d" and isinstance(value, dict):
        return {key: _decode_value(item) for key, item in value.items()}
    if tag == "layout" and value in LAYOUT_MAP:
        return get_layout(value)
    raise Undecodable(f"a value tagged {tag[:20]!r}")


def _list(value: Any) -> list[Any]:
    if type(value) is not list:
        raise Undecodable("not a list")
    return value


def _fields(value: Any, count: int) -> list[Any]:
    if type(value) is not list or len(value) != count:
        raise Undecodable("wrong fields")
    return value


def _typed(value: Any, kind: type) -> Any:
    # bool is an int to isinstance, not to JSON: kept apart.
    if not isinstance(value, kind) or (type(value) is bool and kind is not bool):
        raise Undecodable(f"not a {kind.__name__}")
    return value


def _number(value: Any) -> float:
    if type(value) not in _NUMBER:
        raise Undecodable("not a number")
    return value


def _names(value: Any) -> set[str]:
    names = set(_list(value))
    if not all(type(name) is str for name in names):
        raise Undecodable("not a list of names")
    return names


def _triple(value: Any) -> tuple[int, int, int]:
    a, b, c = _fields(value, 3)
    return (_typed(a, int), _typed(b, int), _typed(c, int))


class CachedStylesheet(Stylesheet):
    """A Textual stylesheet whose parsed rules are read from ``path`` when it has them."""

    def __init__(self, *, variables: dict[str, str] | None = None, path: Path) -> None:
        super().__init__(variables=variables)
        self.path = path
        self._stored: dict[str, Any] | None = None  # read at the first parse
        self._used: set[str] = set()
        self._fresh: dict[str, Any] = {}
        self._variables_digest: str | None = None
        #: Sources parsed / read from the cache (for tests and the bench).
        self.parsed = 0
        self.cached = 0

    def set_variables(self, variables: dict[str, str]) -> None:
        super().set_variables(variables)
        self._variables_digest = None

    def _digest(self, key: tuple[Any, ...]) -> str:
        if self._variables_digest is None:
            variables = repr(sorted(self._variables.items()))
            self._variables_digest = hashlib.sha256(f"{TEXTUAL}\n{variables}".encode()).hexdigest()
        return hashlib.sha256(f"{self._variables_digest}\n{key!r}".encode()).hexdigest()

    def _load(self) -> dict[str, Any]:
        if self._stored is None:
            self._stored = {}
            with contextlib.suppress(OSError):
                paths.private_dir(self.path.parent)  # the app's cache dir: 0700, tightened
            with contextlib.suppress(Exception):  # missing, partial, foreign: parse instead
                stored = json.loads(self.path.read_bytes())
                if stored.get("format") == FORMAT and isinstance(stored.get("rules"), dict):
                    self._stored = stored["rules"]
        return self._stored

    def _parse_rules(
        self,
        css: str,
        read_from: Any,
        is_default_rules: bool = False,
        tie_breaker: int = 0,
        scope: str = "",
    ) -> list[RuleSet]:
        key = (css, read_from, is_default_rules, tie_breaker, scope)
        rules: list[RuleSet] | None = self._parse_cache.get(key)
        if rules is not None:
            return rules
        digest = self._digest(key)
        stored = self._load().get(digest)
        if stored is not None:
            with contextlib.suppress(Undecodable, RecursionError):
                rules = decode(stored)
            if rules is not None:
                self._parse_cache[key] = rules
                self._used.add(digest)
                self.cached += 1
                return rules
        rules = super()._parse_rules(css, read_from, is_default_rules, tie_breaker, scope)
        self.parsed += 1
        with contextlib.suppress(Unencodable):  # a type we do not store: parsed again next time
            self._fresh[digest] = encode(rules)
        return rules

    def save(self) -> None:
        """Store the rules parsed since the last save (with those read this time; entries no
        start has used are dropped). Nothing to do when every source came from the cache."""
        if not self._fresh:
            return
        stored = self._load()
        keep = {digest: stored[digest] for digest in self._used if digest in stored}
        keep.update(self._fresh)
        data = json.dumps({"format": FORMAT, "rules": keep}, separators=(",", ":"))
        with contextlib.suppress(OSError):
            paths.write_private(self.path, data)
            self._stored = keep
            self._used.update(self._fresh)
            self._fresh = {}
        with contextlib.suppress(OSError):
            self.path.with_name(LEGACY_FILE).unlink(missing_ok=True)


TEXTUAL = _textual_stamp()
