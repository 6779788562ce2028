"""The comparison in the terminal: each panel's table, verdict and unfinished runs, drawn with Rich from the same
rows and cells as the report (:mod:`rnnbench.report.rows`, :mod:`rnnbench.report.cells`)."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.table import Table

from rnnbench.report.cells import TextTable, comparison_table, panel_facts, unfinished_lines
from rnnbench.report.published import HEADING, published_table
from rnnbench.report.rows import Row, comparison, panel_rows
from rnnbench.results.panels import Panel, PanelSet

# On a terminal too narrow for every column, columns are left out in this order; a figure is never cut or wrapped.
LEAVE_OUT_FIRST = ("samples/s", "setup s", "images/s", "test acc % at best", "latency ms", "units", "runs",
                   "best epoch", "s/epoch", "params", "best val acc %")  # fmt: skip
# What a column of a Rich table takes besides its text: a space each side and its share of the borders.
COLUMN_FRAME = 3


def rich_table(table: TextTable, title: str = "", caption: str = "", narrow: bool = False) -> Table:
    """``narrow``: each column as narrow as its widest figure or word (headers wrap between words)."""
    drawn = Table(title=title or None, caption=caption or None)
    for index, (name, numeric) in enumerate(zip(table.header, table.numeric, strict=True)):
        width = _narrowest(table, index) if narrow else None
        drawn.add_column(name, justify="right" if numeric else "left", width=width)
    for row in table.rows:
        drawn.add_row(*row)
    return drawn


def _narrowest(table: TextTable, index: int) -> int:
    """The narrowest a column can be without cutting a figure or a word."""
    cells = [row[index] for row in table.rows]
    words = [word for cell in cells for word in cell.split()] if not table.numeric[index] else cells
    return max(len(item) for item in [*words, *table.header[index].split()])


def _width(table: TextTable, column_width: Callable[[TextTable, int], int]) -> int:
    return 1 + sum(column_width(table, index) + COLUMN_FRAME for index in range(len(table.header)))


def _widest(table: TextTable, index: int) -> int:
    return max(len(item) for item in [table.header[index], *(row[index] for row in table.rows)])


def fit_width(table: TextTable, width: int) -> tuple[TextTable, tuple[str, ...], bool]:
    """``table`` without the fewest low-value columns it must lose to fit ``width`` characters, the names of those
    columns, and whether its columns must be narrowed (headers wrapped) to fit."""
    left_out: list[str] = []
    if _width(table, _widest) <= width:
        return table, (), False
    for name in LEAVE_OUT_FIRST:
        if _width(table, _narrowest) <= width:
            break
        if name in table.header:
            index = table.header.index(name)
            table = TextTable(
                table.header[:index] + table.header[index + 1 :],
                tuple(row[:index] + row[index + 1 :] for row in table.rows),
                table.numeric[:index] + table.numeric[index + 1 :],
            )
            left_out.append(name)
    return table, tuple(left_out), _width(table, _widest) > width


def panel_table(panel: Panel, rows: list[Row], width: int | None = None) -> tuple[Table, tuple[str, ...]]:
    """``rows``: the comparison rows of this panel (:func:`rnnbench.report.rows.comparison`); with ``width``, only
    the columns that fit in it. Returns the table and the names of the columns left out."""
    seeds = len({run.spec.seed for run in panel.runs})
    note = " (accuracy: mean ± 95% CI half-width)" if seeds > 1 else ""
    table, narrow = comparison_table(rows), False
    left_out: tuple[str, ...] = ()
    if width is not None:
        table, left_out, narrow = fit_width(table, width)
    return rich_table(table, title=panel.title + note, caption=panel_facts(panel), narrow=narrow), left_out


def print_panels(console: Console, panels: PanelSet) -> None:
    """Every panel: its table (as many columns as the console is wide), its verdict, and a line per run without a
    result."""
    rows = comparison(panels)
    for panel in panels.panels:
        drawn, left_out = panel_table(panel, panel_rows(rows, panel), console.width)
        console.print(drawn)
        if left_out:
            console.print(f"(left out to fit {console.width} columns: {', '.join(left_out)}; a wider terminal or the "
                          "report shows them)", highlight=False)  # fmt: skip
        if (published := published_table(panel)) is not None:  # beside the measured table, never in it
            console.print(rich_table(published, title=HEADING))
        console.print(f"verdict: {panel.verdict}", highlight=False)
        for line in unfinished_lines(panel):
            console.print(line, highlight=False)
