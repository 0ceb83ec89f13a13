"""Crash safety: a writer killed with SIGKILL leaves a sound cache with no half-applied event."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import sys
from pathlib import Path

import pytest
from support.store import check_fts_index

from console.store import Store
from console.store._fts import pending_count

WRITER = r"""
import asyncio, sys
from datetime import UTC, datetime, timedelta
from console.api.models import Account, Message
from console.events import Event, EventType, Provider
from console.store import Store

T0 = datetime(2026, 1, 1, tzinfo=UTC)

async def main(path):
    store = await Store.open(path)
    await store.upsert_accounts([Account(account_id="acc", name="A", fansly_account_id="9000")])
    def event(i):
        chat = f"c{i % 7}"
        when = T0 + timedelta(seconds=i)
        msg = Message(id=f"m{i}", chat_id=chat, sender_id=f"f{i % 7}", content=f"msg {i} words",
                      created_at=when)
        return Event(type=EventType.MESSAGE_RECEIVED, provider=Provider.FANSLY_API,
                     name="message.received", idempotency_key=f"k{i}", account_id="acc",
                     occurred_at=when, chat_id=chat, fan_id=f"f{i % 7}", message=msg)

    i = 0
    while True:
        # Ten deliveries at once, as from a busy listener: they share group commits, so the
        # kill can land in the middle of a batch of several events.
        await asyncio.gather(*(store.apply_event(event(i + n)) for n in range(10)))
        await store.outbox.add("acc", f"c{i % 7}", "send", {"content": f"reply {i}"}, f"cl{i}")
        i += 10
        if i % 50 == 0:
            print(i, flush=True)

asyncio.run(main(sys.argv[1]))
"""


@pytest.mark.parametrize("kill_after", [150, 400])
async def test_sigkill_mid_write_leaves_every_event_whole(tmp_path: Path, kill_after: int) -> None:
    path = tmp_path / "crash.sqlite3"
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        WRITER,
        str(path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    killed = False
    try:
        async with asyncio.timeout(40):
            while True:
                line = await child.stdout.readline()
                assert line, (await child.stderr.read()).decode()
                if int(line) >= kill_after:
                    break
        # No wait for a quiet moment: the kill lands wherever the writer is.
        child.kill()
        killed = True
    finally:
        # One kill only: a second one polls (waitpid) and may reap the child before asyncio's
        # watcher does, which then reports returncode 255 instead of -SIGKILL.
        if not killed and child.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                child.kill()
        await child.wait()
    assert child.returncode == -signal.SIGKILL

    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    check_fts_index(path)

    async with await Store.open(path) as store:
        events = await store.events_since(0, limit=100_000)
        assert len(events) >= kill_after
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        fan_messages = 0
        for chat_id in (f"c{n}" for n in range(7)):
            rows = await store.messages_after(chat_id, -1, 100_000)
            received = [r for r in rows if not r.from_creator]
            fan_messages += len(received)
            chat = await store.chat(chat_id)
            assert chat is not None
            # Each event added one message and one unread in the same transaction.
            assert chat.unread == len(received)
            assert chat.last_activity == max(r.created_at for r in rows)
            # Every pending reply has its outbox item and the other way round.
            pending = {r.client_id for r in rows if r.from_creator}
            items = {i.client_id for i in await store.outbox.items("acc") if i.chat_id == chat_id}
            assert pending == items
        assert fan_messages == len(events)
        for event in events:
            assert event.message is not None
            assert (await store.message(event.message.id)) is not None
        # The search index agrees with the table after the crash.
        hits = await store.search("words", limit=100_000)
        assert len(hits) == len(events)
        # The rows the crash left pending are indexed like any other (the open queued them).
        await store.flush_index()
        assert await store.core._writer.run(pending_count) == 0
        assert len(await store.search("words", limit=100_000)) == len(events)
        # And the cache takes new writes.
        assert await store.apply_event(events[0].model_copy(update={"idempotency_key": "new"}))
