"""The account's automated messages (welcome, thanks for a tip, ...) as the gateway last
listed them."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from console.store._core import Part

if TYPE_CHECKING:
    from console.api.models import AutomatedMessage


class Automations(Part):
    """The cached automation rules of each account."""

    async def replace(self, account_id: str, rules: Sequence[AutomatedMessage]) -> None:
        """Replace the cached automation rules of an account with the gateway's list."""

        def work(db: sqlite3.Connection) -> Any:
            db.execute("DELETE FROM automations WHERE account_id = ?", (account_id,))
            db.executemany(
                "INSERT INTO automations(account_id, position, rule_json) VALUES (?, ?, ?)",
                [(account_id, index, rule.model_dump_json()) for index, rule in enumerate(rules)],
            )

        await self._write(work)

    async def rules(self, account_id: str) -> list[AutomatedMessage]:
        rows = await self._read(
            "SELECT rule_json FROM automations WHERE account_id = ? ORDER BY position",
            (account_id,),
        )
        from console.api.models import AutomatedMessage

        return [AutomatedMessage.model_validate_json(row[0]) for row in rows]
