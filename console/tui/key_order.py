"""Keys read in one go stay in order: a burst typed ahead over a slow SSH link, or sent by
tmux's ``send-keys``, arrives as several keys in one read.

Textual hands each key to the focused widget's own queue, but runs a screen's *priority*
binding at once, in the app's task, ahead of the keys it handed out just before: "15⏎" in the
vault picker's price attached the media free, and "1⏎still there?⏎" in the follow-up form put
"1sti" in the minutes. An action that reads what was typed waits first, with
:func:`caught_up`, for the keys already handed out (the next keys wait meanwhile, so they go
where the action sends the focus).
"""

from __future__ import annotations

import asyncio
from typing import Any

from textual.actions import SkipAction
from textual.screen import Screen
from textual.widgets import Input, TextArea

#: Bound: a widget being removed never runs the callback.
_AT_MOST = 0.5


async def caught_up(screen: Screen[Any]) -> None:
    """Return once every widget of ``screen`` that can hold keys has handled those it was
    handed (a callback queued behind them has run)."""
    loop = asyncio.get_running_loop()
    pending: list[asyncio.Future[None]] = []
    holders = set(screen.focus_chain)
    if screen.focused is not None:
        holders.add(screen.focused)
    for widget in holders:
        future: asyncio.Future[None] = loop.create_future()
        widget.call_later(lambda done=future: done.done() or done.set_result(None))
        pending.append(future)
    if pending:
        await asyncio.wait(pending, timeout=_AT_MOST)


def typing(screen: Screen[Any]) -> bool:
    """A text box has the focus: a letter is text there, not a key of the screen."""
    return isinstance(screen.focused, Input | TextArea)


async def before_text_box(screen: Screen[Any]) -> None:
    """For a priority key that takes the chatter to a text box (``r``, ``R``, ``N``, ``s``):
    the keys typed before it are handled first; if that left a text box focused (a Tab
    typed before it), the key is text there (``SkipAction`` hands it on). The action then
    moves the focus with ``set_focus``, at once, so the keys read after it go into the box."""
    await caught_up(screen)
    if typing(screen):
        raise SkipAction()
