"""Every plot draws whatever legitimate numbers a store holds: seeds that tie, a single seed, a class without test
images, 0 % and 100 % accuracy, a diverged run beside finished ones, a search's trials. Each store is a real one,
each figure is rendered to PNG and to SVG (where matplotlib checks what it was given)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from report_stores import PERFECT, TUNED, add_trials, diverged, fill, result, spec
from rnnbench.report.plots import PLOTS, svg_text
from rnnbench.report.rows import all_tables, panel_rows
from rnnbench.results.panels import read_panels

# Three classes of five test images; recalls 1/5, 2/5 and 4/5: three equal seeds average one ulp off each.
UNEVEN = [[1, 4, 0], [3, 2, 0], [0, 1, 4]]
NO_CLASS_1 = [[2, 0, 0], [0, 0, 0], [1, 1, 2]]  # no test image of class 1
ALL_WRONG = [[0, 2, 0], [0, 0, 2], [2, 0, 0]]
MODELS = ("simplernn", "gru", "lstm")


def _tied(path):
    return fill(
        path, [(result(spec(model, seed), (0.6, 0.7), 7 / 15), UNEVEN) for model in MODELS for seed in (0, 1, 2)]
    )


def _single_seed(path):
    return fill(path, [(result(spec(model, 0), (0.5, 0.6), 0.4), UNEVEN) for model in MODELS])


def _class_without_test_images(path):
    runs = [
        (result(spec(model, seed), (0.5, 0.5 + seed / 10), 0.6), NO_CLASS_1) for model in MODELS[:2] for seed in (0, 1)
    ]
    return fill(path, runs)


def _all_right_and_all_wrong(path):
    right = [(result(spec("gru", seed), (1.0, 1.0), 1.0), PERFECT) for seed in (0, 1)]
    wrong = [(result(spec("simplernn", seed), (0.0, 0.0), 0.0), ALL_WRONG) for seed in (0, 1)]
    return fill(path, right + wrong)


def _diverged_beside_finished(path):
    finished = [(result(spec("lstm", seed), (0.5, 0.6 + seed / 10), 0.5), UNEVEN) for seed in (0, 1)]
    gone = [(diverged(spec("simplernn", seed)), None) for seed in (0, 1)]
    return fill(path, [finished[0], gone[0], finished[1], gone[1], (diverged(spec("gru", 0)), None)])


def _searched(path):
    """A tuned comparison, and the trials behind it: tied, pruned, still running, at 0 % and 100 %, with learning
    rates inside one decade (where a log axis labels its minor ticks)."""
    runs = [
        (result(spec(model, seed, train=TUNED), (0.7, 0.7), 0.7), UNEVEN)
        for model in ("gru", "lstm")
        for seed in (0, 1)
    ]
    trials = [("gru", 0, "complete", 0.7, 2e-3), ("gru", 1, "complete", 0.7, 3e-3), ("gru", 2, "pruned", 0.0, 4e-3),
              ("gru", 3, "complete", 1.0, 6e-3), ("gru", 4, "running", None, 5e-3),
              ("lstm", 0, "complete", 0.0, 1.5e-3), ("lstm", 1, "complete", 0.0, 8e-3)]  # fmt: skip
    return add_trials(fill(path, runs), trials)


STORES = {store.__name__.strip("_"): store for store in (_tied, _single_seed, _class_without_test_images,
          _all_right_and_all_wrong, _diverged_beside_finished, _searched)}  # fmt: skip


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """Each store's panel set and its tables, read once."""
    found = {}
    for name, build in STORES.items():
        data = read_panels(build(tmp_path_factory.mktemp(name) / "s.db"))
        found[name] = (data, all_tables(data))
    return found


@pytest.mark.parametrize("plot", PLOTS, ids=[plot.name for plot in PLOTS])
@pytest.mark.parametrize("store", STORES)
def test_every_plot_draws_and_renders(tables, store, plot):
    data, rows = tables[store]
    for panel in data.panels:
        for index, figure in enumerate(plot.figures(panel, rows)):
            figure.savefig(io.BytesIO(), format="png", dpi=40)
            assert svg_text(figure, f"{plot.name}-{index}").startswith("<svg")


def _whiskers(figure):
    """The (bottom, top) of each error bar of a figure's first axes."""
    from matplotlib.collections import LineCollection

    segments = [s for c in figure.axes[0].collections if isinstance(c, LineCollection) for s in c.get_segments()]
    return [(min(s[:, 1]), max(s[:, 1])) for s in segments]


def test_tied_seeds_draw_whiskers_of_no_length_at_the_bars_top(tables):
    data, rows = tables["tied"]
    (panel,) = data.panels
    plot = next(plot for plot in PLOTS if plot.name == "per_class_accuracy")
    (figure,) = plot.figures(panel, rows)
    heights = sorted({round(bar.get_height(), 12) for bar in figure.axes[0].patches})
    assert heights == pytest.approx([1 / 5, 2 / 5, 4 / 5])
    whiskers = _whiskers(figure)
    assert len(whiskers) == 3 * len(MODELS)
    assert all(top - bottom <= 1e-12 for bottom, top in whiskers)


def test_a_class_without_test_images_has_no_accuracy_and_no_bar(tables):
    data, rows = tables["class_without_test_images"]
    (panel,) = data.panels
    per_class = panel_rows(rows["per_class_accuracy"], panel)
    missing = [row for row in per_class if row["class"] == 1]
    assert missing and all(row["accuracy_mean"] is None and row["n"] == 0 for row in missing)
    assert all(row["accuracy_mean"] is not None for row in per_class if row["class"] != 1)
    plot = next(plot for plot in PLOTS if plot.name == "per_class_accuracy")
    (figure,) = plot.figures(panel, rows)
    drawn = [bar.get_height() for bar in figure.axes[0].patches]
    assert sum(np.isfinite(drawn)) == 2 * 2  # two models, two classes with test images


def test_the_search_figures_are_drawn(tables):
    data, rows = tables["searched"]
    (panel,) = data.panels
    drawn = {plot.name: len(plot.figures(panel, rows)) for plot in PLOTS if plot.name.startswith("search_")}
    assert drawn == {"search_sensitivity": 1, "search_progress": 1, "search_importance": 1}


def test_the_learning_rate_axis_is_labelled_at_decades_only(tables):
    """Learning rates inside one decade: matplotlib would label the minor ticks 2, 3, 4 x 10^-3, which overlap."""
    data, rows = tables["searched"]
    (panel,) = data.panels
    plot = next(plot for plot in PLOTS if plot.name == "search_sensitivity")
    (figure,) = plot.figures(panel, rows)
    figure.draw_without_rendering()
    axis = figure.axes[0]
    low, high = axis.get_xlim()
    assert (low, high) == pytest.approx((1e-3, 1e-2))  # every trial's rate, 1.5e-3 to 8e-3, between two decades
    assert [label.get_text() for label in axis.xaxis.get_minorticklabels() if label.get_text()] == []
    labelled = [tick for tick in axis.get_xticks() if low <= tick <= high]
    assert labelled == pytest.approx([1e-3, 1e-2])
