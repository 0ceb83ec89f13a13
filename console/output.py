"""What the command-line verbs print, made safe for the terminal that shows it.

Ids, names and messages come from fans and from the network. Printed raw, an escape sequence
in one clears the screen, sets the pane title or writes the clipboard (OSC 52), and a bidi
override reorders the line around it. Every verb prints such data through this module only:

- :func:`terminal_text` for plain text: C0 and C1 controls, DEL, bidi controls, line and
  paragraph separators and lone surrogates become visible escapes (``\\x1b``, ``\\u202e``), so
  the chatter sees that something was there and nothing acts on it;
- :func:`terminal_json` for JSON: the same characters as ``\\uXXXX`` escapes (``json.dumps``
  escapes only C0 by itself), so the output stays lossless: parsed back, it is the data;
- :class:`TerminalFormatter` for log lines (``listen``).

Other format characters (zero-width joiners in emoji, ZWNJ in Persian names) are kept: they
do nothing to a terminal, and escaping them would mangle real names.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

# Built from code points, so this source file holds none of them raw.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_SEPARATORS = "\u2028\u2029"
_SURROGATES = "\ud800-\udfff"
#: What plain text never prints raw: C0, DEL, C1, bidi controls, separators, surrogates.
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}{_SEPARATORS}{_SURROGATES}]")
#: The same for JSON, but C0: json.dumps escapes C0 itself, and a raw newline in its output
#: is the indentation's, not data's.
_UNSAFE_IN_JSON = re.compile(f"[\x7f-\x9f{_BIDI}{_SEPARATORS}{_SURROGATES}]")
#: The same for a multi-line text (a traceback), keeping its newlines.
_UNSAFE_BUT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{_BIDI}{_SEPARATORS}{_SURROGATES}]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def terminal_text(value: object, *, newlines: bool = False) -> str:
    """``value`` as text a terminal only shows: unsafe characters as visible escapes.

    ``newlines`` keeps line breaks (a traceback); otherwise the text stays on one line.
    """
    text = str(value)
    pattern = _UNSAFE_BUT_NEWLINE if newlines else _UNSAFE
    return pattern.sub(_visible, text) if pattern.search(text) else text


def terminal_json(value: Any, **options: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, **options)`` with every character a terminal
    could act on written as a ``\\uXXXX`` escape (the JSON means the same)."""
    text = json.dumps(value, ensure_ascii=False, **options)
    return _UNSAFE_IN_JSON.sub(_json_escape, text)


class TerminalFormatter(logging.Formatter):
    """A log formatter whose lines carry no raw control characters: the message stays on its
    line (a newline in it could forge the next one), a traceback keeps its own lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return terminal_text(super().formatMessage(record))

    def formatException(self, ei: Any) -> str:
        return terminal_text(super().formatException(ei), newlines=True)

    def formatStack(self, stack_info: str) -> str:
        return terminal_text(super().formatStack(stack_info), newlines=True)
