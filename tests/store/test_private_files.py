"""Private files: the data dir 0700 and every file the app writes 0600, whatever the umask;
existing ones tightened when they are opened. Real files on disk, real modes."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.store import ACCOUNT, CREATOR, account, chat, message

from console import paths
from console.config import WebhookSettings
from console.store import Store, store_path
from console.tui.hub_feed import HubPosition
from console.webhooks.tokens import hub_token, hub_token_path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """A common umask, and none at all: the modes must not depend on it."""
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


async def _fill(path: Path) -> None:
    async with await Store.open(path) as store:
        await store.upsert_accounts([account()])
        await store.upsert_chats(ACCOUNT, [chat("c1", "100")])
        await store.upsert_messages(ACCOUNT, "c1", [message("m1")], creator_id=CREATOR)
        # Still open: the -wal and -shm files exist now.
        for suffix in ("", "-wal", "-shm"):
            assert mode(Path(f"{path}{suffix}")) == 0o600, suffix


async def test_a_new_cache_and_data_dir_are_private(umask: int) -> None:
    path = store_path("default")
    assert not path.parent.exists()
    await _fill(path)
    assert mode(path.parent) == 0o700
    assert mode(path) == 0o600


def test_an_existing_cache_is_tightened_at_open() -> None:
    path = store_path("default")
    asyncio.run(_fill(path))
    # As an older version left them: world-readable cache, WAL files and folder.
    os.chmod(path.parent, 0o755)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").touch()
        os.chmod(f"{path}{suffix}", 0o644)

    async def read(read_only: bool) -> tuple[list[str], list[int]]:
        async with await Store.open(path, read_only=read_only) as store:
            modes = [mode(Path(f"{path}{suffix}")) for suffix in ("", "-wal", "-shm")]
            return [a.account_id for a in await store.accounts()], modes

    assert asyncio.run(read(False)) == ([ACCOUNT], [0o600, 0o600, 0o600])
    assert mode(path.parent) == 0o700
    # Only group and others lose their bits: a cache the owner made read-only stays so.
    os.chmod(path, 0o444)
    assert asyncio.run(read(True))[0] == [ACCOUNT]
    assert mode(path) == 0o400


async def test_a_folder_that_is_not_the_apps_keeps_its_mode(tmp_path: Path) -> None:
    # A cache somewhere the user chose (a bench, a test): its folder is theirs, not tightened.
    os.chmod(tmp_path, 0o755)
    await _fill(tmp_path / "elsewhere.sqlite3")
    assert mode(tmp_path) == 0o755
    assert mode(tmp_path / "elsewhere.sqlite3") == 0o600


def test_export_to_a_file_is_private(tmp_path: Path, umask: int) -> None:
    asyncio.run(_fill(store_path("default")))
    out = tmp_path / "out.jsonl"
    out.write_text("an older, world-readable export\n")
    os.chmod(out, 0o644)
    result = subprocess.run(
        [sys.executable, "-m", "console", "export", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert mode(out) == 0o600
    assert '"type": "message"' in out.read_text()
    assert not (tmp_path / "out.jsonl.partial").exists()


def test_export_never_writes_through_a_planted_link(tmp_path: Path) -> None:
    asyncio.run(_fill(store_path("default")))
    victim = tmp_path / "victim"
    victim.write_text("keep me\n")
    out = tmp_path / "shared" / "out.jsonl"
    out.parent.mkdir()
    (out.parent / "out.jsonl.partial").symlink_to(victim)
    result = subprocess.run(
        [sys.executable, "-m", "console", "export", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert victim.read_text() == "keep me\n"
    assert mode(out) == 0o600 and out.read_text().startswith('{"type": "account"')


def test_export_into_a_pipe_writes_through_it_and_leaves_it_a_pipe(tmp_path: Path) -> None:
    # As `-o /dev/stdout` or `-o /dev/null`: a rename over the target would replace a device
    # by a file (as root, /dev/null itself). A FIFO stands in for the device here.
    asyncio.run(_fill(store_path("default")))
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    export = subprocess.Popen(
        [sys.executable, "-m", "console", "export", "-o", str(fifo)],
        stderr=subprocess.PIPE,
        text=True,
    )
    received: list[str] = []

    def read() -> None:
        with fifo.open(encoding="utf-8") as reader:
            received.append(reader.read())

    reader = threading.Thread(target=read, daemon=True)  # daemon: blocked forever if replaced
    reader.start()
    assert export.wait(timeout=60) == 0, export.stderr.read() if export.stderr else ""
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    reader.join(timeout=60)
    assert received and received[0].startswith('{"type": "account"')
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("pipe")) == ["pipe"]


def test_write_private_never_replaces_what_is_not_a_file(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        paths.write_private(fifo, "x")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_hub_token_and_position_files_are_private(umask: int, tmp_path: Path) -> None:
    token, where = hub_token(WebhookSettings())
    assert token and where == str(hub_token_path())
    assert mode(hub_token_path()) == 0o600 and mode(hub_token_path().parent) == 0o700
    os.chmod(hub_token_path(), 0o644)  # an older version's file
    assert hub_token(WebhookSettings())[0] == token
    assert mode(hub_token_path()) == 0o600

    position = HubPosition(paths.data_dir(), tmp_path / "cache.sqlite3", "ws://127.0.0.1:1/events")
    position.save(41)
    assert position.load() == 41
    assert mode(position.path) == 0o600
    assert [p.name for p in position.path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_write_private_is_exactly_0600_and_atomic(tmp_path: Path) -> None:
    old = os.umask(0o177)  # would leave a plain file unreadable to its owner (0600 & ~0177)
    try:
        target = tmp_path / "new" / "secret"
        paths.write_private(target, "one\n")
        paths.write_private(target, b"two\n")
    finally:
        os.umask(old)
    assert target.read_bytes() == b"two\n"
    assert mode(target) == 0o600 and mode(target.parent) == 0o700
    assert [p.name for p in target.parent.iterdir()] == ["secret"]


def test_older_hub_position_and_stylesheet_files_are_tightened_when_read(tmp_path: Path) -> None:
    position = HubPosition(paths.data_dir(), tmp_path / "cache.sqlite3", "ws://127.0.0.1:1/events")
    position.save(7)
    os.chmod(position.path, 0o644)
    assert position.load() == 7 and mode(position.path) == 0o600

    from console.tui.css_cache import CACHE_FILE, CachedStylesheet

    cache_dir = paths.cache_dir()
    cache_dir.mkdir(mode=0o755)
    os.chmod(cache_dir, 0o755)
    CachedStylesheet(path=cache_dir / CACHE_FILE)._load()
    assert mode(cache_dir) == 0o700
