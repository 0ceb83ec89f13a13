"""End to end: `fansly-console sandbox` in one process, `accounts` / `demo --print` in others."""

from __future__ import annotations

import json

from support.cli import free_port, run_cli


def test_accounts_against_a_sandbox_process(sandbox_process: str) -> None:
    env = {"FANSLY_API_BASE_URL": sandbox_process, "FANSLY_API_KEY": "k"}
    table = run_cli("accounts", env=env)
    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.strip().splitlines()
    assert header.split() == ["ACCOUNT", "NAME", "USERNAME", "COUNTRY", "STATUS"]
    assert len(rows) == 3 and all(row.startswith("fansly_acc_") for row in rows)

    as_json = run_cli("accounts", "--json", env=env)
    assert as_json.returncode == 0
    accounts = json.loads(as_json.stdout)
    assert [a["account_id"] for a in accounts] == [row.split()[0] for row in rows]
    assert all(a["fansly_account_id"] for a in accounts)


def test_wrong_key_is_one_clear_line(sandbox_process: str) -> None:
    env = {"FANSLY_API_BASE_URL": sandbox_process, "FANSLY_API_KEY": "wrong-key-123"}
    result = run_cli("accounts", env=env)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "the gateway refused the API key (401)" in lines[0]
    assert "wrong-key-123" not in result.stderr


def test_unreachable_gateway_is_one_clear_line() -> None:
    url = f"http://127.0.0.1:{free_port()}/api/fansly"
    result = run_cli("accounts", env={"FANSLY_API_BASE_URL": url, "FANSLY_API_KEY": "k"})
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == f"fansly-console: cannot reach the gateway at {url}; is it running?"
    )
    assert "Traceback" not in result.stderr


def test_demo_print_shows_accounts_and_chats_as_plain_text() -> None:
    result = run_cli("demo", "--print", "--size", "small")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Sandbox gateway at http://127.0.0.1:")
    assert sum(line.startswith("■ ") for line in lines) == 1
    assert sum(line.startswith("  ") for line in lines) == 5
    # Hostile fan names and messages reach the terminal without escapes or controls.
    assert not any(ch in result.stdout for ch in "\x1b\x07\u202e\u200b")
