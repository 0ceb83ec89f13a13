"""Every verb on hostile data: the bytes it prints carry no control character, no C1, no bidi
control, whatever fans and the network put in ids, names and messages; ``--json`` and
``export`` stay lossless (the escapes parse back to the data)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from support.cli import free_port
from support.store import CREATOR, account, chat, message

from console.__main__ import main
from console.output import terminal_json, terminal_text
from console.sandbox.server import SandboxServer
from console.store import Store, store_path
from console.webhooks.signature import sign

#: What fans and the network sent: every kind of character a terminal would act on.
ESC_CLEAR = "\x1b[2J\x1b[H"
OSC_TITLE = "\x1b]0;owned\x07"
OSC_CLIPBOARD = "\x1b]52;c;cm0gLXJmIH4=\x07"
HOSTILE = (
    f"{ESC_CLEAR}{OSC_TITLE}{OSC_CLIPBOARD} c1:\x9b2J\x9d0;t\x9c bidi:\u202eevil\u202c"
    "\u2066iso\u2069 del:\x7f bell:\x07 nul:\x00 sep:\u2028 cr:\r tab:\t"
)
ACCOUNT = f"fansly_acc_{OSC_TITLE}"
CHAT = f"c{ESC_CLEAR}1"

#: Bytes that must never reach the terminal: C0 but newline, DEL, C1 and bidi controls and
#: separators (as UTF-8).
_FORBIDDEN = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
)


def assert_clean(output: bytes, where: str) -> None:
    text = output.decode("utf-8")
    found = _FORBIDDEN.search(text)
    assert found is None, f"{where}: {found.group()!r} at {found.start()}: {text[:400]!r}"


def test_the_helper_escapes_what_a_terminal_acts_on() -> None:
    assert terminal_text("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert terminal_text("\u202eevil\u2066") == "\\u202eevil\\u2066"
    assert terminal_text("x\ny", newlines=True) == "x\ny" and terminal_text("x\ny") == "x\\x0ay"
    assert terminal_text("Zoë 👨\u200d👩 \u200c") == "Zoë 👨\u200d👩 \u200c"  # real names kept
    dumped = terminal_json({"k": HOSTILE})
    assert_clean(dumped.encode(), "terminal_json")
    assert json.loads(dumped) == {"k": HOSTILE}


async def _hostile_cache(path: Path) -> None:
    async with await Store.open(path) as store:
        await store.upsert_accounts([account(ACCOUNT, CREATOR, name=HOSTILE)])
        await store.upsert_chats(
            ACCOUNT, [chat(CHAT, "100", account_id=ACCOUNT, display_name=HOSTILE)]
        )
        texts = [f"photo {HOSTILE}", f"{HOSTILE} photo", "photo \x1b]0;never ends"]
        await store.upsert_messages(
            ACCOUNT,
            CHAT,
            [message(f"m{i}\x1b[1m", CHAT, text=t, minutes=i) for i, t in enumerate(texts)],
            creator_id=CREATOR,
        )


@pytest.fixture
def hostile_cache(console_home: Path) -> Path:
    path = store_path("default")
    asyncio.run(_hostile_cache(path))
    return path


def _run(capfdbinary: pytest.CaptureFixture[bytes], *argv: str) -> tuple[bytes, bytes]:
    code = main(list(argv))
    out, err = capfdbinary.readouterr()
    assert code == 0, (argv, err)
    return out, err


def test_search_and_export_on_hostile_data(
    hostile_cache: Path, tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    out, err = _run(capfdbinary, "search", "photo")
    assert_clean(out + err, "search")
    assert b"\\x1b]0;owned\\x07" in out  # the account id, visibly escaped

    out, err = _run(capfdbinary, "search", "photo", "--json")
    assert_clean(out + err, "search --json")
    hits = json.loads(out)
    assert {hit["account_id"] for hit in hits} == {ACCOUNT}
    assert {hit["chat_id"] for hit in hits} == {CHAT}

    out, err = _run(capfdbinary, "export")
    assert_clean(out + err, "export")
    rows = [json.loads(line) for line in out.decode().splitlines()]
    assert rows[0]["name"] == HOSTILE and rows[1]["fan"]["display_name"] == HOSTILE
    assert rows[2]["text"] == f"photo {HOSTILE}"  # lossless

    target = tmp_path / f"export{OSC_TITLE}.jsonl"
    out, err = _run(capfdbinary, "export", "-o", str(target))
    assert_clean(out + err, "export -o")
    assert_clean(target.read_bytes(), "export -o file")


@pytest.fixture
def hostile_gateway() -> SandboxServer:
    server = SandboxServer(seed=7, size="small", requests_per_minute=100_000)
    for creator in server.world.accounts.values():
        creator.label = HOSTILE
        creator.country = HOSTILE
        creator.account["username"] = HOSTILE
    return server


def test_accounts_sync_demo_locate_on_hostile_data(
    hostile_gateway: SandboxServer,
    console_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfdbinary: pytest.CaptureFixture[bytes],
) -> None:
    server = hostile_gateway.start_thread()
    try:
        monkeypatch.setenv("FANSLY_API_BASE_URL", server.base_url)
        monkeypatch.setenv("FANSLY_API_KEY", server.api_key)
        monkeypatch.setenv("FANSLY_CONSOLE_SYNC__MESSAGES_PER_CHAT", "2")
        monkeypatch.setenv("CI", "true")
        for argv in (["accounts"], ["accounts", "--json"], ["sync"]):
            out, err = _run(capfdbinary, *argv)
            assert_clean(out + err, " ".join(argv))
            assert out.strip()
    finally:
        server.stop_thread()
    # The sandbox world itself carries hostile fan names and messages (sandbox/hostile.py).
    out, err = _run(capfdbinary, "demo", "--print")
    assert_clean(out + err, "demo --print")
    home = console_home / f"home{OSC_CLIPBOARD}"
    monkeypatch.setenv("FANSLY_CONSOLE_HOME", str(home))
    for what in ("config", "data", "themes"):
        out, err = _run(capfdbinary, "locate", what)
        assert_clean(out + err, f"locate {what}")


def test_listen_on_hostile_deliveries(console_home: Path) -> None:
    port = free_port()
    secret = "whsec_output_test_0123456789"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANSLY_")}
    env |= {"FANSLY_CONSOLE_HOME": str(console_home), "FANSLY_WEBHOOK_SECRET": secret}
    process = subprocess.Popen(
        [sys.executable, "-m", "console", "listen", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        started = b""
        for line in process.stdout:
            started += line
            if b"Ctrl-C" in line:
                break
        url = f"http://127.0.0.1:{port}/webhooks/fansly"
        data = {"id": "4001", "groupId": "2001", "senderId": "6001", "content": HOSTILE}
        deliveries = [
            {"event": "message.received", "accountId": "fansly_acc_1", "data": data},
            {"event": f"message.received{OSC_TITLE}", "accountId": "fansly_acc_1", "data": data},
            {"event": "message.received", "accountId": ACCOUNT, "data": data},
            {"event": "message.received", "accountId": "a", "data": {**data, "groupId": CHAT}},
            {"event": "message.received", "accountId": "a", "idempotencyKey": HOSTILE},
        ]
        statuses = []
        for document in deliveries:
            body = json.dumps(document).encode()
            headers = {"X-Fansly-Signature": sign(secret, body), "X-Fansly-Idempotency-Key": "k"}
            statuses.append(httpx.post(url, content=body, headers=headers, timeout=10).status_code)
        assert statuses == [200, 400, 400, 400, 400]
    finally:
        process.send_signal(signal.SIGINT)
        rest, err = process.communicate(timeout=30)
    assert_clean(started + rest + err, "listen")
    assert err.count(b"delivery") == len(deliveries)
