"""Problems the user can fix, reported by ``fansly-console`` in one line and no traceback.

A verb raises a :class:`Problem` (or a subclass, such as the cache's ``CacheProblem``) with a
message that says what is wrong and what to do; ``console.__main__`` prints it and exits with
``exit_code``. Anything else that escapes a verb is a bug and keeps its traceback.
"""

from __future__ import annotations


class Problem(Exception):
    """Something the user can put right; ``str()`` says what is wrong and what to do."""

    exit_code = 1
