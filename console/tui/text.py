"""Untrusted text made safe to show: control and escape sequences stripped, never markup.

Fan names, messages, notes and error texts come from strangers. They reach the screen only
through :func:`plain` (a ``Content`` built from text, so ``[b]`` stays two brackets and a b)
after :func:`clean` has removed what a terminal would act on (ANSI/OSC escapes, C0/C1
controls) and what would reorder or hide text (bidi overrides, zero-width characters).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from textual.content import Content

# Escape sequences first (CSI, OSC, other ESC-x), so their payload goes with them. An OSC
# counts only with its terminator (BEL or ST): an unterminated one loses just its ESC ] (the
# last branch), not the rest of the message.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"  # OSC … BEL / ST
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    r"|\x1b[@-_]?"
)
_CONTROLS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
# The zero-width joiner builds one emoji out of several (👩‍❤️‍👨, 🏳️‍🌈): kept between two
# emoji, dropped anywhere else (where it only hides or glues text).
_EMOJI = "\u2190-\u2bff\U0001f000-\U0001faff"
_STRAY_JOINER = re.compile(f"(?<![{_EMOJI}\ufe0f])\u200d|\u200d(?![{_EMOJI}])")
_SPACES = re.compile(r"[\t\n\r]+")


def clean(text: str | None, *, one_line: bool = False) -> str:
    """Strip escapes, controls, bidi and zero-width characters; fold lines if asked."""
    if not text:
        return ""
    text = _ESCAPES.sub("", text.replace("\r\n", "\n"))
    text = text.replace("\t", " ")
    text = _CONTROLS.sub("", text)
    text = _STRAY_JOINER.sub("", text)
    if one_line:
        text = _SPACES.sub(" ", text).strip()
    return text


def plain(text: str | None, *, one_line: bool = False, style: str = "") -> Content:
    """A ``Content`` that shows ``text`` literally (never parsed as markup)."""
    return (
        Content.styled(clean(text, one_line=one_line), style)
        if style
        else Content(clean(text, one_line=one_line))
    )


def fan_label(name: str | None, username: str | None = "") -> str:
    """How a fan is named on screen, one line: the display name, or ``@username`` when the
    name is blank (the cache then gives the username as the name: that shows as ``@…`` too)."""
    shown = clean(name, one_line=True)
    user = clean(username, one_line=True)
    if user and (not shown or shown == user):
        return "@" + user
    return shown or "a fan"


def ago(since: datetime | None, now: datetime) -> str:
    """Compact elapsed time: ``now``, ``4m``, ``3h``, ``2d``, ``5w``."""
    if since is None:
        return ""
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 60:
        return "now"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if days < 14:
        return f"{days}d"
    return f"{days // 7}w"


def utcnow() -> datetime:
    return datetime.now(UTC)


def money_text(millis: int | None) -> str:
    """:func:`console.api.models.money_text`, imported when first used: the models module
    builds pydantic classes, which the first paint does without."""
    from console.api.models import money_text as text

    return text(millis)
