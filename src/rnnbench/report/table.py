"""The comparison in the terminal: each panel's table, verdict and unfinished runs, drawn with Rich from the same
rows and cells as the report (:mod:`rnnbench.report.tables`, :mod:`rnnbench.report.text`)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from rnnbench.panels import Panel, PanelSet
from rnnbench.report import tables, text


def rich_table(table: text.TextTable, title: str = "", caption: str = "") -> Table:
    drawn = Table(title=title or None, caption=caption or None)
    for name, numeric in zip(table.header, table.numeric, strict=True):
        drawn.add_column(name, justify="right" if numeric else "left")
    for row in table.rows:
        drawn.add_row(*row)
    return drawn


def panel_table(panel: Panel, rows: list[tables.Row]) -> Table:
    """``rows``: the comparison rows of this panel (:func:`rnnbench.report.tables.comparison`)."""
    seeds = len({run.spec.seed for run in panel.runs})
    note = " (accuracy: mean ± 95% CI half-width)" if seeds > 1 else ""
    return rich_table(text.comparison_table(rows), title=panel.title + note, caption=text.panel_facts(panel))


def print_panels(console: Console, panels: PanelSet) -> None:
    """Every panel: its table, its verdict, and a line per run without a result."""
    rows = tables.comparison(panels)
    for panel in panels.panels:
        console.print(panel_table(panel, [row for row in rows if row["panel"] == panel.number]))
        console.print(f"verdict: {panel.verdict}", highlight=False)
        for line in text.unfinished_lines(panel):
            console.print(line, highlight=False)
