"""Say in text how an SVG snapshot differs: CI shows only "1 mismatched snapshots", and the
HTML report stays on the CI machine. Printed by the ``snap_compare`` wrapper in conftest."""

from __future__ import annotations

import html
import re
from collections import defaultdict

_STYLE = re.compile(r"\.(terminal-r\d+) \{ ([^}]*) \}")
_TEXT = re.compile(r'<text class="(terminal-r\d+)" x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)</text>')
_BACKGROUND = re.compile(
    r'<rect fill="([^"]+)" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)"[^>]*crispEdges'
)
_CELL_HEIGHT = 24.4
_HASH = re.compile(r"terminal-\d+-")  # a fresh shot's class names carry its hash; stored ones not


def _rows(svg: str) -> dict[int, list[str]]:
    """Each terminal row as its texts (with their styles) and its backgrounds."""
    svg = _HASH.sub("terminal-", svg)
    styles = dict(_STYLE.findall(svg))
    rows: dict[int, list[str]] = defaultdict(list)
    for name, x, y, text in _TEXT.findall(svg):
        row = int(float(y) // _CELL_HEIGHT)
        rows[row].append(f"@{x} {html.unescape(text)!r} [{styles.get(name, name)}]")
    for fill, x, y, width in _BACKGROUND.findall(svg):
        rows[int(float(y) // _CELL_HEIGHT)].append(f"@{x}+{width} bg {fill}")
    return rows


def explain(expected: str, actual: str, most: int = 12) -> str:
    """The rows that differ, expected then actual, at most ``most`` of them."""
    before, after = _rows(expected), _rows(actual)
    lines: list[str] = []
    changed = [row for row in sorted(set(before) | set(after)) if before[row] != after[row]]
    for row in changed[:most]:
        gone = [part for part in before[row] if part not in after[row]]
        new = [part for part in after[row] if part not in before[row]]
        lines.append(f"row {row}:")
        lines.extend(f"  - {part}" for part in gone[:8])
        lines.extend(f"  + {part}" for part in new[:8])
    if len(changed) > most:
        lines.append(f"... and {len(changed) - most} more rows")
    return "\n".join(lines) or "the rows are the same (the difference is outside the cells)"
