"""Search every account's cached history as you type (no network needed).

Results name the account, the fan and the time, with the matching words highlighted in a
plain-text snippet; Enter opens the chat at that message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from console.tui.source import ConsoleSource, SearchResult
from console.tui.text import ago, clean, plain, utcnow
from console.tui.zone import local

LIMIT = 50
#: Typing pauses shorter than this do not start a query (the previous one is cancelled).
DEBOUNCE = 0.08


def snippet_content(result: SearchResult, width: int = 200) -> Content:
    """The snippet as plain text with its highlights styled (offsets survive ``clean``
    because the store's snippets are already one clean line)."""
    text = result.text
    cleaned = clean(text, one_line=True)
    if cleaned != text:
        # Offsets would no longer match: show the text without highlights, never garbled.
        return Content(cleaned[:width])
    content = Content(text[:width])
    for start, end in result.highlights:
        if start < width:
            content = content.stylize("bold $search-highlight underline", start, min(end, width))
    return content


class SearchScreen(ModalScreen[SearchResult | None]):
    """ctrl+f or /: type, move with ↑/↓, Enter opens the chat at the message."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="search.close", tooltip="Close the search"),
        Binding(
            "down",
            "results",
            "Results",
            show=False,
            id="search.results",
            tooltip="Move from the query to the results",
        ),
        Binding(
            "ctrl+t",
            "search_team",
            "Search the team server",
            show=False,
            id="search.team",
            tooltip="Team mode: search the team server for hits beyond this machine's cache",
        ),
    ]

    def __init__(
        self,
        source: ConsoleSource,
        accounts: dict[str, str],
        *,
        query: str = "",
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__()
        self.source = source
        self.accounts = accounts
        self.clock = clock
        self.initial = query
        self.results: list[SearchResult] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="search-box"):
            yield Static(
                Content.styled("Search every account's history (works offline)", "bold"),
                id="search-title",
            )
            yield Input(
                value=self.initial,
                placeholder="words… (the last one may be a prefix)",
                id="search-query",
            )
            yield Static(id="search-count")
            yield OptionList(id="search-results")
            help_text = "enter opens the chat at the message · esc closes"
            if getattr(self.app, "team", None) is not None:
                help_text += " · ctrl+t searches the team server"
            yield Static(Content.styled(help_text, "$text-muted"), id="search-help")

    def on_mount(self) -> None:
        self.query_one("#search-query", Input).focus()
        if self.initial:
            self._search(self.initial)

    @on(Input.Changed, "#search-query")
    def _changed(self, event: Input.Changed) -> None:
        self._search(event.value)

    @work(group="search", exclusive=True, exit_on_error=False)
    async def _search(self, query: str) -> None:
        if not query.strip():
            self._show([], "")
            return
        await asyncio.sleep(DEBOUNCE)
        self._show(await self.source.search(query, LIMIT), query)

    def _show(self, results: list[SearchResult], query: str) -> None:
        self.results = results
        options = self.query_one("#search-results", OptionList)
        options.clear_options()
        options.add_options([Option(self._prompt(r)) for r in results])
        if results:
            options.highlighted = 0
        count = "" if not query.strip() else f"{len(results)} found"
        if len(results) >= LIMIT:
            count = f"the newest {LIMIT} shown"
        since = getattr(results, "since", None)
        if since is not None:
            # A lone letter reads only the newest messages (a bounded cost at any cache size).
            count = (
                f"{len(results)} found in messages since {local(since):%d %b %Y %H:%M}"
                " · type another letter to search everything"
            )
        self.query_one("#search-count", Static).update(Content.styled(count, "$text-muted"))

    def _prompt(self, result: SearchResult) -> Content:
        account = self.accounts.get(result.account_id, result.account_id)
        ago_text = ago(result.created_at, self.clock())
        when = f"{local(result.created_at):%d %b %H:%M} ({ago_text} ago)"
        head = Content.assemble(
            plain(account, one_line=True, style="$text-muted"),
            Content.styled(" · ", "$text-muted"),
            plain(result.fan_name or "fan", one_line=True, style="bold"),
            Content.styled(f" · {when}", "$text-muted"),
            Content.styled(" · you wrote" if result.from_creator else "", "italic"),
        )
        return Content("\n").join([head, snippet_content(result)])

    @on(Input.Submitted, "#search-query")
    def _submitted(self) -> None:
        options = self.query_one("#search-results", OptionList)
        if options.highlighted is not None and self.results:
            self.dismiss(self.results[options.highlighted])

    @on(OptionList.OptionSelected, "#search-results")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if 0 <= event.option_index < len(self.results):
            self.dismiss(self.results[event.option_index])

    def action_results(self) -> None:
        options = self.query_one("#search-results", OptionList)
        if self.results:
            options.focus()

    def action_close(self) -> None:
        self.dismiss(None)

    @work(group="search-team", exclusive=True, exit_on_error=False)
    async def action_search_team(self) -> None:
        """Team mode: the server's hits are copied into the cache (so they stay found offline),
        then the cache is searched again; the server gone, the cache's results stay."""
        team = getattr(self.app, "team", None)
        query = self.query_one("#search-query", Input).value.strip()
        count = self.query_one("#search-count", Static)
        if team is None or not query:
            return
        count.update(Content.styled("asking the team server…", "$text-muted"))
        found = await team.search_server(query)
        results = await self.source.search(query, LIMIT)
        self._show(results, query)
        said = (
            "the team server cannot be reached: this machine's cache is shown"
            if found is None
            else f"{len(results)} found · the team server had {found}"
        )
        count.update(Content.styled(said, "$text-muted"))
