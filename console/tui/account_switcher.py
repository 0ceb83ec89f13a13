"""Many accounts (issue 16): which accounts a chatter's console shows and in what order, and
the account switcher.

An agency's chatter works 20 to 100 creator accounts: nine ``alt+digit`` keys do not reach
them. ``g`` opens the switcher: every account with its unread count and group; typing filters
by a fuzzy match on the name or the username (the letters in order, not necessarily side by
side: "lvr" finds "Luna Rivers"); ``Enter`` shows the first match. With nothing typed the
accounts with unread messages come first, most unread first, so ``g`` ``Enter`` reaches the
account that needs the chatter most.

``[accounts]`` in the config hides accounts from this console and groups the rest: tabs go
group by group (in the config's order, then the accounts in no group), and the switcher names
each account's group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from console.tui.text import clean

#: Tab labels longer than this end in "…" (a whole word is kept when one fits).
TAB_NAME_MAX = 24


def _names(account: Any) -> set[str]:
    """The ways a config names an account: its id, name and username (case-insensitive)."""
    names = {account.account_id, account.name, getattr(account, "username", None) or ""}
    return {n.casefold() for n in names if n}


@dataclass(frozen=True)
class AccountLayout:
    """``[accounts]``: hidden accounts and groups, matched by id, name or username."""

    hidden: tuple[str, ...] = ()
    groups: Mapping[str, Sequence[str]] | None = None

    def shown(self, accounts: Sequence[Any]) -> list[Any]:
        """The accounts this console shows, group by group, in tab order within a group."""
        hidden = {h.casefold() for h in self.hidden}
        visible = [a for a in accounts if not (_names(a) & hidden)]
        if not self.groups:
            return visible
        order = {name: i for i, name in enumerate(self.groups)}
        return sorted(visible, key=lambda a: order.get(self.group_of(a) or "", len(order)))

    def visible(self, account: Any) -> bool:
        return not (_names(account) & {h.casefold() for h in self.hidden})

    def group_of(self, account: Any) -> str | None:
        names = _names(account)
        for group, members in (self.groups or {}).items():
            if names & {m.casefold() for m in members}:
                return group
        return None


def tab_name(name: str) -> str:
    """An account's name for its tab: one clean line, cut at a word when it is long."""
    text = clean(name, one_line=True)
    if len(text) <= TAB_NAME_MAX:
        return text
    cut = text[: TAB_NAME_MAX - 1]
    if " " in cut[TAB_NAME_MAX // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip() + "…"


def fuzzy_score(query: str, text: str) -> int | None:
    """How well ``query``'s letters match ``text`` in order (higher is better), ``None`` when
    they do not. A match at the start of a word and consecutive letters score more."""
    query, text = query.casefold().strip(), text.casefold()
    if not query:
        return 0
    if query in text:
        return 1000 - text.index(query) + (500 if text.startswith(query) else 0)
    score, at, previous = 0, 0, -2
    for char in query:
        if char == " ":
            continue
        found = text.find(char, at)
        if found < 0:
            return None
        score += 10 if found == previous + 1 else 1
        if found == 0 or not text[found - 1].isalnum():
            score += 5
        previous, at = found, found + 1
    return score


@dataclass(frozen=True)
class AccountChoice:
    account_id: str
    name: str
    username: str
    unread: int
    group: str | None
    position: int


def ranked(choices: Sequence[AccountChoice], query: str) -> list[AccountChoice]:
    """The switcher's list for ``query``: best matches first; with no query, unread first."""
    if not query.strip():
        return sorted(choices, key=lambda c: (-c.unread, c.position))
    scored = []
    for choice in choices:
        scores = [fuzzy_score(query, choice.name), fuzzy_score(query, choice.username)]
        best = max((s for s in scores if s is not None), default=None)
        if best is not None:
            scored.append((-best, choice.position, choice))
    return [choice for *_, choice in sorted(scored, key=lambda item: item[:2])]


class AccountSwitcher(ModalScreen[str | None]):
    """``g``: type a few letters of an account's name or username, ``Enter`` shows it."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="switcher.close", tooltip="Close the switcher"),
        Binding("down", "move(1)", "Down", show=False, id="switcher.down"),
        Binding("up", "move(-1)", "Up", show=False, id="switcher.up"),
    ]

    DEFAULT_CSS = """
    AccountSwitcher { align: center top; }
    AccountSwitcher > #switcher-box {
        width: 70; max-width: 100%; height: auto; max-height: 80%;
        margin-top: 2; border: round $accent; background: $surface; padding: 0 1;
    }
    AccountSwitcher OptionList { height: auto; max-height: 24; border: none; }
    """

    def __init__(self, choices: Sequence[AccountChoice]) -> None:
        super().__init__()
        self.choices = list(choices)
        self.shown: list[AccountChoice] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="switcher-box"):
            yield Static(Content.styled("Go to account", "bold"))
            yield Input(placeholder="name or @username", id="switcher-query", compact=True)
            yield OptionList(id="switcher-list")

    def on_mount(self) -> None:
        self._fill("")
        self.query_one(Input).focus()

    @on(Input.Changed, "#switcher-query")
    def _changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def _fill(self, query: str) -> None:
        self.shown = ranked(self.choices, query)
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(self._label(c), id=c.account_id) for c in self.shown])
        if self.shown:
            options.highlighted = 0

    @staticmethod
    def _label(choice: AccountChoice) -> Content:
        parts: list[Content | str] = [Content(clean(choice.name, one_line=True)[:40])]
        if choice.username:
            parts.append(Content.styled(f"  @{clean(choice.username, one_line=True)}", "dim"))
        if choice.group:
            parts.append(Content.styled(f"  [{clean(choice.group, one_line=True)}]", "italic"))
        if choice.unread:
            parts.append(Content.styled(f"  {choice.unread} unread", "bold $text-accent"))
        return Content.assemble(*parts)

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            current = options.highlighted or 0
            options.highlighted = max(0, min(options.option_count - 1, current + step))

    @on(Input.Submitted, "#switcher-query")
    def _submitted(self) -> None:
        options = self.query_one(OptionList)
        index = options.highlighted
        if index is None or index >= len(self.shown):
            self.notify("No account matches.", markup=False)
            return
        self.dismiss(self.shown[index].account_id)

    @on(OptionList.OptionSelected, "#switcher-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_close(self) -> None:
        self.dismiss(None)
