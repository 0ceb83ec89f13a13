"""Where things live: config, data (the SQLite caches) and themes.

``FANSLY_CONSOLE_HOME`` puts all of them under one folder (tests, several installations);
otherwise the platform's user dirs are used. ``FANSLY_CONSOLE_CONFIG`` points at another
config file.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "fansly-console"


def _home() -> Path | None:
    home = os.environ.get("FANSLY_CONSOLE_HOME")
    return Path(home).expanduser() if home else None


def config_dir() -> Path:
    home = _home()
    if home is not None:
        return home
    from platformdirs import user_config_path

    return user_config_path(APP_NAME)


def config_file() -> Path:
    explicit = os.environ.get("FANSLY_CONSOLE_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    return config_dir() / "config.toml"


def data_dir() -> Path:
    home = _home()
    if home is not None:
        return home / "data"
    from platformdirs import user_data_path

    return user_data_path(APP_NAME)


def cache_dir() -> Path:
    """What can be rebuilt at any time (the parsed stylesheet)."""
    home = _home()
    if home is not None:
        return home / "cache"
    from platformdirs import user_cache_path

    return user_cache_path(APP_NAME)


def themes_dir() -> Path:
    return config_dir() / "themes"


def write_private(path: Path, text: str) -> None:
    """Write a file that may hold a secret: created with mode 0600, never wider."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)
