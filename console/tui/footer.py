"""The key footer, recomposed once per change of the keys it shows.

Textual's ``Footer`` rebuilds all its key widgets after every "bindings changed" signal, once
per signal: focus moves, the keymap, mounting and the app's own checks send several in a row
(six at start-up with five account tabs, 20-40 ms each). Here a burst is one recompose, and
none when the keys shown did not change.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

#: Shown first, so no width of the terminal ever pushes it off the edge (the keys that do
#: not fit are cut at the right; the help screen lists them all).
FIRST_ACTION = "help"


class ConsoleFooter(Footer):
    """A ``Footer`` that skips redundant recomposes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending = False
        self._shown: tuple[Any, ...] | None = None

    def _signature(self) -> tuple[Any, ...]:
        bindings = self.screen.active_bindings
        return (
            self.compact,
            self.show_command_palette,
            tuple(
                (binding.key, binding.action, binding.description, enabled, tooltip)
                for (_node, binding, enabled, tooltip) in bindings.values()
                if binding.show or binding.action == "command_palette"
            ),
        )

    def compose(self) -> ComposeResult:
        keys = list(super().compose())
        first = [k for k in keys if isinstance(k, FooterKey) and k.action == FIRST_ACTION]
        yield from first + [k for k in keys if k not in first]

    def on_mount(self) -> None:
        # Mounted after the first paint, it may see no further change: show the keys now.
        self.bindings_changed(self.screen)
        self.app.screen_change_signal.subscribe(self, self._screen_changed)

    def _screen_changed(self, screen: Screen[Any]) -> None:
        if screen is self.screen:
            self.bindings_changed(screen)

    def bindings_changed(self, screen: Screen[Any]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._pending:
            self._pending = True
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        self._pending = False
        # Under another screen (the queue, a modal) the keys are not seen, and the bindings
        # read there are those of a screen without focus: recomposing then cost two rebuilds
        # per visit to the queue (~15 ms each). The screen's return signals again.
        if not self.is_attached or self.screen is not self.app.screen:
            return
        signature = self._signature()
        if signature == self._shown:
            return
        self._shown = signature
        await self.recompose()
