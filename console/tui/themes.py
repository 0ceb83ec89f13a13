"""The console's themes: Textual ``Theme`` objects carrying the app's own colour variables.

Widgets never name a colour; ``.tcss`` uses ``$unread-badge``, ``$pinned``, ``$vip`` and
``$waiting-too-long`` (and a few more), which every theme defines. Users add themes as TOML
files in ``fansly-console locate themes`` (see ``themes/example.toml`` in the repository).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from textual.theme import Theme

DEFAULT_THEME = "fansly-dark"

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
}

FANSLY_DARK = Theme(
    name="fansly-dark",
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

FANSLY_LIGHT = Theme(
    name="fansly-light",
    primary="#0b78c4",
    secondary="#5a43d6",
    accent="#d6246e",
    warning="#b7791f",
    error="#c53030",
    success="#2f855a",
    foreground="#1a1c22",
    background="#f7f7fa",
    surface="#ffffff",
    panel="#e9ebf2",
    dark=False,
    variables={
        **APP_VARIABLES,
        "unread-badge": "#d6246e",
        "pinned": "#b7791f",
        "vip": "#6b46c1",
        "waiting-too-long": "#c53030",
        "own-message": "#dcecff",
        "fan-message": "#eef0f5",
        "message-failed": "#c53030",
        "message-pending": "#6b7280",
        "new-marker": "#d6246e",
    },
)

FANSLY_HIGH_CONTRAST = Theme(
    name="fansly-high-contrast",
    primary="#00ffff",
    secondary="#ffff00",
    accent="#ff00ff",
    warning="#ffff00",
    error="#ff0000",
    success="#00ff00",
    foreground="#ffffff",
    background="#000000",
    surface="#000000",
    panel="#1a1a1a",
    dark=True,
    variables={
        **APP_VARIABLES,
        "unread-badge": "#ffff00",
        "unread-badge-text": "#000000",
        "pinned": "#00ffff",
        "vip": "#ff00ff",
        "waiting-too-long": "#ff0000",
        "own-message": "#000080",
        "fan-message": "#000000",
        "message-failed": "#ff0000",
        "message-pending": "#c0c0c0",
        "new-marker": "#ffff00",
    },
)

BUILTIN_THEMES: tuple[Theme, ...] = (FANSLY_DARK, FANSLY_LIGHT, FANSLY_HIGH_CONTRAST)

_THEME_FIELDS = (
    "primary secondary warning error success accent foreground background surface panel boost"
).split()


def theme_from_toml(data: dict[str, Any], fallback_name: str) -> Theme:
    """A theme from a TOML table: Textual's colour fields, ``dark``, and ``[variables]``."""
    colours = {key: str(data[key]) for key in _THEME_FIELDS if key in data}
    if "primary" not in colours:
        raise ValueError("a theme needs at least a `primary` colour")
    variables = {**APP_VARIABLES, **{k: str(v) for k, v in data.get("variables", {}).items()}}
    return Theme(
        name=str(data.get("name", fallback_name)),
        dark=bool(data.get("dark", True)),
        variables=variables,
        **colours,
    )


def load_user_themes(folder: Path) -> tuple[list[Theme], list[str]]:
    """Themes from ``*.toml`` in ``folder``, and one problem line per file that failed."""
    themes: list[Theme] = []
    problems: list[str] = []
    if not folder.is_dir():
        return themes, problems
    for path in sorted(folder.glob("*.toml")):
        try:
            themes.append(theme_from_toml(tomllib.loads(path.read_text("utf-8")), path.stem))
        except (OSError, ValueError, tomllib.TOMLDecodeError) as exc:
            problems.append(f"{path.name}: {exc}")
    return themes, problems
