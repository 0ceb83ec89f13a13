"""Text helpers of the cache: safe FTS5 queries, sentinel-marked snippets, one-line previews.

A fan's or a chatter's text is never interpreted: queries are rebuilt from word tokens as
quoted FTS5 strings, and snippet highlights travel as offsets, not as markup.
"""

from __future__ import annotations

import re
import unicodedata

from console.store.rows import Snippet

# Private-use code points: never meaningful in a chat message, so they are removed from every
# stored text and can mark snippet matches unambiguously.
HL_START = "\ue000"
HL_END = "\ue001"
_SENTINELS = str.maketrans("", "", HL_START + HL_END)

_WORD = re.compile(r"\w+", re.UNICODE)
_SPACES = re.compile(r"\s+")
PREVIEW_LENGTH = 120


def clean_stored(text: str) -> str:
    """The text as stored: identical but for the snippet sentinels."""
    return text.translate(_SENTINELS)


def _printable(text: str) -> str:
    """Whitespace collapsed to single spaces, control and format characters dropped."""
    if text.isprintable():  # the common case, checked in C
        return text
    text = _SPACES.sub(" ", text)
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))


def one_line(text: str, limit: int = PREVIEW_LENGTH) -> str:
    """A plain one-line preview of ``text``."""
    line = _printable(text).strip()
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def fts_query(user_text: str) -> str | None:
    """A safe FTS5 query for what a person typed: every word must appear, the last as a prefix.

    Operators (``"``, ``*``, ``NEAR(``, ``AND``, ``-``, ``:``) lose their meaning because only
    word characters survive and each word is a quoted string. ``None`` when nothing is left.
    """
    words = _WORD.findall(user_text)
    if not words:
        return None
    quoted = [f'"{word}"' for word in words]
    # A trailing space means the last word is complete; otherwise it is still being typed.
    if not user_text[-1:].isspace():
        quoted[-1] += "*"
    return " ".join(quoted)


def fts_narrowing(user_text: str, indexed: int) -> tuple[str, str] | None:
    """A cheaper superset of ``fts_query(user_text)`` and the prefix it drops, or ``None``.

    FTS5 answers a prefix longer than its longest prefix index (``indexed`` characters) by
    merging the whole doclist of every term it matches before returning the first row, so
    ``"photo"*`` costs as much as every photo/photos/photographer… message. The same prefix cut
    to ``indexed`` characters is one indexed doclist, read newest first and lazily; its matches
    include every match of the full query. Only plain ASCII words are cut: their folding is one
    character to one, so the cut prefix is the cut of the folded word. Returns the superset
    query and the full last word, folded (a row of the superset matches the real query iff one
    of its tokens starts with it).
    """
    words = _WORD.findall(user_text)
    if not words or user_text[-1:].isspace():
        return None
    last = words[-1]
    if len(last) <= indexed or not (last.isascii() and last.isalnum()):
        return None
    last = last.lower()
    query = " ".join([*(f'"{word}"' for word in words[:-1]), f'"{last[:indexed]}"*'])
    return query, last


def single_letter_prefix(user_text: str) -> tuple[str | None, str] | None:
    """For a query whose last word is one ASCII letter or digit still being typed: the query
    of the words before it (``None`` when there are none) and the letter, folded; else
    ``None``. FTS5 has no 1-character prefix index, so ``"h"*`` merges the doclist of every
    word starting with h before returning its first row; the store reads the other words'
    rows (or every message) newest first instead and checks the letter itself."""
    words = _WORD.findall(user_text)
    if not words or user_text[-1:].isspace():
        return None
    last = words[-1]
    if len(last) != 1 or not (last.isascii() and last.isalnum()):
        return None
    before = " ".join(f'"{word}"' for word in words[:-1])
    return (before or None), last.lower()


def ascii_token_prefix(prefix: str) -> re.Pattern[str]:
    """Finds a token starting with ``prefix`` (ASCII alphanumeric, folded) in ASCII text.

    Exactly the FTS5 unicode61 tokenizer's view of ASCII text: tokens are runs of ASCII
    letters and digits, folded to lower case; everything else separates them.
    """
    return re.compile(r"(?<![0-9A-Za-z])" + re.escape(prefix), re.IGNORECASE | re.ASCII)


def parse_snippet(marked: str) -> Snippet:
    """Turn an FTS5 ``snippet()`` with sentinel marks into plain text plus match offsets."""
    out: list[str] = []
    highlights: list[tuple[int, int]] = []
    length = 0
    start: int | None = None
    for part in re.split(f"([{HL_START}{HL_END}])", marked):
        if part == HL_START:
            start = length
        elif part == HL_END:
            if start is not None and length > start:
                highlights.append((start, length))
            start = None
        elif part:
            piece = _printable(part)
            out.append(piece)
            length += len(piece)
    return Snippet("".join(out), highlights)
