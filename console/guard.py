"""The guard on what goes out: restricted words, phrases, patterns and links, per account.

Plain code (no Textual): the composer asks it as the chatter types and refuses to send while
it finds something; the tests call it directly. Text is compared after normalising both sides
the same way: NFKC (fullwidth ``ｐａｙｐａｌ``, mathematical ``𝐩𝐚𝐲𝐩𝐚𝐥``, ligatures), case
folded, zero-width and soft-hyphen characters dropped (``pay\\u200bpal``), and a few Cyrillic
and Greek letters that look Latin read as the Latin ones (``раураl`` in Cyrillic). A hit is
reported at its place in the text as typed, so the composer can highlight it.

Rules (``[guard]`` in the config, see README): ``words`` match whole words, ``phrases`` match
anywhere with any run of spaces between their words, ``patterns`` are regular expressions
(matched against the normalised text), ``no_links`` refuses web addresses. Per-account rules
(``[guard.accounts.<account id>]``) add to the global ones; their ``no_links`` overrides.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

#: Characters that render as nothing (or a hyphen only at a line break): used to split a word.
_INVISIBLE = frozenset("\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d"
                       "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063"
                       "\u2064\u2066\u2067\u2068\u2069\ufeff")  # fmt: skip
#: Letters of other scripts that look like Latin ones (the common spoofs; NFKC keeps them).
_LOOKALIKES = str.maketrans(
    "аеорсхуіјѕԁһӏɡοαρτυνκιχ",
    "aeopcxyijsdhlgoaptuvkix",
)
#: A web address: a scheme, ``www.``, or a name with a common top-level domain.
_LINK = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\s?(?:\.|\(dot\)|\[dot\]|\sdot\s)\s?"
    r"(?:com|net|org|io|me|ly|gg|co|app|link|xyz|info|biz|tv|us|uk|de|fr|ru|to|cc|site|"
    r"online|club|page|bio|onlyfans|fans)\b"
)


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    if char in _INVISIBLE:
        return ""
    return unicodedata.normalize("NFKC", char).casefold().translate(_LOOKALIKES)


def normalise(text: str) -> tuple[str, list[int]]:
    """The text as rules see it, and for each of its characters the index in ``text`` it came
    from (a hit is mapped back through it)."""
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = char if char.isascii() and not char.isupper() else _fold_char(char)
        out.append(folded)
        origin.extend([index] * len(folded))
    return "".join(out), origin


@dataclass(frozen=True, slots=True)
class GuardHit:
    """Something the guard refuses: what it is (to name it) and where it is in the text."""

    what: str
    start: int
    end: int


@dataclass(frozen=True)
class Guard:
    """One account's rules, compiled."""

    words: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    no_links: bool = False
    _compiled: tuple[tuple[str, re.Pattern[str]], ...] = field(default=(), repr=False)

    @classmethod
    def of(
        cls,
        words: Iterable[str] = (),
        phrases: Iterable[str] = (),
        patterns: Iterable[str] = (),
        no_links: bool = False,
    ) -> Guard:
        compiled: list[tuple[str, re.Pattern[str]]] = []
        for word in words:
            folded = normalise(word.strip())[0]
            if folded:
                compiled.append((word.strip(), re.compile(rf"(?<!\w){re.escape(folded)}(?!\w)")))
        for phrase in phrases:
            parts = normalise(phrase)[0].split()
            if parts:
                compiled.append((phrase.strip(), re.compile(r"\s+".join(map(re.escape, parts)))))
        for pattern in patterns:
            compiled.append((pattern, re.compile(pattern)))
        if no_links:
            compiled.append(("a link", _LINK))
        return cls(tuple(words), tuple(phrases), tuple(patterns), no_links, tuple(compiled))

    @property
    def empty(self) -> bool:
        return not self._compiled

    def check(self, text: str) -> list[GuardHit]:
        """Every hit in ``text``, in order of place (none: it may go out)."""
        if not self._compiled or not text:
            return []
        folded, origin = normalise(text)
        hits: list[GuardHit] = []
        for what, pattern in self._compiled:
            for match in pattern.finditer(folded):
                if match.end() <= match.start():
                    continue
                start = origin[match.start()]
                end = origin[match.end() - 1] + 1
                hits.append(GuardHit(what, start, end))
        hits.sort(key=lambda hit: (hit.start, hit.end))
        return hits


def check_pattern(pattern: str) -> str:
    """``pattern`` if it compiles; ``ValueError`` naming the problem otherwise."""
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    return pattern


def refusal(hits: Sequence[GuardHit], text: str) -> str:
    """What the chatter is told when the guard refuses a message."""
    first = hits[0]
    found = text[first.start : first.end]
    named = first.what if first.what == "a link" else f"“{first.what}”"
    more = f" (and {len(hits) - 1} more)" if len(hits) > 1 else ""
    return f"Not sent: the guard refuses {named} (“{found}”){more}. Edit the message first."
