"""``fansly-console export``: cached accounts, chats and messages as JSON lines.

One object per line, each with a ``type`` (``account``, ``chat``, ``message``); a chat's
messages follow it, oldest first. History is read page by page, never all at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from console.commands.search import cache_path, no_cache, open_to_read
from console.output import terminal_json, terminal_text

if TYPE_CHECKING:
    from console.store import MessageRow, Store

PAGE = 1000


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def message_json(row: MessageRow) -> dict[str, Any]:
    data = {
        "type": "message",
        "id": row.message_id,
        "client_id": row.client_id,
        "account_id": row.account_id,
        "chat_id": row.chat_id,
        "sender_id": row.sender_id,
        "from_creator": row.from_creator,
        "text": row.text,
        "created_at": row.created_at,
        "reply_to_id": row.reply_to_id,
        "attachments": [a.model_dump() for a in row.attachments],
        "likes": [like.model_dump() for like in row.likes],
        "liked_by_creator": row.liked_by_creator,
        "pinned": row.pinned,
        "tip_millis": row.tip_millis,
        "state": row.state.value,
        "error": row.error,
    }
    return dict(_plain(data))


async def export(store: Store, out: IO[str], account_id: str | None) -> dict[str, int]:
    """Write the cache to ``out``; the counts of what was written."""
    counts = {"account": 0, "chat": 0, "message": 0}

    def write(obj: dict[str, Any]) -> None:
        out.write(terminal_json(obj) + "\n")
        counts[obj["type"]] += 1

    for account in await store.accounts():
        if account_id is not None and account.account_id != account_id:
            continue
        write({"type": "account", **_plain(asdict(account))})
        offset = 0
        while chats := await store.chats(account.account_id, offset=offset, limit=PAGE):
            offset += len(chats)
            for chat in chats:
                fan = await store.fan(account.account_id, chat.fan_id) if chat.fan_id else None
                fan_data = None
                if fan is not None:
                    fan_data = _plain(asdict(fan))
                    fan_data["subscription"] = (
                        fan.subscription.model_dump(mode="json") if fan.subscription else None
                    )
                write({"type": "chat", **_plain(chat._asdict()), "fan": fan_data})
                after = -1
                while page := await store.messages_after(chat.chat_id, after, PAGE):
                    for row in page:
                        write(message_json(row))
                    after = page[-1].pos
    return counts


@contextlib.contextmanager
def _output(target: str) -> Iterator[IO[str]]:
    if target == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    from console.paths import open_private
    from console.problems import Problem

    path = Path(target)
    partial = path.with_name(path.name + ".partial")
    # Fan conversations: mode 0600 like the cache they come from, whatever the umask.
    try:
        handle = open_private(partial)
    except OSError as exc:
        raise Problem(f"cannot write {partial}: {exc.strerror}") from exc
    try:
        with handle:
            yield handle
    except BaseException:
        partial.unlink(missing_ok=True)  # a damaged cache, Ctrl-C: no half export left behind
        raise
    # Only a complete export takes the name asked for.
    partial.replace(path)


def run(args: argparse.Namespace) -> int:
    profile, path = cache_path(args)
    if not path.exists():
        return no_cache(profile, path)

    async def main(out: IO[str]) -> dict[str, int]:
        async with await open_to_read(path) as store:
            return await export(store, out, args.account)

    with _output(args.output) as out:
        counts = asyncio.run(main(out))
    if args.output != "-":
        print(
            f"exported {counts['account']} accounts, {counts['chat']} chats, "
            f"{counts['message']} messages to {terminal_text(args.output)}",
            file=sys.stderr,
        )
    return 0
