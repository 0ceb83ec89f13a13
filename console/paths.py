"""Where things live: config, data (the SQLite caches) and themes.

``FANSLY_CONSOLE_HOME`` puts all of them under one folder (tests, several installations);
otherwise the platform's user dirs are used. ``FANSLY_CONSOLE_CONFIG`` points at another
config file.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import IO, Any

APP_NAME = "fansly-console"

#: What another local user may do with the app's folders and files: nothing. The cache holds
#: every fan conversation; the data dir also holds the hub token.
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600

# A profile name becomes a file name (``<data dir>/<profile>.sqlite3``): letters, digits, "_",
# "-" and "." (not first), so that no name can leave the data dir (``../x``) or hide a file.
_PROFILE_NAME = re.compile(r"\w[\w.-]{0,63}")


def check_profile_name(name: str) -> str:
    """``name`` if it can be a profile's name, else ``ValueError`` saying what is allowed."""
    if not _PROFILE_NAME.fullmatch(name):
        raise ValueError(
            f"{name!r} is not a valid profile name: use letters, digits, '_', '-' and '.' "
            "(not first), at most 64 characters"
        )
    return name


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


def _own_dirs() -> set[Path]:
    return {data_dir().absolute(), cache_dir().absolute()}


def tighten(path: Path) -> None:
    """Take every permission of group and others off an existing file or folder. The owner's
    bits stay as they are: a cache the user made read-only stays read-only. A path that is
    missing, or not ours to change (another owner), is left alone."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            os.chmod(path, mode & 0o700)
    except (FileNotFoundError, PermissionError):
        pass


def private_dir(directory: Path) -> Path:
    """``directory``, created (with its parents) if missing. A folder created here is 0700,
    whatever the umask; the app's own folders (data, cache) are tightened when they exist."""
    if not directory.is_dir():
        directory.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
        os.chmod(directory, PRIVATE_DIR)
    elif directory.absolute() in _own_dirs():
        tighten(directory)
    return directory


def open_private(path: Path, *, binary: bool = False) -> IO[Any]:
    """A new file (replacing any) for writing, mode 0600 whatever the umask: it is created
    that way, never wider for an instant, and set exactly (an umask of 0o177 would leave it
    unreadable to its owner). Whatever was at ``path`` (a file, a link planted in a shared
    folder) is removed first and never written through."""
    path.unlink(missing_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
    except BaseException:
        os.close(fd)
        raise
    if binary:
        return os.fdopen(fd, "wb")
    return os.fdopen(fd, "w", encoding="utf-8")


def create_private(path: Path) -> None:
    """Create ``path`` empty, mode 0600 whatever the umask, unless something is there already
    (another process may have just created it: it is never replaced)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)


def write_private(path: Path, data: str | bytes) -> None:
    """Write a whole file mode 0600 (its folder created 0700), atomically: a reader sees the
    old content or the new one, never a part."""
    private_dir(path.parent)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open_private(partial, binary=isinstance(data, bytes)) as handle:
            handle.write(data)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
