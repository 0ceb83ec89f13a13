"""A connected account whose identity changed on the gateway: its cache is set aside.

The gateway's connected-account id (``fansly_acc_…``) names a tab; the creator behind it is
``fanslyAccountId``. When the gateway lists a cached account with another creator id (a
sandbox restarted with another seed or size, an agency re-using a slot for another creator),
the two are different worlds: their chats, fans and ids have nothing in common. Mixing them
would show one list with both worlds' chats (tab counts doubled) and send the queued replies of
one into the other.

So the cache of the old identity is moved, whole, under an account id of its own
(``<account id>~<old creator id>``), marked ``set-aside`` and named "<name> (old)": it stays
readable and searchable in its own tab, is never attached to a gateway again, and its
undelivered actions are marked failed (never sent to the new creator). The account id then
starts empty and is filled from the gateway like a new account. Nothing is deleted.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from console.store._core import Part, now_ms, one

#: ``accounts.status`` of an account whose cache was set aside.
SET_ASIDE = "set-aside"

#: Every table whose rows belong to one account (drafts follow their chats by chat id; the
#: event log and reactions are history, keyed by event and message).
_ACCOUNT_TABLES = (
    "fans",
    "chats",
    "messages",
    "fan_notes",
    "automations",
    "outbox",
    "sync_state",
    "gaps",
)
_UNDELIVERED = "('queued', 'in_flight', 'unknown')"


@dataclass(frozen=True, slots=True)
class SetAside:
    """Where an account's old cache went."""

    account_id: str  # the account that starts afresh
    aside_id: str  # the account id the old cache now lives under
    aside_name: str
    old_creator_id: str
    chats: int  # chats moved
    unsent: int  # undelivered actions marked failed


class AccountIdentity(Part):
    async def set_account_aside(self, account_id: str, reason: str) -> SetAside:
        """Move everything cached for ``account_id`` under a new, set-aside account (see the
        module); its undelivered actions fail with ``reason``."""

        def work(db: sqlite3.Connection) -> SetAside:
            row = one(
                db,
                "SELECT name, fansly_account_id FROM accounts WHERE account_id = ?",
                (account_id,),
            )
            if row is None:
                raise KeyError(f"no cached account {account_id!r}")
            name, old_creator = str(row[0]), str(row[1] or "")
            base = aside = f"{account_id}~{old_creator}"
            number = 2
            while one(db, "SELECT 1 FROM accounts WHERE account_id = ?", (aside,)) is not None:
                aside, number = f"{base}~{number}", number + 1
            aside_name = f"{name} (old)"
            db.execute(
                """INSERT INTO accounts(account_id, name, username, fansly_account_id, country,
                    status, position, updated_at)
                SELECT ?, ?, username, fansly_account_id, country, ?,
                    (SELECT MAX(position) + 1 FROM accounts), ?
                FROM accounts WHERE account_id = ?""",
                (aside, aside_name, SET_ASIDE, now_ms(), account_id),
            )
            (chats,) = one(db, "SELECT COUNT(*) FROM chats WHERE account_id = ?", (account_id,))
            for table in _ACCOUNT_TABLES:
                db.execute(
                    f"UPDATE {table} SET account_id = ? WHERE account_id = ?", (aside, account_id)
                )
            (unsent,) = one(
                db,
                f"SELECT COUNT(*) FROM outbox WHERE account_id = ? AND state IN {_UNDELIVERED}",
                (aside,),
            )
            stamp = now_ms()
            db.execute(
                f"UPDATE outbox SET state = 'failed', last_error = ?, updated_at = ? "
                f"WHERE account_id = ? AND state IN {_UNDELIVERED}",
                (reason, stamp, aside),
            )
            db.execute(
                "UPDATE messages SET state = 'failed', error = ? "
                "WHERE account_id = ? AND state = 'pending'",
                (reason, aside),
            )
            # The account starts afresh: the gateway's listing sets its new creator id.
            db.execute(
                "UPDATE accounts SET fansly_account_id = NULL, updated_at = ? WHERE account_id = ?",
                (stamp, account_id),
            )
            return SetAside(account_id, aside, aside_name, old_creator, int(chats), int(unsent))

        moved: SetAside = await self._write(work)
        self._known.creators[moved.aside_id] = moved.old_creator_id
        self._known.creators[account_id] = None
        self._known.stored.add(moved.aside_id)
        return moved


def is_set_aside(row: Any) -> bool:
    """Whether an account row (``AccountRow`` or ``Account``) is a set-aside cache."""
    return getattr(row, "status", None) == SET_ASIDE
