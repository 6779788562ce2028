"""Figures: each plot draws from its table, and inlines as scalable SVG with ids of its own and no outside links."""

from __future__ import annotations

import re

import pytest

from report_stores import HALF, PERFECT, fill, result, spec
from rnnbench.report.plots import PLOTS, save_png, svg_text
from rnnbench.report.rows import all_tables
from rnnbench.results.panels import read_panels


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    runs = [(result(spec(model, seed), (0.5, 0.6 + seed / 10), 0.5 + seed / 10), PERFECT if seed else HALF)
            for model in ("lstm", "gru") for seed in (0, 1)]  # fmt: skip
    data = read_panels(fill(tmp_path_factory.mktemp("plots") / "s.db", runs))
    (panel,) = data.panels
    tables = all_tables(data)
    return {plot.name: plot.figures(panel, tables) for plot in PLOTS}


def test_every_plot_draws(drawn):
    assert {name: len(figures) for name, figures in drawn.items()} == {
        "learning_curves": 1, "accuracy_vs_params": 1, "accuracy_vs_time": 1, "epoch_times": 1,
        "confusion": 2, "per_class_accuracy": 1, "sequence_view": 1,
        # a comparison no search tuned has no search figures (tests/test_search_tune.py draws them)
        "search_sensitivity": 0, "search_progress": 0, "search_importance": 0,
    }  # fmt: skip


def test_the_learning_curve_plots_the_tables_means(drawn):
    (figure,) = drawn["learning_curves"]
    lines = {line.get_label(): line for line in figure.axes[0].get_lines()}
    assert list(lines["lstm"].get_xdata()) == [1, 2]
    assert list(lines["lstm"].get_ydata()) == pytest.approx([0.5, 0.65])


def test_svg_is_inline_ready(drawn):
    svgs = [svg_text(figure, f"figure-{index}") for index, figure in enumerate(drawn["confusion"])]
    for svg in svgs:
        assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
        opening = svg[: svg.index(">")]
        assert "viewBox=" in opening and " width=" not in opening and " height=" not in opening
        assert "<metadata>" not in svg and "<text" not in svg  # glyphs are paths: no font is needed
        assert not re.search(r'href="(?!#|data:image/png;base64,)', svg)
    first, second = (set(re.findall(r'id="([^"]+)"', svg)) for svg in svgs)
    assert first and not first & second  # one page holds several figures: ids must not collide


def test_png_for_markdown(drawn, tmp_path):
    path = save_png(drawn["per_class_accuracy"][0], tmp_path / "figures" / "per-class.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
