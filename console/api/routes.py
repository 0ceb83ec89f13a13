"""Every gateway route the console calls, written once (docs/gateway-contract.md).

A drift in the provider (a renamed path, a payload that stops nesting) is a one-line change in
:data:`ROUTES`. The client never spells a path anywhere else, and the sandbox's fault
injection uses the same route names.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal
from urllib.parse import quote

Method = Literal["GET", "POST", "DELETE"]


class Standing(StrEnum):
    """How sure we are that the provider really has this route with this shape."""

    DOCUMENTED = "documented"
    ASSUMED = "assumed"  # the route exists; (part of) its shape is our assumption
    EMULATOR_ONLY = "emulator-only"  # the provider has no such route; only the sandbox does


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    method: Method
    path: str  # relative to the base URL; ``{placeholders}`` are filled and escaped by ``url``
    #: Safe to resend after a timeout or a 5xx: a second copy changes nothing.
    idempotent: bool
    #: The payload sits in the §3.2 layer (``data.data.response``) rather than in ``data``.
    nested: bool
    standing: Standing = Standing.DOCUMENTED

    def url(self, **params: str) -> str:
        """The path with every placeholder filled; each value is escaped as one segment."""
        names = {field for _, field, _, _ in string.Formatter().parse(self.path) if field}
        missing = names - params.keys()
        if missing:
            raise ValueError(f"route {self.name} needs {', '.join(sorted(missing))}")
        return self.path.format(**{k: quote(str(v), safe="") for k, v in params.items()})


_D, _A, _E = Standing.DOCUMENTED, Standing.ASSUMED, Standing.EMULATOR_ONLY

#: name → route. The numbers are those of the table in docs/gateway-contract.md.
ROUTES: dict[str, Route] = {
    r.name: r
    for r in (
        Route("list_accounts", "GET", "/accounts", True, False, _A),  # 1
        Route("me", "GET", "/{account_id}/me", True, True),  # 2
        Route("list_chats", "GET", "/{account_id}/chats", True, True),  # 3
        Route("unread_chats", "GET", "/{account_id}/chats/unread", True, True, _A),  # 4
        Route("get_chat", "GET", "/{account_id}/chats/{chat_id}", True, True, _E),  # 5
        Route("list_messages", "GET", "/{account_id}/chats/{chat_id}/messages", True, True),  # 6
        Route("send_message", "POST", "/{account_id}/chats/{chat_id}/messages", False, True),  # 7
        Route(
            "unsend_message", "DELETE", "/{account_id}/messages/{message_id}", True, True, _A
        ),  # 23
        Route("like_message", "POST", "/{account_id}/messages/like", True, True),  # 8
        Route("unlike_message", "POST", "/{account_id}/messages/unlike", True, True),  # 8
        Route("pin_message", "POST", "/{account_id}/messages/pin", True, True, _A),  # 9
        Route("unpin_message", "POST", "/{account_id}/messages/unpin", True, True, _A),  # 9
        Route("mute_chat", "POST", "/{account_id}/chats/mute", True, True),  # 10
        Route("unmute_chat", "POST", "/{account_id}/chats/unmute", True, True),  # 10
        Route("typing", "POST", "/{account_id}/chats/typing", True, True),  # 11
        Route("read_receipts", "POST", "/{account_id}/chats/{chat_id}/readreceipts", True, True),
        Route("list_subscribers", "GET", "/{account_id}/subscribers", True, True),  # 13
        Route("accounts_by_ids", "GET", "/accounts/by-ids", True, True, _A),  # 14
        Route("fan_earnings", "GET", "/{account_id}/earnings/fans/{fan_id}", True, True, _A),
        Route(
            "fan_earnings_stats",
            "GET",
            "/{account_id}/earnings/fans/{fan_id}/stats",
            True,
            True,
            _A,
        ),  # 16
        Route("fan_tips", "GET", "/{account_id}/chats/{fan_id}/tips", True, True, _A),  # 17
        Route("add_to_list", "POST", "/{account_id}/lists/users", True, True),  # 18
        Route("remove_from_list", "DELETE", "/{account_id}/lists/users", True, True),  # 18
        Route("list_lists", "GET", "/{account_id}/lists", True, True, _E),  # 19
        Route("list_automated", "GET", "/{account_id}/automated-messages", True, True),  # 20
        Route(
            "create_automated", "POST", "/{account_id}/automated-messages", False, True, _A
        ),  # 21
        Route(
            "delete_automated",
            "DELETE",
            "/{account_id}/automated-messages/{rule_id}",
            True,
            True,
        ),  # 22
        Route("vault_albums", "GET", "/{account_id}/vault/albums", True, True, _A),  # 24
        Route(
            "vault_media", "GET", "/{account_id}/vault/albums/{album_id}/media", True, True, _A
        ),  # 25
    )
}


def route(name: str) -> Route:
    return ROUTES[name]
