"""The report's figures, drawn from the rows of :mod:`rnnbench.report.rows` (so each plot shows its table's numbers).

Figures are plain :class:`matplotlib.figure.Figure` objects (no pyplot, no global state); :func:`svg_text` turns one
into inline SVG for HTML and :func:`save_png` into a PNG for Markdown.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rnnbench.data.views import get_view
from rnnbench.files import replace_atomically
from rnnbench.report.rows import Row, curve_metric, panel_rows
from rnnbench.report.view_plot import view_figure
from rnnbench.results.panels import Panel
from rnnbench.results.store import TrialState

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

Tables = dict[str, list[Row]]
# Inches: small enough that a phone, shrinking a figure to its width, keeps the text legible.
WIDE = (5.2, 3.6)
SQUARE = (4.4, 3.8)
VIEW = (7.5, 3.7)
STYLE: dict[str, Any] = {
    "font.size": 11,
    "axes.titlesize": 11,
    "legend.fontsize": 10,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
}
MAX_ANNOTATED_CLASSES = 12
LOG_RATIO = 10


def _colours(panel: Panel) -> dict[str, Any]:
    """One colour per model, the same in every plot of the panel."""
    from matplotlib import colormaps

    palette = colormaps["tab10"].colors  # type: ignore[attr-defined]  # a ListedColormap
    return {summary.model: palette[index % len(palette)] for index, summary in enumerate(panel.summary)}


def _figure(size: tuple[float, float] = WIDE) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=size, layout="constrained")


def _percent_axis(axis: Axes, which: str = "y") -> None:
    from matplotlib.ticker import PercentFormatter

    # Decimals as the ticks need them: a tick at 62.5 % must not read 62 %.
    (axis.yaxis if which == "y" else axis.xaxis).set_major_formatter(PercentFormatter(xmax=1.0))


def _legend(figure: Figure, axis: Axes) -> None:
    """Models in a row above the plot, where they cover no data."""
    handles, labels = axis.get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside upper center", ncols=min(len(labels), 4), frameon=False)


def _integer_epochs(axis: Axes) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.xaxis.set_major_locator(MaxNLocator(integer=True))


def _columns(rows: list[Row], *keys: str) -> list[list[Any]]:
    return [[row[key] for row in rows] for key in keys]


def _band(means: list[Any], lows: list[Any], highs: list[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Means and the band around them as floats (None: NaN, drawn as nothing), the band widened to hold its mean:
    the mean of equal values can land an ulp outside their range, and a spread below zero fails to draw."""
    mean, low, high = (np.array(values, dtype=float) for values in (means, lows, highs))
    return mean, np.fmin(low, mean), np.fmax(high, mean)


