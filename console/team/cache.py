"""A console's local SQLite cache filled from the team server (``fansly-console --team``).

The console in team mode never calls the gateway: what it shows comes from the team server
(accounts, chats with their fans, the latest messages of each chat), written into the same
local cache solo mode uses, so offline browsing and search keep working; the live stream then
keeps it current (the hub feed). The chatter's token comes from the config (``[team] token``),
``FANSLY_CONSOLE_TEAM_TOKEN``, or a file only its owner can read (``[team] token_file``).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from console.api.models import Account, Chat, Message
from console.problems import Problem

if TYPE_CHECKING:
    from console.config import TeamSettings
    from console.store import Store
    from console.team.client import TeamClient

TOKEN_ENV = "FANSLY_CONSOLE_TEAM_TOKEN"
#: Messages of each chat copied into the cache when the console opens.
MESSAGES_PER_CHAT = 30


def team_token(settings: TeamSettings) -> str:
    """The chatter's token: the environment, the config, or the token file (0600 only)."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    if token:
        return token
    if settings.token is not None and settings.token.get_secret_value():
        return settings.token.get_secret_value()
    if settings.token_file:
        path = Path(settings.token_file).expanduser()
        try:
            mode = path.stat().st_mode
            text = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise Problem(f"the team token file {path} cannot be read ({exc.strerror})") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise Problem(f"the team token file {path} is readable by others: chmod 600 {path}")
        if text:
            return text
    raise Problem(
        "team mode needs your chatter token: put it in a file only you can read and set "
        f"token_file under [team] in the config (or set {TOKEN_ENV})"
    )


@dataclass
class Filled:
    accounts: int = 0
    chats: int = 0
    messages: int = 0
    #: The chatter's name on the server.
    me: str | None = None
    #: The accounts the chatter works (the cache's tabs).
    account_ids: list[str] = field(default_factory=list)
    #: Who is in which chat now: (chat_id, name, typing), from the server's chat lists.
    presence: list[tuple[str, str, bool]] = field(default_factory=list)


async def fill_from_team(store: Store, client: TeamClient) -> Filled:
    """Copy what the chatter may see from the team server into the local cache."""
    filled = Filled()
    filled.me = str((await client.me())["name"])
    listed = await client._call("GET", "/team/accounts")
    details = [Account.model_validate(body) for body in listed.get("details", [])]
    known = {a.account_id for a in details}
    details += [Account(account_id=a, name=a) for a in listed["accounts"] if a not in known]
    await store.upsert_accounts(details)
    filled.accounts = len(details)
    filled.account_ids = [a.account_id for a in details]
    for account in details:
        rows = await client.chats(account.account_id)
        for row in rows:
            for seen in row.get("presence") or []:
                if isinstance(seen, dict) and seen.get("name") != filled.me:
                    chat_id = str(row.get("chat_id"))
                    filled.presence.append(
                        (chat_id, str(seen.get("name")), bool(seen.get("typing")))
                    )
        chats = [Chat.model_validate(row["chat"]) for row in rows if row.get("chat")]
        if chats:
            await store.upsert_chats(account.account_id, chats)
        filled.chats += len(chats)
        for chat in chats:
            page = await client.messages(chat.id, limit=MESSAGES_PER_CHAT)
            messages = [Message.model_validate(item["message"]) for item in page]
            if messages:
                await store.upsert_messages(account.account_id, chat.id, messages)
            filled.messages += len(messages)
    return filled
