"""A DataTable whose rows are replaced on every refresh while the cursor stays on the same row."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

Cell = Text | str
Item = TypeVar("Item")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    right: bool = False  # numbers are right-aligned
    flex: bool = False  # takes the width the other columns leave (at most one per table)


FLEX_MIN = 12  # a flexible column is never narrower than this
PADDING = 2  # a DataTable cell has one column of padding either side


class LiveTable(DataTable[Cell]):
    """Rows keyed by id; `show_rows` swaps them all and keeps the cursor on the row it was on.

    A flexible column (Column.flex) gets the width the others leave, measured on every show and
    resize, so the table uses the terminal it has: long names or errors are cut only when they must.
    """

    BINDINGS = [
        Binding("enter", "select_cursor", "Open", id="open", tooltip="Open the selected row"),
        Binding("home", "first_row", "First", show=False, id="first_row", tooltip="The first row"),
        Binding("end", "last_row", "Last", show=False, id="last_row", tooltip="The last row"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, cursor_foreground_priority="renderable")
        self._columns_shown: tuple[Column, ...] = ()
        self._row_cells: dict[str, tuple[Cell, ...]] = {}
        self._last_rows: list[tuple[str, Sequence[Cell]]] = []
        self.row_keys: list[str] = []

    def on_resize(self) -> None:
        self.refit()

    def refit(self) -> None:
        """Draw the rows again for a new size (Textual runs every class's on_resize: override this)."""
        if self._last_rows and any(column.flex for column in self._columns_shown):
            self.show_rows(self._last_rows)  # the flexible column takes the new width

    def set_columns(self, columns: Sequence[Column]) -> None:
        """Use these columns (rebuilding the table only when they changed)."""
        wanted = tuple(columns)
        if wanted == self._columns_shown:
            return
        self.clear(columns=True)
        self.row_keys = []
        self._row_cells = {}
        for column in wanted:
            self.add_column(Text(column.label, justify="right" if column.right else "left"), key=column.key)
        self._columns_shown = wanted

    @property
    def columns_shown(self) -> tuple[Column, ...]:
        return self._columns_shown

    def action_first_row(self) -> None:
        if self.row_keys:
            self.move_cursor(row=0, animate=False)

    def action_last_row(self) -> None:
        if self.row_keys:
            self.move_cursor(row=len(self.row_keys) - 1, animate=False)

    def flex_width(self, rows: Sequence[Sequence[Cell]]) -> int:
        """The width the flexible column gets: what the table has, less every other column at the
        width of its widest cell or label."""
        # Room for the vertical scrollbar is kept whether it shows or not: it appears once the rows
        # are in, and a width measured before that would overflow by its column.
        scrollbar = self.styles.scrollbar_size_vertical
        available = self.content_region.width - scrollbar
        if self.content_region.width <= 0:  # not laid out yet: the whole screen, less border and scrollbar
            available = self.app.size.width - 2 - scrollbar
        used = 0
        for index, column in enumerate(self._columns_shown):
            if not column.flex:
                used += max([len(column.label), *(_width(cells[index]) for cells in rows)]) + PADDING
        return max(FLEX_MIN, available - used - PADDING)

    def fit_rows(self, rows: Sequence[tuple[str, Sequence[Cell]]]) -> list[tuple[str, Sequence[Cell]]]:
        """`rows` with each flexible cell cut (with an ellipsis) to the width the others leave."""
        flex = [i for i, column in enumerate(self._columns_shown) if column.flex]
        if not flex or not rows:
            return list(rows)
        width = self.flex_width([cells for _, cells in rows])
        return [
            (key, [_cut(cell, width) if i in flex else cell for i, cell in enumerate(cells)]) for key, cells in rows
        ]

    def show_rows(self, rows: Sequence[tuple[str, Sequence[Cell]]]) -> None:
        """Show these rows (the flexible column fitted). The same rows in the same order are updated
        in place (scroll and cursor untouched); otherwise the table is rebuilt and the cursor follows
        its row's key."""
        self._last_rows = list(rows)
        rows = self.fit_rows(rows)
        keys = [key for key, _ in rows]
        if keys == self.row_keys:
            for key, cells in rows:
                for column, cell, before in zip(self._columns_shown, cells, self._row_cells[key], strict=True):
                    if _signature(cell) != _signature(before):
                        self.update_cell(key, column.key, cell, update_width=True)
                self._row_cells[key] = tuple(cells)
            return
        selected = self.selected_key
        index = self.cursor_row
        self.clear()
        self.row_keys = keys
        self._row_cells = {key: tuple(cells) for key, cells in rows}
        for key, cells in rows:
            self.add_row(*cells, key=key)
        if selected in keys:
            index = keys.index(selected)
        if keys:
            self.move_cursor(row=min(max(index, 0), len(keys) - 1), animate=False)

    @property
    def selected_key(self) -> str | None:
        """The key of the row under the cursor, or None for an empty table."""
        if not self.row_keys or not 0 <= self.cursor_row < len(self.row_keys):
            return None
        return self.row_keys[self.cursor_row]


class ItemTable(LiveTable, Generic[Item]):
    """A LiveTable whose rows each show one item (a queue, a worker, a failure, a job)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.items: dict[str, Item] = {}  # by row key, in row order

    def show_items(
        self,
        columns: Sequence[Column],
        items: Iterable[Item],
        key: Callable[[Item], str],
        row: Callable[[Item], Sequence[Cell]],
    ) -> None:
        """Show one row per item: `row` builds its cells once `columns` are in place."""
        self.set_columns(columns)
        self.items = {key(item): item for item in items}
        self.show_rows([(row_key, row(item)) for row_key, item in self.items.items()])

    @property
    def selected(self) -> Item | None:
        """The item under the cursor, or None for an empty table."""
        key = self.selected_key
        return self.items.get(key) if key else None


def number(value: int | str, style: str = "") -> Text:
    """A right-aligned cell."""
    return Text(str(value), style=style, justify="right")


def _width(cell: Cell) -> int:
    return cell.cell_len if isinstance(cell, Text) else cell_len(cell)


def _cut(cell: Cell, width: int) -> Cell:
    """`cell` no wider than `width`, an ellipsis marking the cut."""
    if _width(cell) <= width:
        return cell
    text = cell.copy() if isinstance(cell, Text) else Text(cell)
    text.truncate(width, overflow="ellipsis")
    return text


def _signature(cell: Cell) -> tuple[str, str, str]:
    """What a cell looks like (rich's Text equality ignores the base style)."""
    if isinstance(cell, Text):
        return cell.plain, str(cell.style), repr(cell.spans)
    return cell, "", ""
