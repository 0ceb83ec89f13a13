"""The console's themes: Textual ``Theme`` objects carrying the app's own colour variables.

The built-in themes are TOML files in this package's ``builtin_themes/`` folder (``fansly-dark``,
``fansly-light``, ``fansly-high-contrast`` and the ``midnight`` example), loaded at start through
``importlib.resources``, so an installed wheel carries them as the checkout does; users
add their own in ``fansly-console locate themes``. Widgets never name a colour: ``.tcss`` uses
``$unread-badge``, ``$pinned``, ``$vip``, ``$waiting-too-long`` (and a few more), which every
theme defines (a file that leaves one out keeps the fansly-dark value).

``fansly-dark`` is also defined here, so a missing or broken file can never leave the console
without its default.
"""

from __future__ import annotations

import tomllib
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

DEFAULT_THEME = "fansly-dark"

#: The folder of the built-in theme files: package data, inside the wheel too (issue 11: it
#: was looked for beside ``console/``, where a non-editable install has nothing).
BUILTIN_DIR: Traversable = files("console.tui") / "builtin_themes"

#: The app's variables with their dark defaults; a theme may override any of them.
APP_VARIABLES: dict[str, str] = {
    "unread-badge": "#ff4f8b",
    "unread-badge-text": "#ffffff",
    "pinned": "#ffc857",
    "vip": "#c792ea",
    "waiting-too-long": "#ff6b6b",
    "own-message": "#2b3a55",
    "fan-message": "#262a33",
    "message-failed": "#ff6b6b",
    "message-pending": "#8a8f98",
    "new-marker": "#ff4f8b",
    "offline-banner": "#5c2b2b",
    "offline-banner-text": "#ffe0e0",
    "spend-chart": "#4ec9a0",
    "search-highlight": "#ffc857",
}

#: The safety net: used when ``builtin_themes/fansly-dark.toml`` is missing or broken.
FANSLY_DARK = Theme(
    name=DEFAULT_THEME,
    primary="#1fa1f2",
    secondary="#7b61ff",
    accent="#ff4f8b",
    warning="#ffc857",
    error="#ff6b6b",
    success="#4ec9a0",
    foreground="#e6e6eb",
    background="#15171c",
    surface="#1c1f26",
    panel="#232733",
    dark=True,
    variables=dict(APP_VARIABLES),
)

_THEME_FIELDS = (
    "primary secondary warning error success accent foreground background surface panel boost"
).split()


def _colour(where: str, value: Any) -> str:
    text = str(value)
    try:
        Color.parse(text)
    except ColorParseError:
        raise ValueError(f"{where} = {text[:40]!r} is not a colour") from None
    return text


def theme_from_toml(data: dict[str, Any], fallback_name: str) -> Theme:
    """A theme from a TOML table: Textual's colour fields, ``dark``, and ``[variables]``.

    Every colour is checked here, so a typo is reported with its key instead of breaking the
    stylesheet later."""
    colours = {key: _colour(key, data[key]) for key in _THEME_FIELDS if key in data}
    if "primary" not in colours:
        raise ValueError("a theme needs at least a `primary` colour")
    extra = data.get("variables", {})
    if not isinstance(extra, dict):
        raise ValueError("[variables] must be a table")
    variables = dict(APP_VARIABLES)
    for key, value in extra.items():
        variables[str(key)] = _colour(f"variables.{key}", value)
    name = str(data.get("name", fallback_name)).strip()
    if not name:
        raise ValueError("the theme's name is empty")
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ValueError("`dark` must be true or false")
    return Theme(
        name=name,
        primary=colours["primary"],
        secondary=colours.get("secondary"),
        warning=colours.get("warning"),
        error=colours.get("error"),
        success=colours.get("success"),
        accent=colours.get("accent"),
        foreground=colours.get("foreground"),
        background=colours.get("background"),
        surface=colours.get("surface"),
        panel=colours.get("panel"),
        boost=colours.get("boost"),
        dark=dark,
        variables=variables,
    )


def load_user_themes(folder: Path | Traversable) -> tuple[list[Theme], list[str]]:
    """Themes from ``*.toml`` in ``folder``, and one problem line per file that failed."""
    themes: list[Theme] = []
    problems: list[str] = []
    if not folder.is_dir():
        return themes, problems
    found = sorted((p for p in folder.iterdir() if p.name.endswith(".toml")), key=lambda p: p.name)
    for path in found:
        try:
            stem = path.name.removesuffix(".toml")
            themes.append(theme_from_toml(tomllib.loads(path.read_text("utf-8")), stem))
        except (OSError, UnicodeDecodeError, ValueError, tomllib.TOMLDecodeError) as exc:
            problems.append(f"{path.name}: {exc}")
    return themes, problems


def builtin_themes(folder: Path | Traversable = BUILTIN_DIR) -> tuple[list[Theme], list[str]]:
    """The package's theme files, with ``fansly-dark`` always present."""
    themes, problems = load_user_themes(folder)
    if not any(theme.name == DEFAULT_THEME for theme in themes):
        themes.insert(0, FANSLY_DARK)
    return themes, problems


def theme_notice(problems: list[str], wanted: str, used: str) -> str | None:
    """One notice for every theme problem (broken files, an unknown name), or ``None``."""
    lines = [f"Theme file skipped: {problem}" for problem in problems]
    if wanted != used:
        lines.append(f"Theme {wanted!r} is not available; using {used}.")
    return "\n".join(lines) if lines else None


#: Kept for callers that only need the names of the built-ins.
BUILTIN_THEMES: tuple[Theme, ...] = tuple(builtin_themes()[0])
