"""The HTML report of a tiny real sweep: every table and figure is there, and its numbers are the store's."""

from __future__ import annotations

import re

import pytest

from report_pages import ReportPage, rows_by_first_cell, store_numbers
from rnnbench.report.plots import PLOTS


@pytest.fixture(scope="module")
def page(tiny_sweep) -> ReportPage:
    return ReportPage((tiny_sweep.report / "report.html").read_text())


def test_every_table_and_figure_is_present(page):
    assert set(page.tables) == {"comparison", "pairwise", "runs", "settings"}
    # the search's figures belong to tuned comparisons only (tests/test_search_tune.py)
    assert set(page.figures) == {plot.name for plot in PLOTS if not plot.name.startswith("search_")}
    assert all(count >= 1 for count in page.figures.values())
    assert page.figures["confusion"] == 2  # one matrix per model


def test_the_comparison_table_shows_the_stores_numbers(page, tiny_sweep):
    shown = rows_by_first_cell(page.tables["comparison"])
    expected = store_numbers(tiny_sweep.store)
    assert list(shown) == ["simplernn", "gru"]
    for model, numbers in expected.items():
        row = shown[model]
        assert row["params"] == f"{numbers['params']:,}"
        assert row["runs"] == "2"
        assert row["test acc %"] == f"{100 * numbers['mean']:.2f} ± {100 * numbers['half_width']:.2f}"
        assert row["s/epoch"] == f"{numbers['seconds_per_epoch']:.3g}"
        assert row["samples/s"] == f"{numbers['samples_per_second']:,.0f}"
        assert row["latency ms"] == f"{numbers['latency_ms']:.3g}"
        assert row["images/s"] == f"{numbers['images_per_second']:,.0f}"
        epochs = sorted(numbers["epochs"])
        # The tiny sweep trains 2 epochs: best at the last on most seeds marks the model as still improving.
        marker = " ↑" if 2 * epochs.count(2) > len(epochs) else ""
        assert row["best epoch"] in (f"{epochs[0]}{marker}",
                                     f"{(epochs[0] + epochs[1]) / 2:g} [{epochs[0]}-{epochs[1]}]{marker}")  # fmt: skip


def test_the_verdict_and_the_runs_are_shown(page, tiny_sweep):
    html = (tiny_sweep.report / "report.html").read_text()
    assert "Verdict:</strong> best: " in html
    runs = page.tables["runs"]
    assert len(runs) == 1 + 4 and all(row[2] == "finished" for row in runs[1:])


def test_the_page_is_self_contained(page, tiny_sweep):
    """No scripts, no stylesheet or image links: the only references are in-page anchors and inline images."""
    assert "script" not in page.tags and "link" not in page.tags
    assert all(source.startswith(("#", "data:image/png;base64,")) for source in page.sources), page.sources
    html = (tiny_sweep.report / "report.html").read_text()
    assert "@media print" in html and 'name="viewport"' in html
    assert "http://" not in html.replace("http://www.w3.org/", "")  # SVG namespaces are names, not requests
    assert "https://" not in html


def test_element_ids_are_unique_on_the_page(tiny_sweep):
    ids = re.findall(r'\bid="([^"]+)"', (tiny_sweep.report / "report.html").read_text())
    assert ids and len(ids) == len(set(ids))
