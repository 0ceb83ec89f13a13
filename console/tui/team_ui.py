"""What the console shows and asks in team mode (``fansly-console --team URL``), in one place.

:class:`TeamUI` is attached to the app as ``app.team`` (``None`` in solo mode: every team
feature below is skipped, and solo mode looks and behaves exactly as before). It holds:

- **Presence**: where each teammate is and who types, from the server's chat list at start
  and then the stream's ``presence`` notices; rows age out as the server's do
  (:data:`~console.team.presence.PRESENCE_SECONDS`, typing
  :data:`~console.team.presence.TYPING_SECONDS`), so a teammate whose console died leaves the
  list within half a minute. This console says where it is (the open chat; typing) with a
  heartbeat, so it stays on the others' screens while it sits in a chat.
- **The guard as a question.** Decision: the check happens *before* the reply is queued, with
  the server's guard route (``GET /team/chats/{chat}/presence`` answers who sent in the last
  ``guard_seconds`` or types now). The console asks "ben replied 12 s ago. Send anyway?";
  "yes" queues it with the confirmation (:class:`~console.team.relay.SendAnyway`), "no"
  leaves the text in the composer (nothing was queued). The server still decides under its
  per-chat lock: two chatters pressing Enter at the same moment both pass the question, one
  of the two sends is answered "ask first", and the console asks the same question about that
  queued send (``on_ask``): "yes" retries it with the confirmation, "no" drops it and puts its
  text back in the composer. When the server cannot be reached the reply is queued as in solo
  mode (offline-safe); the server asks when it goes out.
- **Shared notes, older history, search and stats** through the server; everything fetched is
  written into the local cache, so it still shows when the server is gone.

Names are the team's, shown as plain text (never markup), cut to :data:`MAX_NAME`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from console.api.credits import CreditStatus
from console.team.presence import PRESENCE_SECONDS, TYPING_SECONDS
from console.team.relay import SendAnyway
from console.tui.text import clean

if TYPE_CHECKING:
    from console.store import Store
    from console.team.client import TeamClient

log = logging.getLogger("console.tui.team")

#: A teammate's name on screen (the server bounds it too; this bounds what a row can take).
MAX_NAME = 24
#: Seconds between two presence reports of this console while it sits in a chat.
HEARTBEAT = PRESENCE_SECONDS / 3
#: The guard's question waits this long for the server; then the reply is queued as usual.
ASK_TIMEOUT = 3.0
#: Seconds between two looks at the team's credits this month (the status line's figure).
CREDITS_EVERY = 60.0
#: Notes, history pages and searches: the server's answer or the cache after this long.
FETCH_TIMEOUT = 10.0
#: The stats screen's periods (the ``since`` of ``team stats``).
PERIODS = (("shift", "8h", "Shift (8 h)"), ("day", "1d", "Day"), ("week", "7d", "Week"))


def name_text(value: object) -> str:
    """A teammate's name, one plain line of at most :data:`MAX_NAME` cells."""
    text = clean(str(value or ""), one_line=True).strip() or "a teammate"
    return text if len(text) <= MAX_NAME else text[: MAX_NAME - 1] + "…"


def guard_words(others: Iterable[dict[str, Any]]) -> str:
    """``ben replied 12 s ago``; ``anna is typing here``; several joined with ``and``."""
    said = []
    for other in others:
        name = name_text(other.get("name"))
        ago = other.get("sent_seconds_ago")
        if isinstance(ago, int | float):
            said.append(f"{name} replied {int(ago)} s ago")
        else:
            said.append(f"{name} is typing here")
    return " and ".join(said) or "a teammate is in this chat"


@dataclass
class Seen:
    """Where a teammate is (monotonic deadlines)."""

    chat_id: str | None
    until: float
    typing_until: float = 0.0


@dataclass(frozen=True)
class SharedNote:
    author: str
    at: datetime | None
    text: str


