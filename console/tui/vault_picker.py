"""The vault picker (``ctrl+g`` in a chat): vault media for the message being written.

Albums (``ctrl+o`` steps through them), a fuzzy filter as you type, ``tab`` ticks items (several
may be ticked), and for each item whether it was already sent to this fan (``✓ sent``) and
whether the fan bought it (``$ bought``), from the cache. Enter goes on to the price: empty
sends the media free, a price of $1-500 (the reference's rule, checked as it is typed) makes
it a PPV; ``ctrl+r`` marks the item under the cursor as the PPV's free preview. Enter again
hands the choice to the composer; the message goes out with the composer's text on Enter there.

The vault is read from the cache at once and fetched from the gateway once per session (the
first time the picker opens for an account), then shown again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from console.api.errors import ApiError
from console.store.rows import MediaMarks, VaultAlbumRow, VaultItem
from console.tui.fuzzy import FuzzyIndex
from console.tui.key_order import caught_up
from console.tui.pick_list import PickList
from console.tui.text import clean, plain

if TYPE_CHECKING:
    from rich.segment import Segment

    from console.tui.source import ConsoleSource


@dataclass(frozen=True, slots=True)
class MediaChoice:
    """What the chatter picked: vault items, and a price (``None``: free media)."""

    media_ids: tuple[str, ...]
    #: One label per item (the composer's summary).
    labels: tuple[str, ...] = ()
    price_dollars: float | None = None
    preview_id: str | None = None

    def summary(self) -> str:
        kinds: dict[str, int] = {}
        for label in self.labels:
            kind = label.split(" ")[1] if " " in label else "media"
            kinds[kind] = kinds.get(kind, 0) + 1
        parts = [f"{n} {kind}{'s' if n > 1 else ''}" for kind, n in kinds.items()]
        text = "📎 " + ", ".join(parts or [f"{len(self.media_ids)} items"])
        if self.price_dollars is not None:
            text += f" · PPV ${self.price_dollars:,.2f}"
        else:
            text += " · free"
        if self.preview_id:
            text += " · 1 preview"
        return text


def size_text(size: int) -> str:
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB"
    return f"{max(1, size // 1000)} kB"


def parse_price(text: str) -> tuple[float | None, str | None]:
    """The price typed (``None``: free) and what is wrong with it (``None``: nothing)."""
    from console.api.models import ppv_price_problem

    raw = text.strip().lstrip("$").strip().replace(",", "")
    if not raw:
        return None, None
    try:
        price = float(raw)
    except ValueError:
        return None, "the price is a number of dollars, like 15 or 14.99"
    return price, ppv_price_problem(price)


#: Accounts whose vault was fetched from the gateway in this session (once is enough).
_FETCHED: set[str] = set()


class VaultPicker(ModalScreen[MediaChoice | None]):
    """Pick vault media (and a price) for the open chat's message."""

    DEFAULT_CSS = """
    VaultPicker { align: center middle; }
    #vault-box {
        width: 90%; height: 90%; border: round $accent; background: $surface;
        padding: 0 1;
    }
    #vault-title { text-style: bold; }
    #vault-albums { color: $text-muted; }
    #vault-filter, #vault-price { border: none; height: 1; padding: 0 1; }
    #vault-price-row { height: 1; }
    #vault-price-label { width: auto; }
    #vault-price { width: 14; }
    #vault-price-problem { color: $text-error; width: 1fr; padding-left: 1; }
    #vault-status, #vault-help { color: $text-muted; }
    """

    BINDINGS: ClassVar = [
        Binding("escape", "back", "Back", id="vault.back", tooltip="Back, or close the vault"),
        Binding("up", "move(-1)", "Up", show=False, priority=True, id="vault.up"),
        Binding("down", "move(1)", "Down", show=False, priority=True, id="vault.down"),
        Binding("pageup", "move(-10)", "Page up", show=False, priority=True, id="vault.pageup"),
        Binding("pagedown", "move(10)", "Page down", show=False, priority=True, id="vault.pgdn"),
        Binding(
            "tab", "tick", "Tick", priority=True, id="vault.tick", tooltip="Tick or untick the item"
        ),
        Binding(
            "ctrl+o",
            "album",
            "Album",
            priority=True,
            id="vault.album",
            tooltip="Show the next album (All first)",
        ),
        Binding(
            "ctrl+r",
            "preview",
            "Preview",
            priority=True,
            id="vault.preview",
            tooltip="Make the item under the cursor the PPV's free preview (again: none)",
        ),
        Binding(
            "enter",
            "next",
            "Next",
            priority=True,
            id="vault.next",
            tooltip="Go on to the price; on the price, attach the media to the message",
        ),
    ]

    def __init__(
        self,
        source: ConsoleSource,
        account_id: str,
        chat_id: str,
        fan_name: str,
        chosen: MediaChoice | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self.account_id = account_id
        self.chat_id = chat_id
        self.fan_name = fan_name
        self.chosen = chosen
        self.albums: list[VaultAlbumRow] = []
        self.items: list[VaultItem] = []
        self.album_index = 0  # 0: every album
        self.marks = MediaMarks()
        self.preview_id: str | None = chosen.preview_id if chosen else None
        self._index = FuzzyIndex([])
        self._album_rows: list[int] = []
        self.loaded = False
        self._shown_query = ""  # the filter the list shows (the field may be ahead of it)

    def compose(self) -> ComposeResult:
        with Vertical(id="vault-box"):
            yield Static(
                Content.assemble(
                    Content.styled("Vault", "bold"),
                    Content(" · for "),
                    plain(self.fan_name, one_line=True),
                ),
                id="vault-title",
            )
            yield Static("", id="vault-albums", markup=False)
            yield Input(
                placeholder="filter: type a title, a kind (photo, video)…", id="vault-filter"
            )
            yield PickList(self._line, id="vault-list")
            yield Static("Reading the vault…", id="vault-status", markup=False)
            with Horizontal(id="vault-price-row"):
                yield Static("Price $ ", id="vault-price-label")
                yield Input(
                    value=(
                        f"{self.chosen.price_dollars:g}"
                        if self.chosen and self.chosen.price_dollars is not None
                        else ""
                    ),
                    placeholder="free",
                    id="vault-price",
                )
                yield Static("", id="vault-price-problem", markup=False)
            yield Static(
                "type to filter · tab ticks · ctrl+o album · ctrl+r preview · "
                "enter: price, then attach · esc back",
                id="vault-help",
                markup=False,
            )

    def on_mount(self) -> None:
        self.query_one("#vault-filter", Input).focus()
        self._load()

    # -- data --------------------------------------------------------------------------------

    @work(group="vault", exclusive=True, exit_on_error=False)
    async def _load(self) -> None:
        self.marks = await self.source.media_marks(self.account_id, self.chat_id)
        self.albums, self.items = await self.source.vault(self.account_id)
        self._index_items()
        if self.items:
            self._show()
        if self.account_id in _FETCHED:
            return
        if not self.items:
            self._status("Fetching the vault from the gateway (the first time only)…")
        try:
            await self.source.refresh_vault(self.account_id)
        except ApiError as exc:
            if not self.items:
                self._status(f"The vault is not cached and the gateway cannot be reached: {exc}")
            return
        _FETCHED.add(self.account_id)
        self.albums, self.items = await self.source.vault(self.account_id)
        self._index_items()
        self._show()

    def _index_items(self) -> None:
        if self.chosen is not None:
            wanted = set(self.chosen.media_ids)
            ticked = {i for i, item in enumerate(self.items) if item.media_id in wanted}
            self.query_one(PickList).ticked = ticked
        self._select_album()

    def _select_album(self) -> None:
        album = self.albums[self.album_index - 1].album_id if self.album_index else None
        self._album_rows = [
            i for i, item in enumerate(self.items) if album is None or item.album_id == album
        ]
        self._index = FuzzyIndex(
            [f"{self.items[i].title} {self.items[i].kind}" for i in self._album_rows]
        )

    def _show(self) -> None:
        self.loaded = True
        query = self._shown_query = self.query_one("#vault-filter", Input).value
        matches = self._index.filter(query)
        shown = [self._album_rows[i] for i in matches]
        self.query_one(PickList).show(self.items, shown)
        names = [f"All {len(self.items)}"] + [f"{a.title} {a.item_count}" for a in self.albums]
        parts = [f"[{name}]" if n == self.album_index else name for n, name in enumerate(names)]
        self.query_one("#vault-albums", Static).update(clean(" · ".join(parts), one_line=True))
        self._status()

    def _status(self, problem: str | None = None) -> None:
        status = self.query_one("#vault-status", Static)
        if problem:
            status.update(clean(problem, one_line=True))
            return
        picks = self.query_one(PickList)
        ticked = len(picks.ticked)
        text = f"{len(picks.shown)} shown · {ticked} ticked"
        if self.preview_id:
            preview = next((i for i in self.items if i.media_id == self.preview_id), None)
            if preview is not None:
                text += f" · preview: {preview.title}"
        status.update(clean(text, one_line=True))

    def _line(self, item: VaultItem, ticked: bool, width: int) -> list[Segment]:
        from console.api.models import media_label

        tick = "[x] " if ticked else "[ ] "
        label = clean(media_label(item.kind, item.title, item.duration_s), one_line=True)
        styles = self.query_one(PickList).line_styles
        marks: list[tuple[str, Style | None]] = []
        if item.media_id == self.preview_id:
            marks.append(("  👁 preview", styles.get("muted")))
        if item.media_id in self.marks.bought:
            marks.append(("  $ bought", styles.get("good")))
        elif item.media_id in self.marks.sent:
            marks.append(("  ✓ sent", styles.get("warn")))
        size = f"  {size_text(item.size_bytes)}"
        from rich.cells import cell_len, set_cell_size
        from rich.segment import Segment

        # Cells, not characters: the kind's emoji is two cells wide.
        room = max(0, width - len(tick) - cell_len(size) - sum(cell_len(t) for t, _ in marks))
        return [
            Segment(tick),
            Segment(set_cell_size(label, room)),
            Segment(size, styles.get("muted")),
            *(Segment(t, s) for t, s in marks),
        ]

    # -- keys -----------------------------------------------------------------------------

    @on(Input.Changed, "#vault-filter")
    def _filter_changed(self) -> None:
        if self.loaded and self.query_one("#vault-filter", Input).value != self._shown_query:
            self._show()

    async def _caught_up(self) -> None:
        """The keys typed before the one being handled are in the fields, and the list is
        filtered by them (console/tui/key_order.py): "beach⏎" ticks a beach photo."""
        await caught_up(self)
        self._filter_changed()

    @on(Input.Changed, "#vault-price")
    def _price_changed(self, event: Input.Changed) -> None:
        _price, problem = parse_price(event.value)
        self.query_one("#vault-price-problem", Static).update(problem or "")

    async def action_move(self, step: int) -> None:
        await self._caught_up()
        self.query_one(PickList).move(step)

    async def action_tick(self) -> None:
        await self._caught_up()
        picks = self.query_one(PickList)
        picks.toggle()
        picks.move(1)
        self._status()

    async def action_album(self) -> None:
        await self._caught_up()
        self.album_index = (self.album_index + 1) % (len(self.albums) + 1)
        self._select_album()
        self._show()

    async def action_preview(self) -> None:
        await self._caught_up()
        index = self.query_one(PickList).current
        if index is None:
            return
        media_id = self.items[index].media_id
        self.preview_id = None if self.preview_id == media_id else media_id
        self.query_one(PickList).refresh()
        self._status()

    def action_back(self) -> None:
        price = self.query_one("#vault-price", Input)
        if self.focused is price:
            self.set_focus(self.query_one("#vault-filter", Input))
        else:
            self.dismiss(None)

    async def action_next(self) -> None:
        await self._caught_up()
        picks = self.query_one(PickList)
        price = self.query_one("#vault-price", Input)
        if self.focused is not price:
            if not picks.ticked and picks.current is not None:
                picks.ticked.add(picks.current)
                picks.refresh()
                self._status()
            # Now, not by ``focus()``: that is queued behind the keys read after Enter (a
            # price typed ahead went into the filter).
            self.set_focus(price)
            return
        value, problem = parse_price(price.value)
        if problem:
            self.query_one("#vault-price-problem", Static).update(problem)
            self.app.bell()
            return
        ticked = sorted(picks.ticked)
        if not ticked:
            self.dismiss(MediaChoice(()))  # nothing ticked: the message carries no media
            return
        from console.api.models import media_label

        items = [self.items[i] for i in ticked]
        preview = self.preview_id if value is not None else None
        self.dismiss(
            MediaChoice(
                tuple(i.media_id for i in items),
                tuple(media_label(i.kind, i.title, i.duration_s) for i in items),
                value,
                preview if preview not in {i.media_id for i in items} else None,
            )
        )
