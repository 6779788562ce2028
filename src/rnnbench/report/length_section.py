"""The "Sequence length" section of a report, from the rows of :func:`rnnbench.report.lengths.sequence_length`: its
table (terminal, HTML, Markdown) and its two figures, test accuracy and time per epoch against the number of steps.

The figures are few (two per group of panels) and quick to draw, so they are drawn in this process each time, not
cached as the panels' figures are; like those, they reach the report folder only once the whole report rendered.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from rich.console import Console
from rich.table import Table

from rnnbench.files import replace_atomically
from rnnbench.report.cells import TextTable, accuracy_cell
from rnnbench.report.lengths import TABLE, Row, group_rows, sequence_length
from rnnbench.report.plots import STYLE, _error_bars, _figure, _legend, _percent_axis, svg_text
from rnnbench.results.panels import PanelSet

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

SECTION_ID = "sequence-length"
DODGE = 1.03
FIGURES_FOLDER = "figures"
NOTE = (
    "One row per model and view of panels that differ only by their view. Test accuracy: mean ± half-width of the "
    "95 % Student-t confidence interval over the finished seeds (the mean alone for one); s/epoch: each run's median "
    "epoch (validation included), mean over the runs with a result."
)


def length_table(rows: list[Row]) -> TextTable:
    """One group's rows as the text every output shows."""
    header = ("model", "view", "steps", "features", "params", "runs", "test acc %", "s/epoch")
    cells = []
    for row in rows:
        runs = str(row["finished"])
        if row["runs"] > row["finished"]:
            runs += f" + {row['runs'] - row['finished']} diverged"
        seconds = row["seconds_per_epoch_mean"]
        params = "-" if row["params"] is None else f"{row['params']:,}"
        cells.append((row["model"], row["view"], str(row["steps"]), str(row["features"]), params, runs,
                      accuracy_cell(row), "-" if seconds is None else f"{seconds:.3g}"))  # fmt: skip
    return TextTable(header, tuple(cells), (False, False) + (True,) * (len(header) - 2))


def group_title(rows: list[Row]) -> str:
    """The title of one group: the data set and the protocol its panels share."""
    return str(rows[0]["group"])


def print_lengths(console: Console, data: PanelSet) -> None:
    """A table per group of panels that read the same images at several lengths (nothing where there is none)."""
    for rows in group_rows(sequence_length(data)).values():
        table = length_table(rows)
        drawn = Table(title=f"Sequence length: {group_title(rows)}", caption=NOTE)
        for name, numeric in zip(table.header, table.numeric, strict=True):
            drawn.add_column(name, justify="right" if numeric else "left")
        for cells in table.rows:
            drawn.add_row(*cells)
        console.print(drawn)


def _colours(rows: list[Row]) -> dict[str, Any]:
    """One colour per model, in the order of the rows."""
    from matplotlib import colormaps

    palette = colormaps["tab10"].colors  # type: ignore[attr-defined]  # a ListedColormap
    models = dict.fromkeys(row["model"] for row in rows)
    return {model: palette[index % len(palette)] for index, model in enumerate(models)}


def _split_at_repeated_lengths(rows: list[Row]) -> tuple[list[Row], list[Row]]:
    """A model's rows on its line (the first view of each length) and the others (a second view of the same length,
    such as permuted beside pixels), which are drawn as points off the line."""
    seen: set[int] = set()
    on_line: list[Row] = []
    apart: list[Row] = []
    for row in rows:
        (apart if row["steps"] in seen else on_line).append(row)
        seen.add(row["steps"])
    return on_line, apart


def _length_axis(axis: Axes, rows: list[Row]) -> None:
    """A log axis of steps, labelled at the lengths of the group with the views that read them."""
    from matplotlib.ticker import NullFormatter, NullLocator

    views: dict[int, list[str]] = {}
    for row in rows:
        views.setdefault(row["steps"], [])
        if row["view"] not in views[row["steps"]]:
            views[row["steps"]].append(row["view"])
    axis.set_xscale("log")
    axis.set_xticks(sorted(views), [f"{steps}\n{' / '.join(views[steps])}" for steps in sorted(views)])
    axis.xaxis.set_minor_locator(NullLocator())
    axis.xaxis.set_minor_formatter(NullFormatter())
    axis.set_xlabel("sequence length (steps)")
    low, high = min(views), max(views)
    axis.set_xlim(low / 1.4, high * 1.4)  # room for the end points and their labels


def accuracy_against_length(rows: list[Row]) -> Figure | None:
    """Mean test accuracy per model against the number of steps, with its 95 % interval."""
    if all(row["test_accuracy_mean"] is None for row in rows):
        return None
    figure = _figure()
    axis = figure.subplots()
    colours = _colours(rows)
    for index, (model, colour) in enumerate(colours.items()):
        on_line, apart = _split_at_repeated_lengths([row for row in rows if row["model"] == model])
        # Each model a little to the side of the others (a ratio, on the log axis), so equal intervals stay apart.
        dodge = DODGE ** (index - (len(colours) - 1) / 2)
        for points, joined in ((on_line, True), (apart, False)):
            if points:
                means, spread = _error_bars(*_accuracy_columns(points))
                axis.errorbar([row["steps"] * dodge for row in points], means, yerr=spread, color=colour, marker="o",
                              markersize=5, capsize=3, linewidth=1.6, linestyle="-" if joined else "none",
                              mfc=colour if joined else "none", label=model if joined else None)  # fmt: skip
    _length_axis(axis, rows)
    axis.set_ylabel("test accuracy")
    _percent_axis(axis)
    axis.grid(alpha=0.3)
    _legend(figure, axis)
    return figure