class TeamUI:
    def __init__(
        self,
        client: TeamClient,
        store: Store,
        *,
        me: str | None,
        accounts: list[str],
        presence: Iterable[tuple[str, str, bool]] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.store = store
        self.me = me
        self.accounts = list(accounts)
        self.clock = clock
        self.send_anyway = SendAnyway(clock)
        self.seen: dict[str, Seen] = {}
        for chat_id, name, typing in presence:
            self._saw(name, chat_id, typing)
        #: Shared notes as last fetched, per (account, fan): shown offline too.
        self.notes_cache: dict[tuple[str, str], list[SharedNote]] = {}
        #: Told when presence changed (the chat list and the thread header repaint).
        self.on_change: Callable[[], None] | None = None
        #: Told a send the server answered "ask first" after it was queued (see the module).
        self.on_ask: Callable[[Any, list[dict[str, Any]]], None] | None = None
        #: Told a teammate's note on a fan: (account, fan).
        self.on_note: Callable[[str, str], None] | None = None
        #: The console's outbox: retry a failed send ("send anyway"), drop one (set by the
        #: launcher, on the workspace once it is open).
        self.retry: Callable[[str], Awaitable[None]] = _nothing
        self.discard: Callable[[str], Awaitable[None]] = _nothing
        self._open: str | None = None
        self._labels: dict[str, str] = {}
        #: The team server's stream is up (set by the launcher): while it is not, the guard's
        #: question is not asked at the keyboard (a black-holed server would hold every Enter
        #: for ASK_TIMEOUT); the server asks when the queued send reaches it.
        self.online = True
        #: The team's credits this month as the server last said (``GET /team/usage``; None:
        #: not said yet): the status line shows them, the team server being what spends.
        self.credits: CreditStatus | None = None

    async def aclose(self) -> None:
        await self.client.aclose()

    # -- presence -----------------------------------------------------------------------------

    def _saw(self, name: str, chat_id: str | None, typing: bool) -> None:
        now = self.clock()
        self.seen[name] = Seen(
            chat_id,
            now + PRESENCE_SECONDS + HEARTBEAT,
            now + TYPING_SECONDS if typing and chat_id else 0.0,
        )

    def notice(self, notice: Any) -> bool:
        """A team notice from the stream (presence, a note, a teammate's send). ``False`` for
        a presence that is no news (a heartbeat: same chat, not newly typing), which the
        console does not toast again."""
        data = getattr(notice, "data", {}) or {}
        who = str(data.get("chatter") or "")
        if not who or who == self.me:
            return False
        kind = getattr(notice, "type", "")
        chat_id = getattr(notice, "chat_id", None)
        news = True
        if kind == "presence":
            before = self.seen.get(who)
            typing = bool(data.get("typing"))
            news = (
                before is None
                or before.chat_id != chat_id
                or (typing and before.typing_until <= self.clock())
            )
            self._saw(who, chat_id, typing)
        elif kind == "send.queued" and chat_id:
            self._saw(who, chat_id, False)  # a send stops the typing
        elif kind == "note.added":
            account, fan = str(getattr(notice, "account_id", "")), str(data.get("fan_id") or "")
            self.notes_cache.pop((account, fan), None)
            if self.on_note is not None:
                self.on_note(account, fan)
            return True
        else:
            return True
        self.tick()
        return news

    def tick(self) -> bool:
        """Age presence out; tell ``on_change`` when what the screen shows changed."""
        now = self.clock()
        for name in [n for n, s in self.seen.items() if s.until < now]:
            del self.seen[name]
        labels = {}
        for chat_id in {s.chat_id for s in self.seen.values() if s.chat_id}:
            assert chat_id is not None
            labels[chat_id] = self.label(chat_id)
        if labels == self._labels:
            return False
        self._labels = labels
        if self.on_change is not None:
            self.on_change()
        return True

    def in_chat(self, chat_id: str) -> list[tuple[str, bool]]:
        """The teammates in ``chat_id`` now: (name, typing), by name."""
        now = self.clock()
        return sorted(
            (name_text(name), s.typing_until > now)
            for name, s in self.seen.items()
            if s.chat_id == chat_id and s.until >= now
        )

    def label(self, chat_id: str) -> str:
        """``anna``, ``anna is typing…``, ``anna, ben``: plain text, short."""
        here = self.in_chat(chat_id)
        if not here:
            return ""
        typing = [name for name, t in here if t]
        if typing:
            rest = len(here) - 1
            return f"{typing[0]} is typing…" + (f" +{rest}" if rest else "")
        if len(here) > 2:
            return f"{here[0][0]}, {here[1][0]} +{len(here) - 2}"
        return ", ".join(name for name, _ in here)

    async def tell(self, chat_id: str | None, *, typing: bool = False) -> None:
        """Say where this console is (best effort: presence is no action to queue)."""
        self._open = chat_id
        try:
            async with asyncio.timeout(ASK_TIMEOUT):
                await self.client.presence(chat_id, typing=typing)
        except Exception:  # a lost server: the heartbeat says it again
            return

    async def refresh_credits(self) -> bool:
        """Ask the server for the team's month against its budget; whether it answered."""
        try:
            async with asyncio.timeout(ASK_TIMEOUT):
                report = await self.client.usage()
        except Exception:  # a lost server: the last figure stays until the next look
            return False
        budget = report["budget"] or None
        self.credits = CreditStatus(
            float(report["used_this_month"]),
            budget,
            (report["reserve"] or 0) if budget else 0,
            report["month"],
        )
        return True

    async def heartbeat(self) -> None:
        if self._open is not None:
            await self.tell(self._open)

    # -- the guard ------------------------------------------------------------------------------

    async def ask_first(self, chat_id: str) -> list[dict[str, Any]]:
        """Who the server's guard names for a send into ``chat_id`` now ([] : send; the server
        unreachable: [] too, and the server asks when the queued send reaches it)."""
        if not self.online:
            return []
        try:
            async with asyncio.timeout(ASK_TIMEOUT):
                answer = await self.client.chat_presence(chat_id)
        except Exception:  # unreachable, refused, timed out: the cache answers
            return []
        guard = answer.get("guard") or []
        return [g for g in guard if isinstance(g, dict)][:10]

    def asked(self, item: Any, others: list[dict[str, Any]]) -> None:
        if self.on_ask is not None:
            self.on_ask(item, others)

    # -- notes ----------------------------------------------------------------------------------

    async def notes(self, account_id: str, fan_id: str) -> list[SharedNote] | None:
        """The fan's shared notes, oldest first (the last ones fetched when the server is
        gone; ``None`` when never fetched)."""
        key = (account_id, fan_id)
        try:
            async with asyncio.timeout(FETCH_TIMEOUT):
                rows = await self.client.notes(account_id, fan_id)
        except Exception:  # unreachable, refused, timed out: the cache answers
            return self.notes_cache.get(key)
        notes = [
            SharedNote(name_text(r.get("author")), _when(r.get("at")), str(r.get("text", "")))
            for r in rows[-200:]
        ]
        self.notes_cache[key] = notes
        return notes

    async def add_note(self, account_id: str, fan_id: str, text: str) -> None:
        """Raises when the server cannot take it (said to the chatter: nothing is lost, the
        editor's text is kept in the message)."""
        async with asyncio.timeout(FETCH_TIMEOUT):
            await self.client.add_note(account_id, fan_id, text)
        self.notes_cache.pop((account_id, fan_id), None)

    # -- history and search beyond the cache ------------------------------------------------------

    async def fetch_older(self, account_id: str, chat_id: str, before: datetime) -> int:
        """Copy the page of ``chat_id`` older than ``before`` from the server into the cache;
        how many messages came (0: none older, or the server is gone)."""
        from console.api.models import Message

        try:
            async with asyncio.timeout(FETCH_TIMEOUT):
                page = await self.client.messages(chat_id, before=before.isoformat(), limit=50)
        except Exception:  # unreachable, refused, timed out: the cache answers
            return 0
        messages = [Message.model_validate(item["message"]) for item in page]
        if messages:
            await self.store.upsert_messages(account_id, chat_id, messages)
        return len(messages)

    async def search_server(self, query: str) -> int | None:
        """Search every account of the chatter on the server and copy the hits into the cache
        (so the cache's search shows them, and keeps showing them offline). ``None``: the
        server could not be reached."""
        from console.api.models import Message

        found = 0
        try:
            async with asyncio.timeout(FETCH_TIMEOUT):
                for account in self.accounts:
                    hits = await self.client.search(account, query)
                    by_chat: dict[str, list[Message]] = {}
                    for hit in hits:
                        message = Message.model_validate(hit["message"])
                        if message.chat_id:
                            by_chat.setdefault(message.chat_id, []).append(message)
                    for chat_id, messages in by_chat.items():
                        await self.store.upsert_messages(account, chat_id, messages)
                        found += len(messages)
        except Exception:  # unreachable, refused, timed out: the cache answers
            return None
        return found

    # -- stats ----------------------------------------------------------------------------------

    async def stats(self, since: str) -> list[dict[str, Any]] | str:
        """``team stats`` per chatter since ``since`` (``8h``, ``1d``, ``7d``), computed by the
        server (console/team/stats.py); else why not, in words."""
        from console.team.client import TeamAuthError, TeamRefused

        try:
            async with asyncio.timeout(FETCH_TIMEOUT):
                return await self.client.stats(since)
        except TeamRefused as exc:
            return clean(f"the team server refused: {exc.reason}", one_line=True)[:120]
        except TeamAuthError:
            return "the team server refused your token"
        except Exception as exc:  # unreachable, timed out
            log.info("team stats: %s", type(exc).__name__)
            return "the team server cannot be reached"


async def _nothing(client_id: str) -> None:
    return None


def _when(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
