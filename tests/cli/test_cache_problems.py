"""A damaged, foreign or read-only cache, a bad port, a bad profile name: one clear line on
stderr and a non-zero exit from every verb, never a traceback; a read-only cache can still be
searched and exported. Real files, the real command line in a child process."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.store import fill_for_export

from console.store import Store, store_path
from console.store.problems import CacheDamaged, CacheReadOnly

# Every verb that opens the cache, with what it needs to get that far.
VERBS = {
    "search": ["search", "line"],
    "export": ["export"],
    "listen": ["listen", "--port", "0", "--secret", "s"],
    "offline": ["--offline"],
}


def _cli(*argv: str, unprivileged: bool = False) -> subprocess.CompletedProcess[str]:
    """The command line in a child process. ``unprivileged``: without root's power to write
    any file (as root, the child drops it, so a 0400 file or a 0500 folder is read-only to it
    as it would be to a user)."""
    prefix: list[str] = []
    if unprivileged and os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: cannot make a file read-only to us")
        prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]
    return subprocess.run(
        [*prefix, sys.executable, "-m", "console", *argv],
        env={**os.environ, "CI": "true", "TERM": "dumb"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _one_clear_line(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def cache() -> Iterator[Path]:
    path = store_path("default")
    asyncio.run(fill_for_export(path))
    yield path
    for folder in (path.parent,):  # a test may leave it read-only
        os.chmod(folder, 0o700)


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 64)


@pytest.mark.parametrize("verb", sorted(VERBS))
@pytest.mark.parametrize("damage", [_truncate, _garbage], ids=["truncated", "garbage"])
def test_a_damaged_cache_is_one_line(cache: Path, verb: str, damage: object) -> None:
    assert callable(damage)
    damage(cache)
    line = _one_clear_line(_cli(*VERBS[verb]), "damaged", str(cache), "fansly-console sync")
    assert line.startswith("fansly-console: the cache at")


def test_a_cache_damaged_past_its_first_pages_is_said_at_the_query(cache: Path) -> None:
    # Opening reads only the first pages; the damage is met later, at a query, and still
    # named with the file (the store translates SQLite's error wherever it comes from).
    data = cache.read_bytes()
    cache.write_bytes(data[: len(data) - 4096])

    async def export_all() -> None:
        async with await Store.open(cache) as store:
            for account in await store.accounts():
                for chat in await store.chats(account.account_id, offset=0, limit=100):
                    await store.messages_after(chat.chat_id, -1, 10_000)

    with pytest.raises(CacheDamaged) as caught:
        asyncio.run(export_all())
    assert caught.value.path == cache


@pytest.mark.parametrize("how", ["file-0400", "folder-0500"])
def test_a_read_only_cache_is_searched_and_exported(cache: Path, how: str) -> None:
    if how == "file-0400":
        os.chmod(cache, 0o400)
    else:
        os.chmod(cache.parent, 0o500)
    found = _cli("search", "line", "--json", unprivileged=True)
    assert found.returncode == 0, found.stderr
    assert '"snippet": "line 1199' in found.stdout
    exported = _cli("export", unprivileged=True)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.count('"type": "message"') == 1202
    # Nothing was written, nothing was created beside it in a read-only folder.
    if how == "folder-0500":
        assert sorted(p.name for p in cache.parent.iterdir()) == [cache.name]
    # The verbs that must write say so, in one line.
    for verb in ("listen", "offline"):
        _one_clear_line(_cli(*VERBS[verb], unprivileged=True), "read-only", str(cache))


def test_a_read_only_cache_opened_for_writing_is_refused_at_open(cache: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes any file: the CLI tests above drop that power")
    os.chmod(cache, 0o400)
    with pytest.raises(CacheReadOnly):
        asyncio.run(Store.open(cache))


def test_a_read_only_cache_from_an_older_version_says_so(cache: Path) -> None:
    import sqlite3

    with sqlite3.connect(cache) as db:
        db.execute("PRAGMA user_version = 1")
    os.chmod(cache, 0o400)
    _one_clear_line(_cli("search", "line", unprivileged=True), "read-only", "older", str(cache))


@pytest.mark.parametrize("verb", ["listen", "sandbox"])
def test_a_port_out_of_range_is_a_usage_error(verb: str) -> None:
    result = _cli(verb, "--port", "70000")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "argument --port: 70000 is not a port" in result.stderr


def test_a_profile_name_cannot_leave_the_data_dir(tmp_path: Path) -> None:
    outside = tmp_path / "x.sqlite3"
    result = _cli("--profile", f"../../../../../..{tmp_path}/x", "--offline")
    assert result.returncode == 2 and "not a valid profile name" in result.stderr
    for verb in (["search", "q"], ["export"], ["sync"], ["listen", "--secret", "s"]):
        result = _cli(*verb, "--profile", "../x")
        assert result.returncode == 2 and "not a valid profile name" in result.stderr, verb
    assert not outside.exists()
    with pytest.raises(ValueError, match="not a valid profile name"):
        store_path("../x")


def test_a_bad_profile_name_in_the_config_names_the_file_and_line(tmp_path: Path) -> None:
    config = Path(os.environ["FANSLY_CONSOLE_HOME"]) / "config.toml"
    config.write_text('[profiles.ok]\napi_key = "k"\n\n[profiles."../../x"]\napi_key = "k"\n')
    result = _cli("search", "q")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{config}, line 4: profiles.../../x: '../../x' is not a valid profile name" in (
        result.stderr
    )
    config.write_text('default_profile = "a/b"\n')
    assert f"{config}, line 1: default_profile:" in _cli("search", "q").stderr


def test_a_cache_from_a_newer_version_is_one_line(cache: Path) -> None:
    import sqlite3

    from console.store import SCHEMA_VERSION

    with sqlite3.connect(cache) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    for verb in ("search", "offline"):
        _one_clear_line(_cli(*VERBS[verb]), str(cache), "newer", "upgrade fansly-console")
