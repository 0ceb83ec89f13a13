"""What the console needs from the layers below it, as small Protocols and plain rows.

The TUI never touches HTTP or SQLite: it reads rows and calls actions through a
:class:`ConsoleSource`. The chat and message rows are the store's (``console.store.rows``);
the fan card, search results and list choices are the console's own. ``console.tui.
workspace_source`` adapts the sync engine's Workspace and the store to it; the tests' in-memory
world (``tests/support/fakes_tui.py``) is another, and one contract suite runs against both
(``tests/tui/test_source_contract.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from console.changes import ConnectionChanged, OutboxChanged, UpdateBus
from console.store.queue import QueueRow

# The rows are the store's own (one set of row types): a chat list line, a thread's message.
from console.store.rows import (
    ChatFilter,
    ChatRow,
    MediaMarks,
    MessageRow,
    MessageState,
    PurchaseRow,
    VaultAlbumRow,
    VaultItem,
)

if TYPE_CHECKING:  # pydantic models: the first paint needs none
    from console.api.credits import CreditStatus
    from console.api.models import Account, AutomatedMessage, Fan, RateBudget
    from console.tui.followup import FollowUpRow

#: The filters the chat list's key cycles through, in order (pinned and muted chats show by
#: their markers instead).
CHAT_FILTERS: tuple[ChatFilter, ...] = (
    ChatFilter.ALL,
    ChatFilter.UNREAD,
    ChatFilter.UNANSWERED,
    ChatFilter.VIP,
    ChatFilter.SUBSCRIBERS,
)


@dataclass(slots=True)
class FanCard:
    """The fan profile pane: the cached profile, spend history and the team's private note."""

    account_id: str
    fan: Fan
    muted: bool = False
    note: str = ""
    note_updated: datetime | None = None
    #: (time, gross thousandths) per transaction, oldest first (empty until fetched).
    spend_history: list[tuple[datetime, int]] = field(default_factory=list)
    #: The fan's PPV purchases (sale events), newest first.
    purchases: list[PurchaseRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One message found in the cached history; ``highlights`` are offsets into ``text``."""

    account_id: str
    chat_id: str
    fan_name: str
    message_id: str
    created_at: datetime
    from_creator: bool
    text: str
    highlights: tuple[tuple[int, int], ...] = ()


class SearchResults(list[SearchResult]):
    """Search results, newest first; ``since`` is set when the search stopped early (a lone
    letter, see ``Store.search``) and read only the messages from then on."""

    since: datetime | None = None


class MessagePage(list[MessageRow]):
    """Messages of one chat, oldest first, and the source's word on whether older ones exist.

    ``at_start``: the page reaches the chat's first message, so the thread stops asking for
    older pages. Decision: the source says it, not the thread (which once counted the rows and
    asked the app whether it ran in team mode). In solo mode the cache, filled from the gateway
    where it has gaps, is the chat's history: a page shorter than asked for is its start. In
    team mode the team server holds the whole history: a short cached newest page is not the
    start, and an older page that runs short is filled from the server first (and written into
    the cache); only what is still short after that is the start (the server gone: the cache's
    start, for now)."""

    def __init__(self, rows: Iterable[MessageRow] = (), *, at_start: bool) -> None:
        super().__init__(rows)
        self.at_start = at_start


@dataclass(frozen=True, slots=True)
class ListChoice:
    """One of the creator's lists, and whether the fan is on it."""

    list_id: str
    label: str
    member: bool


class ConsoleSource(Protocol):
    """Everything the console reads and does. All ids are strings."""

    bus: UpdateBus

    def accounts(self) -> Sequence[Account]: ...

    def budget(self) -> RateBudget | None: ...

    def credits(self) -> CreditStatus | None:
        """Credits used this month against the budget (``None``: not metered)."""
        ...

    def connection(self) -> ConnectionChanged: ...

    async def chats(
        self, account_id: str, filter: ChatFilter, search: str, offset: int, limit: int
    ) -> list[ChatRow]: ...

    async def count_chats(self, account_id: str, filter: ChatFilter, search: str) -> int: ...

    async def chat_window(
        self, account_id: str, filter: ChatFilter, search: str, offset: int, limit: int
    ) -> tuple[int, list[ChatRow]]:
        """``count_chats`` and ``chats`` in one read: what the list reads when shown or
        reloaded (one wait, and a size and rows of the same moment)."""
        ...

    def preloaded_chats(self, account_id: str) -> tuple[int, list[ChatRow]] | None:
        """The count and first rows of the account's list (filter "all", no search) if they
        were read before the app started, once; ``None`` otherwise."""
        ...

    async def chat(self, account_id: str, chat_id: str) -> ChatRow | None: ...

    async def find_chats(self, name: str, limit: int) -> list[ChatRow]: ...

    # -- issue 16: the queue across accounts, reminders ----------------------------------------

    async def queue(
        self, account_ids: Sequence[str], sort: str, offset: int, limit: int, now: datetime
    ) -> list[QueueRow]:
        """A window of the chats waiting for an answer across ``account_ids`` (due reminders
        first), in ``sort`` order (``console.store.queue.QueueSort``)."""
        ...

    async def queue_count(self, account_ids: Sequence[str], now: datetime) -> int:
        """How many chats the queue lists (reminders due by ``now`` included)."""
        ...

    async def queue_spend_known(self, account_ids: Sequence[str]) -> tuple[int, int]:
        """(waiting fans whose lifetime spend is known, all waiting fans): the spend order
        ranks only the known ones (the gateway's chat list carries no spend)."""
        ...

    async def set_reminder(self, account_id: str, chat_id: str, due: datetime) -> None:
        """Leave the chat out of the queue until ``due``, then list it first, marked."""
        ...

    async def clear_reminder(self, account_id: str, chat_id: str) -> bool: ...

    async def reminder(self, account_id: str, chat_id: str) -> datetime | None: ...

    async def follow_up(self, account_id: str, chat_id: str, text: str, due: datetime) -> str:
        """Queue a message for ``due`` unless the fan writes first; its client id."""
        ...

    async def follow_ups(self, account_id: str, chat_id: str) -> list[FollowUpRow]: ...

    async def cancel_follow_up(self, account_id: str, client_id: str) -> bool: ...

    async def missed_follow_ups(self, account_ids: Sequence[str]) -> list[FollowUpRow]:
        """Follow-ups held because they came due while no console ran."""
        ...

    async def settle_missed_follow_up(self, account_id: str, client_id: str, send: bool) -> None:
        """The chatter's word on a missed follow-up: send it now, or drop it."""
        ...

    async def latest_messages(self, account_id: str, chat_id: str, limit: int) -> MessagePage:
        """The newest ``limit`` messages, oldest first, and whether they reach the chat's
        first message (:class:`MessagePage`)."""
        ...

    async def messages_before(
        self, account_id: str, chat_id: str, before_id: str, limit: int
    ) -> MessagePage:
        """Up to ``limit`` messages older than ``before_id``, oldest first, and whether they
        reach the chat's first message. Past the cache, the source fetches them where it can
        (the gateway; the team server in team mode) before it answers."""
        ...

    async def message(
        self, account_id: str, chat_id: str, message_id: str
    ) -> MessageRow | None: ...

    async def pinned_messages(self, account_id: str, chat_id: str) -> list[MessageRow]: ...

    async def fan_card(self, account_id: str, chat_id: str) -> FanCard | None:
        """The profile of the chat's fan (refreshed from the API in the background if online:
        a ``FanChanged`` follows)."""
        ...

    def refresh_fan(self, account_id: str, fan_id: str) -> None:
        """Fetch the fan's profile in the background when online (``FanChanged`` follows)."""
        ...

    async def unread_counts(self) -> dict[str, int]: ...

    async def next_unread_chat(self, after: tuple[str, str] | None) -> tuple[str, str] | None: ...

    async def draft(self, account_id: str, chat_id: str) -> str: ...

    async def save_draft(self, account_id: str, chat_id: str, text: str) -> None: ...

    async def send(self, account_id: str, chat_id: str, text: str, reply_to: str | None) -> str:
        """Queue a message; returns its client id (the pending row appears at once)."""
        ...

    async def set_like(
        self, account_id: str, chat_id: str, message_id: str, liked: bool
    ) -> None: ...

    async def set_pin(
        self, account_id: str, chat_id: str, message_id: str, pinned: bool
    ) -> None: ...

    async def set_mute(self, account_id: str, fan_id: str, muted: bool) -> None: ...

    async def act(
        self, account_id: str, chat_id: str, kind: str, payload: dict[str, object]
    ) -> None:
        """Queue any action of :data:`console.store.actions.ACTIONS` by its kind (its effect
        shows at once)."""
        ...

    async def typing(self, account_id: str, chat_id: str) -> None: ...

    async def retry(self, account_id: str, message_id: str) -> None: ...

    async def mark_read(self, account_id: str, chat_id: str) -> None: ...

    # -- issue 6: history, notes, lists, automated messages ---------------------------------

    async def queued_counts(self) -> dict[str, OutboxChanged]:
        """Per account, the actions waiting in the outbox (and failed) right now."""
        ...

    async def messages_around(
        self, account_id: str, chat_id: str, message_id: str, limit: int
    ) -> list[MessageRow]:
        """A page centred on one message, oldest first (empty if it is not cached)."""
        ...

    async def messages_after(
        self, account_id: str, chat_id: str, after_id: str, limit: int
    ) -> list[MessageRow]:
        """Up to ``limit`` messages newer than ``after_id``, oldest first."""
        ...

    async def search(self, query: str, limit: int) -> list[SearchResult]:
        """Every account's cached history, newest first (no network)."""
        ...

    async def save_note(self, account_id: str, fan_id: str, text: str) -> None:
        """Keep the team's private note on a fan in the cache (never sent to the API)."""
        ...

    async def fan_lists(self, account_id: str, fan_id: str) -> list[ListChoice]:
        """The creator's lists and the fan's membership (asks the gateway; raises offline)."""
        ...

    async def set_fan_list(
        self, account_id: str, fan_id: str, list_id: str, member: bool
    ) -> None: ...

    async def automations(self, account_id: str) -> list[AutomatedMessage]:
        """The cached automation rules of an account."""
        ...

    async def refresh_automations(self, account_id: str) -> list[AutomatedMessage]:
        """The rules from the gateway (cached as they arrive; raises offline)."""
        ...

    async def create_automation(
        self, account_id: str, rule: AutomatedMessage
    ) -> AutomatedMessage: ...

    async def delete_automation(self, account_id: str, rule_id: str) -> None: ...

    # -- issue 15: the vault, PPVs ----------------------------------------------------------

    async def vault(self, account_id: str) -> tuple[list[VaultAlbumRow], list[VaultItem]]:
        """The cached vault: albums, and items newest first (no network)."""
        ...

    async def refresh_vault(self, account_id: str) -> int:
        """Fetch the vault from the gateway into the cache (raises offline); the item count."""
        ...

    async def media_marks(self, account_id: str, chat_id: str) -> MediaMarks:
        """The vault items already sent to this chat's fan, and those they bought."""
        ...

    async def send_media(
        self,
        account_id: str,
        chat_id: str,
        text: str,
        media_ids: Sequence[str],
        price_dollars: float | None,
        preview_id: str | None,
        reply_to: str | None,
    ) -> str:
        """Queue vault media with the text: a PPV with a price, free media without one."""
        ...


__all__ = [
    "CHAT_FILTERS",
    "ChatFilter",
    "ChatRow",
    "ConsoleSource",
    "FanCard",
    "ListChoice",
    "MessagePage",
    "MessageRow",
    "MessageState",
    "QueueRow",
    "SearchResult",
]
