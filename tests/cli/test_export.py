"""The export verb: the cache as JSON lines, paged, per account."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.store import fill_for_export

from console.store import store_path


def _cli(home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANSLY_")}
    env |= {"FANSLY_CONSOLE_HOME": str(home), "CI": "true"}
    return subprocess.run(
        [sys.executable, "-m", "console", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_export_writes_json_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = _cli(tmp_path, "export")
    assert missing.returncode == 1 and "fansly-console sync" in missing.stderr

    monkeypatch.setenv("FANSLY_CONSOLE_HOME", str(tmp_path))
    asyncio.run(fill_for_export(store_path("default")))

    out = tmp_path / "all.jsonl"
    result = _cli(tmp_path, "export", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "2 accounts, 2 chats, 1202 messages" in result.stderr
    assert not (tmp_path / "all.jsonl.partial").exists()
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [o["type"] for o in lines[:2]] == ["account", "chat"]
    assert lines[1]["fan"]["display_name"] == "[b]Ann\x1b"  # data, exactly as cached
    messages = [o for o in lines if o["type"] == "message" and o["chat_id"] == "c1"]
    assert [m["id"] for m in messages[:-1]] == [f"m{i:04}" for i in range(1200)]
    assert messages[0]["text"] == 'line 0\n"q"' and messages[1]["from_creator"] is True
    assert (messages[-1]["client_id"], messages[-1]["state"]) == ("cl-1", "pending")
    assert messages[0]["created_at"].startswith("2026-01-01T12:00:00")

    only = _cli(tmp_path, "export", "--account", "fansly_acc_2", "--format", "jsonl")
    assert only.returncode == 0, only.stderr
    rows = [json.loads(line) for line in only.stdout.splitlines()]
    assert [(o["type"], o.get("account_id")) for o in rows] == [
        ("account", "fansly_acc_2"),
        ("chat", "fansly_acc_2"),
        ("message", "fansly_acc_2"),
    ]


def test_export_into_a_reader_that_stops_early_is_quiet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `fansly-console export | head -1`: the pipe closes under the writer; no traceback.
    monkeypatch.setenv("FANSLY_CONSOLE_HOME", str(tmp_path))
    asyncio.run(fill_for_export(store_path("default")))
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANSLY_")}
    env |= {"FANSLY_CONSOLE_HOME": str(tmp_path), "CI": "true"}
    child = subprocess.Popen(
        [sys.executable, "-m", "console", "export"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    first = child.stdout.readline()
    child.stdout.close()
    stderr = child.stderr.read().decode()
    assert child.wait(timeout=60) == 141
    assert json.loads(first)["type"] == "account"
    assert "Traceback" not in stderr