def _accuracy_columns(rows: list[Row]) -> tuple[list[Any], list[Any], list[Any]]:
    """Means and interval ends; an interval from few seeds can reach past 0 or 1, which no accuracy does, so the
    figure draws it up to those bounds."""
    keys = ("test_accuracy_mean", "test_accuracy_ci95_low", "test_accuracy_ci95_high")
    means, lows, highs = ([row[key] for row in rows] for key in keys)
    lows = [None if low is None else max(low, 0.0) for low in lows]
    highs = [None if high is None else min(high, 1.0) for high in highs]
    return means, lows, highs


def time_against_length(rows: list[Row]) -> Figure | None:
    """Mean seconds per epoch per model against the number of steps, both axes logarithmic."""
    from matplotlib.ticker import FuncFormatter

    timed = [row for row in rows if row["seconds_per_epoch_mean"] and row["seconds_per_epoch_mean"] > 0]
    if not timed:
        return None
    figure = _figure()
    axis = figure.subplots()
    for model, colour in _colours(rows).items():
        on_line, apart = _split_at_repeated_lengths([row for row in timed if row["model"] == model])
        for points, joined in ((on_line, True), (apart, False)):
            if points:
                axis.plot([row["steps"] for row in points], [row["seconds_per_epoch_mean"] for row in points],
                          color=colour, marker="o", markersize=5, linestyle="-" if joined else "none",
                          mfc=colour if joined else "none", label=model if joined else None)  # fmt: skip
    _length_axis(axis, rows)
    axis.set_yscale("log")
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    axis.yaxis.set_major_formatter(plain)
    axis.yaxis.set_minor_formatter(plain)  # a range within a decade is labelled at minor ticks only
    axis.set_ylabel("seconds per epoch (mean over seeds)")
    axis.grid(alpha=0.3, which="both")
    _legend(figure, axis)
    return figure


@dataclass(frozen=True)
class LengthPlot:
    """A figure of the section: its file name, heading, what it shows, and how to draw it from a group's rows."""

    name: str
    title: str
    caption: str
    draw: Callable[[list[Row]], Figure | None]


LENGTH_PLOTS = (
    LengthPlot("accuracy_vs_length", "Test accuracy against sequence length",
               "Mean over seeds with its 95 % confidence interval; steps on a log axis, labelled with the views that "
               "read the images at that length (a hollow point: a second view of the same length).",
               accuracy_against_length),
    LengthPlot("epoch_time_vs_length", "Time per epoch against sequence length",
               "Each run's median epoch, mean over seeds; both axes logarithmic, so a cost that grows in proportion "
               "to the length is a line of slope one.", time_against_length),
)  # fmt: skip


@dataclass(frozen=True)
class LengthFigures:
    """The section's figures by group number and plot name: inline SVGs, the PNGs' paths in the report folder, and
    the PNG files' bytes by those paths (written by :func:`install_length_figures`)."""

    svgs: dict[int, dict[str, str]] = field(default_factory=dict)
    pngs: dict[int, dict[str, str]] = field(default_factory=dict)
    png_bytes: dict[str, bytes] = field(default_factory=dict)


def render_length_figures(rows: list[Row], svg: bool, png: bool) -> LengthFigures:
    """Every group's figures, as SVG texts (``svg``) and PNG bytes (``png``), written nowhere yet."""
    drawn = LengthFigures()
    if not (svg or png):
        return drawn
    import matplotlib

    for number, group in group_rows(rows).items():
        for plot in LENGTH_PLOTS:
            with matplotlib.rc_context(STYLE):  # type: ignore[arg-type]  # keys checked by matplotlib at run time
                figure = plot.draw(group)
            if figure is None:
                continue
            name = f"length{number}-{plot.name}"
            if svg:
                drawn.svgs.setdefault(number, {})[plot.name] = svg_text(figure, name)
            if png:
                relative = f"{FIGURES_FOLDER}/{name}.png"
                drawn.pngs.setdefault(number, {})[plot.name] = relative
                drawn.png_bytes[relative] = _png_bytes(figure)
    return drawn


def _png_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    return buffer.getvalue()


def install_length_figures(drawn: LengthFigures, out: Path) -> None:
    """Write the PNGs of ``drawn`` into the report folder ``out``."""
    for relative, content in drawn.png_bytes.items():
        replace_atomically(out / relative, _writer(content))


def _writer(content: bytes) -> Callable[[BinaryIO], object]:
    return lambda file: file.write(content)


def section_rows(tables: Mapping[str, list[Row]]) -> dict[int, list[Row]]:
    """The section's rows by group (none: the report has no section)."""
    return group_rows(tables.get(TABLE, []))
