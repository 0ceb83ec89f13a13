"""Command palette: "jump to chat" by fan name across every account.

Fan names are untrusted, so hits are built from ``Content`` here; the stock
``Matcher.highlight`` would parse the name as markup.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from console.tui.text import clean, plain

if TYPE_CHECKING:
    from console.tui.app import ConsoleApp


class JumpToChat(Provider):
    """Open any chat by the fan's name."""

    async def search(self, query: str) -> Hits:
        app = cast("ConsoleApp", self.app)
        if not query.strip():
            return
        matcher = self.matcher(query)
        accounts = {a.account_id: a.name for a in app.source.accounts()}
        for row in await app.source.find_chats(query.strip(), 30):
            name = clean(row.fan_name, one_line=True)
            # Two fans may share a name (and a blank name shows as the username): the
            # username tells them apart.
            username = clean(row.fan_username, one_line=True)
            score, offsets = matcher.fuzzy_search.match(query, name)
            display = Content(name)
            for offset in offsets:
                display = display.stylize("reverse", offset, offset + 1)
            display = Content.assemble(
                Content("Jump to "),
                display,
                Content.styled(f"  @{username}" if username and username != name else "", "dim"),
                Content("  · "),
                plain(accounts.get(row.account_id, row.account_id), one_line=True),
            )
            yield Hit(
                max(score, 0.1),
                display,
                _opener(app, row.account_id, row.chat_id),
                text=f"Jump to {name} @{username}" if username else f"Jump to {name}",
                help="Open this chat",
            )

    async def discover(self) -> Hits:
        yield DiscoveryHit(
            "Jump to chat…",
            self.app.action_command_palette,
            help="Type a fan's name to open their chat in any account",
        )


def _opener(app: ConsoleApp, account_id: str, chat_id: str) -> Callable[[], None]:
    def open_chat() -> None:
        app.chats_screen.jump_to(account_id, chat_id)

    return open_chat
