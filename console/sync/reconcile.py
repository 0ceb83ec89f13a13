"""Deciding whether a send whose answer was lost reached the gateway.

When a send times out after the request left, the message may exist on the server. Before
sending it again the outbox reads the chat's latest messages and looks for it here; a message
must never reach a fan twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from console.api.models import Message

if TYPE_CHECKING:
    from console.api.client import FanslyClient

#: How much earlier than the enqueue time a server time stamp may be and still match: the
#: gateway's clock and ours are not the same clock.
CLOCK_SKEW = timedelta(minutes=2)


def _same_text(a: str, b: str) -> bool:
    # Gateways are known to trim; nothing else is normalised, so "ok" never matches "ok!".
    return a.strip() == b.strip()


def find_delivered(
    candidates: Iterable[Message],
    *,
    content: str,
    creator_id: str | None,
    fan_id: str | None,
    enqueued_at: datetime,
    taken: Set[str],
    reply_to: str | None = None,
    media_ids: Sequence[str] = (),
    skew: timedelta = CLOCK_SKEW,
) -> Message | None:
    """The server message that is our lost send, or ``None`` when it is not there.

    It must say the same thing, come from the creator (or at least not from the fan when the
    creator's id is unknown), be no older than the enqueue time (less clock skew), reply to
    the same message when the send was a reply, carry the same media (none for a text), and
    not already be the match of another queued send (``taken``): two identical "ok"s sent a
    minute apart stay two messages.
    Among several, the oldest wins, as the earliest send is the one that was lost first.
    """
    earliest = enqueued_at - skew
    matches = []
    for message in candidates:
        if message.id in taken or not _same_text(message.content, content):
            continue
        if creator_id is not None and message.sender_id != creator_id:
            continue
        if creator_id is None and fan_id is not None and message.sender_id == fan_id:
            continue
        if message.created_at < earliest:
            continue
        if reply_to is not None and message.in_reply_to not in (None, reply_to):
            continue
        # The same text with other media (a PPV of other items) is another message.
        if [a.content_id for a in message.attachments] != list(media_ids):
            continue
        matches.append(message)
    if not matches:
        return None
    return min(matches, key=lambda m: (m.created_at, len(m.id), m.id))


def find_send(
    candidates: Iterable[Message],
    payload: Mapping[str, Any],
    *,
    creator_id: str | None,
    enqueued_at: datetime,
    taken: Set[str],
) -> Message | None:
    """:func:`find_delivered` for a queued send's payload (its text, reply and media): the
    solo outbox and the team outbox look for their lost sends the same way."""
    return find_delivered(
        candidates,
        content=str(payload.get("content", "")),
        creator_id=creator_id,
        fan_id=None,
        enqueued_at=enqueued_at,
        taken=taken,
        reply_to=payload.get("in_reply_to") or None,
        media_ids=[str(m) for m in payload.get("media_ids") or []],
    )


async def messages_since(
    client: FanslyClient,
    account_id: str,
    chat_id: str,
    since: datetime,
    pages: int,
    on_call: Callable[[], None] | None = None,
) -> list[Message]:
    """The chat's newest messages, a page at a time back past ``since`` (at most ``pages``
    pages): where a send queued at ``since`` would be. ``on_call`` counts each request.
    Gateway errors are raised."""
    found: list[Message] = []
    cursor: str | None = None
    for _ in range(pages):
        if on_call is not None:
            on_call()
        page = await client.messages_page(account_id, chat_id, cursor=cursor, limit=10)
        found.extend(page.items)
        cursor = page.next_cursor
        oldest = min((m.created_at for m in page.items), default=None)
        if cursor is None or oldest is None or oldest < since:
            break
    return found
