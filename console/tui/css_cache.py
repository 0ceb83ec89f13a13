"""Textual's parsed stylesheet rules, kept on disk from one start to the next.

Parsing the console's stylesheet and the default CSS of the widgets on its first screen takes
~20 ms before the first frame (Textual's tokenizer is pure Python), the same work at every
start; unpickling the rules it produced last time takes ~2 ms. The rules of each CSS source
are stored under a digest of everything that shapes them: the text, where it was read from,
its scope and priority, the CSS variables (the theme) and Textual's version. A source whose
digest is not stored is parsed as usual and stored for the next start; an unreadable cache
is ignored. Only the start-up stylesheet uses it: a theme switch re-parses in a fresh
Textual stylesheet, as before.

The file lives in the user's cache dir (``FANSLY_CONSOLE_HOME/cache`` when set), written
atomically; like Python's own ``__pycache__``, it is trusted as the user's own files are.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
from pathlib import Path
from typing import Any

from textual.css.model import RuleSet
from textual.css.stylesheet import Stylesheet

CACHE_FILE = "stylesheet-rules.pickle"


def _textual_stamp() -> str:
    """Which Textual parsed the rules: its files' place and age (``textual.__version__``
    reads the package metadata, ~15 ms of imports before the first frame)."""
    import textual.css.parse as parse

    path = Path(parse.__file__)
    with contextlib.suppress(OSError):
        return f"{path} {path.stat().st_mtime_ns}"
    return str(path)


class CachedStylesheet(Stylesheet):
    """A Textual stylesheet whose parsed rules are read from ``path`` when it has them."""

    def __init__(self, *, variables: dict[str, str] | None = None, path: Path) -> None:
        super().__init__(variables=variables)
        self.path = path
        self._stored: dict[str, bytes] | None = None  # read at the first parse
        self._used: set[str] = set()
        self._fresh: dict[str, bytes] = {}
        self._variables_digest: str | None = None
        #: Sources parsed / read from the cache (for tests and the bench).
        self.parsed = 0
        self.cached = 0

    def set_variables(self, variables: dict[str, str]) -> None:
        super().set_variables(variables)
        self._variables_digest = None

    def _digest(self, key: tuple[Any, ...]) -> str:
        if self._variables_digest is None:
            variables = repr(sorted(self._variables.items()))
            self._variables_digest = hashlib.sha256(f"{TEXTUAL}\n{variables}".encode()).hexdigest()
        return hashlib.sha256(f"{self._variables_digest}\n{key!r}".encode()).hexdigest()

    def _load(self) -> dict[str, bytes]:
        if self._stored is None:
            self._stored = {}
            with contextlib.suppress(Exception):  # missing, partial, foreign: parse instead
                stored = pickle.loads(self.path.read_bytes())
                if isinstance(stored, dict):
                    self._stored = stored
        return self._stored

    def _parse_rules(
        self,
        css: str,
        read_from: Any,
        is_default_rules: bool = False,
        tie_breaker: int = 0,
        scope: str = "",
    ) -> list[RuleSet]:
        key = (css, read_from, is_default_rules, tie_breaker, scope)
        rules: list[RuleSet] | None = self._parse_cache.get(key)
        if rules is not None:
            return rules
        digest = self._digest(key)
        blob = self._load().get(digest)
        if blob is not None:
            with contextlib.suppress(Exception):
                rules = pickle.loads(blob)
            if isinstance(rules, list):
                self._parse_cache[key] = rules
                self._used.add(digest)
                self.cached += 1
                return rules
        rules = super()._parse_rules(css, read_from, is_default_rules, tie_breaker, scope)
        self.parsed += 1
        with contextlib.suppress(Exception):  # not picklable: parsed again next time
            self._fresh[digest] = pickle.dumps(rules, protocol=pickle.HIGHEST_PROTOCOL)
        return rules

    def save(self) -> None:
        """Store the rules parsed since the last save (with those read this time; entries no
        start has used are dropped). Nothing to do when every source came from the cache."""
        if not self._fresh:
            return
        stored = self._load()
        keep = {digest: stored[digest] for digest in self._used if digest in stored}
        keep.update(self._fresh)
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            partial.write_bytes(pickle.dumps(keep, protocol=pickle.HIGHEST_PROTOCOL))
            os.replace(partial, self.path)
            self._stored = keep
            self._used.update(self._fresh)
            self._fresh = {}


TEXTUAL = _textual_stamp()
