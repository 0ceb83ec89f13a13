"""Keys read in one go stay in order: a burst typed ahead over a slow SSH link, or sent by
tmux's ``send-keys``, arrives as several keys in one read.

Textual hands each key to the focused widget's own queue; a key the widget does not take
comes back up to the app, whose bindings then run it. Meanwhile the app has handed out the
next keys of the burst, to the widget that had the focus *before* the first key ran, and a
screen's *priority* binding runs at once, ahead of them all. Three rules keep the order:

- When the focused widget does not read keys itself (a text box does), the app runs each
  key's bindings itself, at once
  (:func:`run_in_order`, from ``ConsoleApp.on_event``): "r" then "all good" in one burst
  replied "all good" instead of opening the automations ("a"), liking ("l") and so on.
- A key that takes the chatter to a text box moves the focus with ``set_focus``, at once
  (``focus()`` is queued behind the keys already read).
- A priority action that reads what was typed in a text box waits first, with
  :func:`caught_up`, for the keys handed to it: "15⏎" in the vault picker's price attached
  the media free, and "1⏎still there?⏎" in the follow-up form put "1sti" in the minutes.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol, runtime_checkable

from textual import events
from textual.app import App
from textual.screen import Screen
from textual.widget import Widget

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


@runtime_checkable
class KeyWatcher(Protocol):
    """A widget that wants to know of its keys even when the app runs their bindings (the
    chat list holds new orders back while the chatter is at it; the bench times keys)."""

    def key_arrived(self, event: events.Key) -> None: ...


def reads_keys(widget: Widget | None) -> bool:
    """The widget reads keys itself before any binding: a text box (a letter is text there),
    a select's type-to-search. A :class:`KeyWatcher` only watches."""
    if widget is None or isinstance(widget, KeyWatcher):
        return False
    return type(widget)._on_key is not Widget._on_key


async def run_in_order(app: App[Any], event: events.Key) -> bool:
    """Run the bindings of a key just read, now, when the focused widget does not read keys
    itself (what Textual does once the key has come back up from the focused widget, by then
    behind the next keys). ``False``: the key goes the usual way."""
    screen = app.screen
    focused = screen.focused
    if reads_keys(focused) or screen.maximized is not None:
        return False
    app.app_focus = True
    if isinstance(focused, KeyWatcher):
        focused.key_arrived(event)
    handled = await app._check_bindings(event.key, priority=True) or await app._check_bindings(
        event.key
    )
    if not handled:  # the widget's own handling (a key method), as Textual would
        (focused or screen)._forward_event(event)
    return True
