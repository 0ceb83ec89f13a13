"""What a team notice (team mode's stream: a teammate's presence, typing, note, send) says on
screen, as a short plain-text toast. Only what concerns the chatter's open chat is shown, and
notes: a teammate's own words are plain text (never markup), cut short, control characters out.
"""

from __future__ import annotations

from typing import Any

MAX_SHOWN = 80


def _plain(value: object, limit: int = MAX_SHOWN) -> str:
    text = "".join(ch if ch.isprintable() else " " for ch in str(value or ""))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def notice_text(notice: Any, *, me: str | None, open_chat: str | None) -> str | None:
    """The toast for ``notice`` (a :class:`console.team.client.TeamNotice`), or None."""
    data = getattr(notice, "data", {}) or {}
    who = _plain(data.get("chatter"), 40)
    if not who or who == me:
        return None
    kind = getattr(notice, "type", "")
    here = open_chat is not None and getattr(notice, "chat_id", None) == open_chat
    if kind == "presence" and here:
        return f"{who} is typing…" if data.get("typing") else f"{who} opened this chat"
    if kind == "send.queued" and here:
        return f"{who} just replied in this chat"
    if kind == "note.added":
        return f"{who} added a note: {_plain(data.get('text'))}"
    return None
