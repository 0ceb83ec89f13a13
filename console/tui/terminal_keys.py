"""Alt+key as Linux terminals and tmux send it: ESC followed by the key.

Textual 8.2.8's sequence table maps ESC+digit (and ESC+``-``, ``=``, ``§``) to the characters
macOS types for option+key, because WezTerm on macOS sends those sequences. Everywhere else
(tmux, xterm, GNOME Terminal, Konsole, Alacritty…) ESC+2 is alt+2: Textual turned it into a
"™" typed into the chatter's draft, and the account-tab key never arrived. Here those entries
of the table become the alt keys they are, with no character, so a text field never receives
one. A Mac user who types "™" directly (option+2 in Terminal.app or iTerm2 sends the character
itself, no ESC) still gets "™".

The table is Textual's own (``ANSI_SEQUENCES_KEYS``, read by ``XTermParser`` for every
terminal driver), edited in place once when the console's keys are imported; the parser is
otherwise untouched.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, cast

from textual._ansi_sequences import ANSI_SEQUENCES_KEYS
from textual.keys import _character_to_key

ESC = "\x1b"


def _alt_sequences() -> dict[str, str]:
    """ESC+character sequences the table turns into a typed character: sequence → key name."""
    found: dict[str, str] = {}
    for sequence, keys in ANSI_SEQUENCES_KEYS.items():
        if len(sequence) == 2 and sequence[0] == ESC and isinstance(keys, str):
            char = sequence[1]
            name = char if char.isalnum() else _character_to_key(char)
            found[sequence] = f"alt+{name}"
    return found


# The parser reads ``key.value`` from each member of a tuple entry and gives the event no
# character when the sequence is longer than one character: exactly the alt key, typing
# nothing.
# mypy wants an Enum's members spelled out; these are computed from Textual's table.
AltKey = Enum("AltKey", {name: name for name in sorted(set(_alt_sequences().values()))}, type=str)  # type: ignore[misc]


def install() -> None:
    """Make ESC+digit (and the other macOS option sequences) alt keys. Idempotent."""
    table = cast(dict[str, Any], ANSI_SEQUENCES_KEYS)
    for sequence, name in _alt_sequences().items():
        table[sequence] = (AltKey(name),)
