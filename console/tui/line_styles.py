"""The component styles of a line-API list (the chat list, the queue), looked up once per
repaint instead of once per line."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from textual.geometry import Region
from textual.scroll_view import ScrollView
from textual.strip import Strip


class StyledScrollView(ScrollView):
    """A ``ScrollView`` whose ``render_line`` asks ``_style(name)`` for its component styles.

    They are looked up once per repaint, not per line: ``get_component_rich_style`` walks
    every ancestor's styles, and a live burst repaints a list every few frames. A subclass
    names its component classes in ``_COMPONENTS``; ``_style("")`` is the widget's own style.
    """

    #: The component classes looked up for a repaint (a subclass's ``COMPONENT_CLASSES``).
    _COMPONENTS: ClassVar[tuple[str, ...]] = ()
    #: The styles of the repaint under way (``None`` outside one).
    _styles: dict[str, Style] | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        styles = {name: self.get_component_rich_style(name) for name in self._COMPONENTS}
        styles[""] = self.rich_style
        self._styles = styles
        try:
            return super().render_lines(crop)
        finally:
            self._styles = None

    def _style(self, name: str) -> Style:
        styles = self._styles
        if styles is None:  # a line rendered outside a repaint (tests, snapshots)
            return self.get_component_rich_style(name) if name else self.rich_style
        return styles[name]
