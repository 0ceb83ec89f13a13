"""The chat's pinned messages, above the thread."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from console.tui.source import MessageRow
from console.tui.text import clean, plain


class PinnedStrip(Static):
    """The chat's pinned messages, one line each, at the top of the thread."""

    def show(self, rows: list[MessageRow]) -> None:
        self.display = bool(rows)
        lines = [plain("📌 " + clean(r.text[:800], one_line=True)[:200]) for r in rows[-3:]]
        self.update(Content("\n").join(lines))