def _error_bars(means: list[Any], lows: list[Any], highs: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Bar heights and their error bars' lengths below and above, never negative; none where a value is unknown."""
    mean, low, high = _band(means, lows, highs)
    return mean, np.nan_to_num(np.stack([mean - low, high - mean]), nan=0.0)


def learning_curves(panel: Panel, tables: Tables) -> Figure | None:
    rows = panel_rows(tables["learning_curves"], panel)
    if not rows:
        return None
    figure = _figure()
    axis = figure.subplots()
    for model, colour in _colours(panel).items():
        points = [row for row in rows if row["model"] == model]
        if not points:
            continue
        epochs = [row["epoch"] for row in points]
        mean, low, high = _band(*_columns(points, "mean", "low", "high"))
        axis.plot(epochs, mean, color=colour, label=model, linewidth=1.8)
        if max(row["n"] for row in points) > 1:
            axis.fill_between(epochs, low, high, color=colour, alpha=0.2, linewidth=0)
    metric = rows[0]["metric"].replace("_", " ").replace("val ", "validation ")
    _integer_epochs(axis)
    axis.set_xlabel("epoch")
    axis.set_ylabel(metric)
    _percent_axis(axis)
    axis.grid(alpha=0.3)
    _legend(figure, axis)
    return figure


def _scatter_against(panel: Panel, tables: Tables, x_field: str, x_label: str, log_x: bool) -> Figure | None:
    rows = [row for row in panel_rows(tables["runs"], panel) if row["test_accuracy"] is not None]
    if not rows:
        return None
    figure = _figure()
    axis = figure.subplots()
    for model, colour in _colours(panel).items():
        points = [row for row in rows if row["model"] == model]
        if not points:
            continue
        xs = np.array([row[x_field] for row in points], dtype=float)
        ys = np.array([row["test_accuracy"] for row in points], dtype=float)
        axis.scatter(xs, ys, color=colour, alpha=0.6, s=30, linewidths=0)
        axis.scatter([xs.mean()], [ys.mean()], color=colour, s=80, marker="D", edgecolors="black", label=model)
    axis.set_xlabel(x_label)
    axis.set_ylabel("test accuracy")
    if log_x:
        axis.set_xscale("log")
    _percent_axis(axis)
    axis.grid(alpha=0.3)
    _legend(figure, axis)
    return figure


def accuracy_vs_params(panel: Panel, tables: Tables) -> Figure | None:
    return _scatter_against(panel, tables, "params", "parameters", log_x=False)


def accuracy_vs_time(panel: Panel, tables: Tables) -> Figure | None:
    return _scatter_against(panel, tables, "train_seconds", "training time (s; building and compiling apart)",
                            log_x=False)  # fmt: skip


def epoch_times(panel: Panel, tables: Tables) -> Figure | None:
    from matplotlib.ticker import FuncFormatter

    rows = panel_rows(tables["epochs"], panel)
    if not rows:
        return None
    figure = _figure()
    axis = figure.subplots()
    for model, colour in _colours(panel).items():
        by_epoch: dict[int, list[float]] = {}
        for row in rows:
            if row["model"] == model:
                by_epoch.setdefault(row["epoch"], []).append(row["seconds"])
        if by_epoch:
            epochs = sorted(by_epoch)
            axis.plot(epochs, [float(np.mean(by_epoch[e])) for e in epochs], marker="o", markersize=3,
                      color=colour, label=model)  # fmt: skip
    _integer_epochs(axis)
    axis.set_xlabel("epoch")
    axis.set_ylabel("seconds (mean over seeds)")
    seconds = [row["seconds"] for row in rows if row["seconds"] > 0]
    if seconds and max(seconds) > LOG_RATIO * min(seconds):
        axis.set_yscale("log")  # the first epoch's compilation would flatten every other epoch to the axis
        axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    else:
        axis.set_ylim(bottom=0)
    axis.grid(alpha=0.3)
    _legend(figure, axis)
    return figure


def confusion_matrices(panel: Panel, tables: Tables) -> list[Figure]:
    """One figure per model, so that a narrow screen shows them one under the other at a legible size."""
    rows = panel_rows(tables["confusion"], panel)
    if not rows:
        return []
    classes = max(row["true"] for row in rows) + 1
    figures = []
    for model in _colours(panel):
        cells = [row for row in rows if row["model"] == model]
        if not cells:
            continue
        counts = np.zeros((classes, classes))
        for row in cells:
            counts[row["true"], row["predicted"]] = row["count"]
        totals = counts.sum(axis=1, keepdims=True)
        share = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
        figure = _figure(SQUARE)
        axis = figure.subplots()
        shown = axis.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
        if classes <= MAX_ANNOTATED_CLASSES:
            for (true, predicted), count in np.ndenumerate(counts):
                if count:
                    ink = "white" if share[true, predicted] > 0.6 else "black"
                    axis.text(predicted, true, f"{count:.0f}", ha="center", va="center", fontsize=8, color=ink)
            axis.set_xticks(range(classes))
            axis.set_yticks(range(classes))
        axis.set_title(f"{model} (seed {cells[0]['seed']})")
        axis.set_xlabel("predicted class")
        axis.set_ylabel("true class")
        figure.colorbar(shown, ax=axis, label="share of the true class", shrink=0.85)
        figures.append(figure)
    return figures


def per_class_accuracy(panel: Panel, tables: Tables) -> Figure | None:
    rows = panel_rows(tables["per_class_accuracy"], panel)
    models = [model for model in _colours(panel) if any(row["model"] == model for row in rows)]
    if not models:
        return None
    classes = max(row["class"] for row in rows) + 1
    figure = _figure((max(WIDE[0], 0.45 * classes * max(1, len(models)) / 2), WIDE[1]))
    axis = figure.subplots()
    width = 0.8 / len(models)
    colours = _colours(panel)
    for index, model in enumerate(models):
        points = sorted((row for row in rows if row["model"] == model), key=lambda row: row["class"])
        positions = np.array([row["class"] for row in points]) - 0.4 + width * (index + 0.5)
        means, spread = _error_bars(*_columns(points, "accuracy_mean", "accuracy_low", "accuracy_high"))
        axis.bar(positions, means, width=width, color=colours[model], label=model)
        if max(row["n"] for row in points) > 1:
            axis.errorbar(positions, means, yerr=spread, fmt="none", ecolor="black", elinewidth=0.8, capsize=1.5)
    axis.set_xticks(range(classes))
    axis.set_xlabel("class")
    axis.set_ylabel("test accuracy on the class")
    axis.set_ylim(0, 1.05)
    _percent_axis(axis)
    axis.grid(axis="y", alpha=0.3)
    _legend(figure, axis)
    return figure


def sequence_view(panel: Panel, tables: Tables) -> Figure | None:
    if panel.dataset is None or panel.dataset.example is None:
        return None
    image = panel.dataset.example
    view = get_view(panel.data.view, panel.data.permutation_seed)
    title = f"{panel.data.name}, a training image (class {panel.dataset.example_label})"
    return view_figure(image, view, title, size=VIEW)


def search_sensitivity(panel: Panel, tables: Tables) -> Figure | None:
    """Each trial's validation accuracy (at its last epoch) against its peak learning rate, per model: how sensitive
    each cell is."""
    rows = [row for row in panel_rows(tables["trials"], panel) if row["val_accuracy"] is not None]
    if not rows:
        return None
    figure = _figure()
    axis = figure.subplots()
    for model, colour in _search_colours(panel).items():
        for state, face in ((TrialState.COMPLETE, colour), (TrialState.PRUNED, "none")):
            points = [row for row in rows if row["model"] == model and row["state"] == state]
            if points:
                axis.scatter([row["learning_rate"] for row in points], [row["val_accuracy"] for row in points],
                             s=36, facecolors=face, edgecolors=colour,
                             label=model if state == TrialState.COMPLETE else None)  # fmt: skip
    _decade_axis(axis, [row["learning_rate"] for row in rows])
    axis.set_xlabel("peak learning rate")
    axis.set_ylabel("validation accuracy, last epoch")
    _percent_axis(axis)
    axis.grid(alpha=0.3)
    _legend(figure, axis)
    return figure


def _decade_axis(axis: Axes, values: list[float]) -> None:
    """A log x axis from a decade to a decade, labelled at decades only: matplotlib labels the minor ticks (2, 3, 4 x
    10^-3, ...) of a range inside about one decade, and their labels run into each other."""
    from matplotlib.ticker import LogLocator, NullFormatter

    axis.set_xscale("log")
    exponents = np.log10([value for value in values if value > 0])
    if exponents.size:
        # A little room, so that a point on a decade is not cut in half by the axis.
        axis.set_xlim(10 ** np.floor(exponents.min() - 0.02), 10 ** np.ceil(exponents.max() + 0.02))
    axis.xaxis.set_major_locator(LogLocator(base=10))
    axis.xaxis.set_minor_formatter(NullFormatter())


def search_progress(panel: Panel, tables: Tables) -> Figure | None:
    """The best validation accuracy of the finished trials so far against the trial number, per model."""
    rows = panel_rows(tables["trials"], panel)
    if not rows:
        return None
    figure = _figure()
    axis = figure.subplots()
    for model, colour in _search_colours(panel).items():
        best, xs, ys = None, [], []
        for row in sorted((row for row in rows if row["model"] == model), key=lambda row: row["trial"]):
            if row["state"] == TrialState.COMPLETE and row["val_accuracy"] is not None:
                best = row["val_accuracy"] if best is None else max(best, row["val_accuracy"])
            if best is not None:
                xs.append(row["trial"])
                ys.append(best)
        axis.step(xs, ys, where="post", color=colour, label=model)
    axis.set_xlabel("trial")
    axis.set_ylabel("best validation accuracy so far")
    _percent_axis(axis)
    axis.grid(alpha=0.3)
    _legend(figure, axis)
    return figure


def search_importance(panel: Panel, tables: Tables) -> Figure | None:
    """Each hyperparameter's importance (fANOVA) per model, as grouped bars."""
    rows = panel_rows(tables["importance"], panel)
    if not rows:
        return None
    models = list(_search_colours(panel))
    names = sorted({row["hyperparameter"] for row in rows})
    figure = _figure()
    axis = figure.subplots()
    width = 0.8 / max(1, len(models))
    for index, (model, colour) in enumerate(_search_colours(panel).items()):
        shares = {row["hyperparameter"]: row["importance"] for row in rows if row["model"] == model}
        positions = np.arange(len(names)) + (index - (len(models) - 1) / 2) * width
        axis.barh(positions, [shares.get(name, 0.0) for name in names], height=width, color=colour, label=model)
    axis.set_yticks(np.arange(len(names)), [name.replace("_", " ") for name in names])
    axis.set_xlabel("share of the variance explained")
    axis.grid(alpha=0.3, axis="x")
    _legend(figure, axis)
    return figure


def _search_colours(panel: Panel) -> dict[str, Any]:
    """The panel's model colours, by the name its trials use (the model's registered name)."""
    colours = _colours(panel)
    by_name: dict[str, Any] = {}
    for trial in panel.trials:
        label = next((label for label in colours if label == trial.model or label.startswith(f"{trial.model} ")),
                     None)  # fmt: skip
        if label is not None:
            by_name.setdefault(trial.model, colours[label])
    return by_name


@dataclass(frozen=True)
class Plot:
    """A figure of the report: its file name, heading, what it shows, and how to draw it for a panel."""

    name: str
    title: str
    caption: str
    draw: Callable[[Panel, Tables], Figure | list[Figure] | None]
    # Raise it when the figures change in a way the drawing function's own source does not show (a helper it calls),
    # so that reports drawn before draw them again; see rnnbench.report.figures.
    version: int = 1
    # The heading when the panel's runs had no validation set, for plots that then draw training accuracy instead.
    title_without_validation: str | None = None

    def heading(self, panel: Panel) -> str:
        if self.title_without_validation is not None and curve_metric(panel) == "train_accuracy":
            return self.title_without_validation
        return self.title

    def figures(self, panel: Panel, tables: Tables) -> list[Figure]:
        """The plot's figures for ``panel`` (several for per-model plots, none where there is nothing to show)."""
        import matplotlib

        with matplotlib.rc_context(STYLE):  # type: ignore[arg-type]  # keys checked by matplotlib at run time
            drawn = self.draw(panel, tables)
        if drawn is None:
            return []
        return drawn if isinstance(drawn, list) else [drawn]


PLOTS = (
    Plot("learning_curves", "Validation accuracy per epoch",
         "Mean over seeds; the band spans the lowest to the highest seed.", learning_curves,
         title_without_validation="Training accuracy per epoch (no validation set)"),
    Plot("accuracy_vs_params", "Test accuracy against parameters",
         "Small points: runs; diamonds: the mean over seeds.", accuracy_vs_params),
    Plot("accuracy_vs_time", "Test accuracy against training time",
         "Training time of each run (all epochs, validation included; building the model and compiling its programs "
         "apart); diamonds: the mean over seeds.",
         accuracy_vs_time),
    Plot("epoch_times", "Time per epoch",
         "Seconds per epoch, mean over seeds (on JAX the programs are compiled before the first epoch; on other "
         "backends the first epoch includes compilation).", epoch_times),
    Plot("confusion", "Confusion matrices",
         "Each model's best run (highest validation accuracy), final weights, on the test set; cells: counts, "
         "colour: share of the true class.", confusion_matrices),
    Plot("per_class_accuracy", "Test accuracy per class",
         "Mean over finished runs; whiskers span the lowest to the highest seed.", per_class_accuracy),
    Plot("sequence_view", "The sequence view",
         "A training image and the time step at which the view reads each pixel.", sequence_view),
    Plot("search_sensitivity", "Search: validation accuracy against learning rate",
         "One point per trial of the search that tuned each model (filled: trained to the end; hollow: pruned, at "
         "the epoch it stopped): how sensitive each cell is to its learning rate.", search_sensitivity),
    Plot("search_progress", "Search: best validation accuracy so far",
         "The best validation accuracy of the finished trials against the trial number, per model: whether the "
         "budget was enough.", search_progress),
    Plot("search_importance", "Search: hyperparameter importance",
         "fANOVA over each model's finished trials: the share of the variance of validation accuracy that each "
         "hyperparameter explains.", search_importance),
)  # fmt: skip


def svg_text(figure: Figure, salt: str) -> str:
    """The figure as an ``<svg>`` element to inline in HTML: text drawn as paths (no fonts needed), scalable.

    ``salt`` prefixes the element ids of this figure, to keep them distinct from those of the page's other figures.
    """
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": salt}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, count=1, flags=re.S)  # RDF boilerplate, not the figure
    # Glyphs, markers and clip paths have ids; prefix them so that ids stay unique on a page of several figures.
    ids = set(re.findall(r'\bid="([^"]+)"', text))
    text = re.sub(r'\bid="([^"]+)"', lambda match: f'id="{salt}-{match.group(1)}"', text)
    text = re.sub(
        r'(href="#|url\(#)([^")]+)',
        lambda match: match.group(1) + (f"{salt}-{match.group(2)}" if match.group(2) in ids else match.group(2)),
        text,
    )
    # A fixed size in points would overflow a phone screen: keep the viewBox, let CSS set the width.
    return re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 preserveAspectRatio="xMidYMid meet"', text,
                  count=1)  # fmt: skip


def save_png(figure: Figure, path: Path) -> Path:
    replace_atomically(path, lambda file: figure.savefig(file, format="png", dpi=110, metadata={"Software": None}))
    return path
