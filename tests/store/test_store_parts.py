"""The store is parts over one core: the product reaches them by their public names only, and
the store's delegates are its parts' own methods."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from support.store import ACCOUNT, account, chat, message

from console.store import Store

ROOT = Path(__file__).resolve().parents[2]
# An expression that is a store or part of one: `store`, `self.store`, `workspace.store.core`.
_STORE_LIKE = re.compile(r"(^|\.)(store|_store)(\.|$)")


def _private_uses(path: Path, root: Path = ROOT) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Attribute):
            continue
        name = node.attr
        if not name.startswith("_") or name.startswith("__"):
            continue
        owner = ast.unparse(node.value)
        if _STORE_LIKE.search(owner):
            found.append(f"{path.relative_to(root)}:{node.lineno}: {owner}.{name}")
    return sorted(found)


def test_nothing_outside_the_store_reaches_its_private_names() -> None:
    # The product only; the store's own white-box tests and the benches look inside on purpose.
    paths = [p for p in (ROOT / "console").rglob("*.py") if "store" not in p.parts]
    assert len(paths) > 50
    assert [use for path in paths for use in _private_uses(path)] == []


def test_the_check_sees_a_private_use(tmp_path: Path) -> None:
    planted = tmp_path / "engine.py"
    planted.write_text(
        "async def f(self, workspace):\n"
        "    await self.store._read_one('x')\n"
        "    workspace.store.core._writer.submit(print)\n"
        "    self._store._write(print)\n"
        "    self.restore._x, self.store.__class__\n"  # neither is the store's private name
    )
    assert _private_uses(planted, tmp_path) == [
        "engine.py:2: self.store._read_one",
        "engine.py:3: workspace.store.core._writer",
        "engine.py:4: self._store._write",
    ]


async def test_the_store_s_delegates_are_its_parts_methods(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "cache.sqlite3") as store:
        assert store.chats == store.queries.chats
        assert store.apply_event == store.events.apply_event
        assert store.upsert_chats == store.writes.upsert_chats
        assert Store.chats.__doc__ == store.queries.chats.__doc__
        # Through either name, one and the same cache.
        await store.upsert_accounts([account()])
        await store.writes.upsert_chats(ACCOUNT, [chat(last=message("m1", minutes=1))])
        assert [c.chat_id for c in await store.chats(ACCOUNT)] == ["c1"]
        assert await store.queries.count_chats(ACCOUNT) == 1
