"""The Sequence length section: which panels it groups, its numbers, its figures, and where the report shows them."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from rich.console import Console

from report_stores import DATA, HALF, PERFECT, TRAIN, TUNED, diverged, fill, result, spec
from rnnbench.report.length_section import accuracy_against_length, print_lengths, time_against_length
from rnnbench.report.lengths import group_rows, length_groups, sequence_length
from rnnbench.report.write import write_report
from rnnbench.results.panels import read_panels

ROWS, PIXELS, PATCHES = (dataclasses.replace(DATA, view=view) for view in ("rows", "pixels", "patches:2"))


def _runs(data, accuracies, models=("lstm", "gru"), seeds=(0, 1), train=TRAIN):
    """A finished run per model and seed; ``accuracies[model]`` is the test accuracy of seed 0 (seed s: + s/100).
    Epochs take 1 s at rows, 2 s at patches:2 and 8 s at 64 steps (the median of each run's two epochs)."""
    seconds = {"rows": 1.0, "patches:2": 2.0}.get(data.view, 8.0)
    return [
        (result(spec(model, seed, data, train), (0.5, 0.6), accuracies[model] + seed / 100, (seconds, seconds)),
         PERFECT)
        for model in models
        for seed in seeds
    ]  # fmt: skip


@pytest.fixture
def three_lengths(tmp_path):
    """lstm and gru read by rows, patches:2 and pixels (8 x 8 digits: 8, 16 and 64 steps), stored pixels first."""
    runs = (_runs(PIXELS, {"lstm": 0.6, "gru": 0.3}) + _runs(ROWS, {"lstm": 0.9, "gru": 0.8})
            + _runs(PATCHES, {"lstm": 0.8, "gru": 0.7}))  # fmt: skip
    return read_panels(fill(tmp_path / "s.db", runs))


def test_panels_that_differ_only_by_their_view_form_one_group(three_lengths):
    (group,) = length_groups(three_lengths)
    assert [panel.data.view for panel in group.panels] == ["pixels", "rows", "patches:2"]
    assert group.shapes == ((64, 1), (8, 8), (16, 4))  # from the 8 x 8 images, whatever the records say
    assert group.title == "digits, preset reference, 2 epochs"


def test_panels_that_differ_in_anything_else_are_not_grouped(tmp_path):
    longer = dataclasses.replace(TRAIN, epochs=3)
    fewer = dataclasses.replace(PIXELS, limit_train=50)
    runs = (_runs(ROWS, {"lstm": 0.9, "gru": 0.8}) + _runs(PIXELS, {"lstm": 0.6, "gru": 0.3}, train=longer)
            + _runs(fewer, {"lstm": 0.6, "gru": 0.3}))  # fmt: skip
    data = read_panels(fill(tmp_path / "s.db", runs))
    assert len(data.panels) == 3
    assert length_groups(data) == [] and sequence_length(data) == []


def test_models_tuned_by_a_search_per_view_are_grouped(tmp_path):
    """rnnbench tune runs a search per view: the groups hold the tuned models whatever search tuned them."""
    other = dataclasses.replace(TUNED, search="search-2")
    runs = _runs(ROWS, {"lstm": 0.9, "gru": 0.8}, train=TUNED) + _runs(PIXELS, {"lstm": 0.6, "gru": 0.3}, train=other)
    runs += _runs(PATCHES, {"lstm": 0.8, "gru": 0.7})  # a preset's recipe: not tuned, not in the group
    (group,) = length_groups(read_panels(fill(tmp_path / "s.db", runs)))
    assert [panel.data.view for panel in group.panels] == ["rows", "pixels"]
    assert group.title == "digits, recipes tuned per model and view, 2 epochs"


def test_one_length_alone_gives_no_section(tmp_path):
    permuted = dataclasses.replace(DATA, view="permuted")  # 64 steps, as pixels
    runs = _runs(PIXELS, {"lstm": 0.6, "gru": 0.3}) + _runs(permuted, {"lstm": 0.5, "gru": 0.2})
    data = read_panels(fill(tmp_path / "s.db", runs))
    assert len(data.panels) == 2 and length_groups(data) == []
    single = read_panels(fill(tmp_path / "one.db", _runs(ROWS, {"lstm": 0.9, "gru": 0.8})))
    assert sequence_length(single) == []


def test_the_table_holds_each_model_at_each_length_in_order_of_length(three_lengths):
    rows = sequence_length(three_lengths)
    assert [(row["model"], row["view"], row["steps"], row["features"]) for row in rows] == [
        ("lstm", "rows", 8, 8), ("lstm", "patches:2", 16, 4), ("lstm", "pixels", 64, 1),
        ("gru", "rows", 8, 8), ("gru", "patches:2", 16, 4), ("gru", "pixels", 64, 1),
    ]  # fmt: skip
    lstm_pixels = rows[2]
    assert lstm_pixels["test_accuracy_mean"] == pytest.approx(0.605)  # seeds 0.60 and 0.61
    assert lstm_pixels["test_accuracy_ci95_low"] < 0.605 < lstm_pixels["test_accuracy_ci95_high"]
    assert (lstm_pixels["finished"], lstm_pixels["runs"], lstm_pixels["params"]) == (2, 2, 100)
    assert [row["seconds_per_epoch_mean"] for row in rows[:3]] == [1.0, 2.0, 8.0]
    assert {row["length_group"] for row in rows} == {1} and list(group_rows(rows)) == [1]


def _edge_cases(tmp_path):
    """One seed; gru diverged at pixels; simplernn trained at rows only."""
    runs = _runs(ROWS, {"lstm": 0.9, "gru": 0.8}, seeds=(0,)) + _runs(PIXELS, {"lstm": 0.6}, ("lstm",), (0,))
    runs += [(diverged(spec("gru", 0, PIXELS)), HALF)]
    runs += _runs(ROWS, {"simplernn": 0.4}, ("simplernn",), (0,))
    return sequence_length(read_panels(fill(tmp_path / "s.db", runs)))


def test_edge_cases_in_the_table(tmp_path):
    rows = {(row["model"], row["view"]): row for row in _edge_cases(tmp_path)}
    assert set(rows) == {("lstm", "rows"), ("lstm", "pixels"), ("gru", "rows"), ("gru", "pixels"),
                         ("simplernn", "rows")}  # fmt: skip
    one_seed = rows[("lstm", "rows")]
    assert one_seed["test_accuracy_ci95_low"] == one_seed["test_accuracy_ci95_high"] == pytest.approx(0.9)
    gone = rows[("gru", "pixels")]
    assert (gone["runs"], gone["finished"], gone["test_accuracy_mean"]) == (1, 0, None)
    assert gone["seconds_per_epoch_mean"] == 1.5  # the epoch it ran before its loss went non-finite


def _lines(figure):
    """The x and y data of each model's line (an error bar's label is its container's)."""
    axis = figure.axes[0]
    lines = {line.get_label(): line for line in axis.get_lines()}
    lines.update({container.get_label(): container.lines[0] for container in axis.containers})
    return {label: (line.get_xdata(), line.get_ydata()) for label, line in lines.items() if label[0] != "_"}


def test_the_figures_draw_the_edge_cases(tmp_path):
    rows = _edge_cases(tmp_path)
    accuracy = _lines(accuracy_against_length(rows))
    assert set(accuracy) == {"lstm", "gru", "simplernn"}
    assert np.allclose(accuracy["lstm"][1], [0.9, 0.6])
    gru = np.asarray(accuracy["gru"][1], dtype=float)
    assert gru[0] == pytest.approx(0.8) and np.isnan(gru[1])  # no point where every run diverged
    assert len(accuracy["simplernn"][0]) == 1  # a model at one length is a point
    times = _lines(time_against_length(rows))
    assert list(times["gru"][1]) == [1.0, 1.5] and list(times["lstm"][0]) == [8, 64]
    axis = time_against_length(rows).axes[0]
    assert (axis.get_xscale(), axis.get_yscale()) == ("log", "log")
    assert accuracy_against_length(rows).axes[0].get_xscale() == "log"


def test_no_accuracy_figure_without_a_finished_run(tmp_path):
    runs = [(diverged(spec("gru", 0, data)), HALF) for data in (ROWS, PIXELS)]
    rows = sequence_length(read_panels(fill(tmp_path / "s.db", runs)))
    assert len(rows) == 2
    assert accuracy_against_length(rows) is None
    assert time_against_length(rows) is not None


def test_every_format_holds_the_section(three_lengths, tmp_path):
    out = tmp_path / "report"
    written = write_report(three_lengths, out)
    html = written["html"].read_text()
    assert html.count('<section class="lengths" id="sequence-length">') == 1
    assert 'href="#sequence-length"' in html
    assert html.count('data-plot="accuracy_vs_length"') == html.count('data-plot="epoch_time_vs_length"') == 1
    assert "<h3>digits, preset reference, 2 epochs</h3>" in html
    markdown = written["md"].read_text()
    assert "## Sequence length" in markdown and "| lstm | pixels | 64 | 1 | 100 | 2 |" in markdown
    for name in ("accuracy_vs_length", "epoch_time_vs_length"):
        assert f"(figures/length1-{name}.png)" in markdown
        assert (out / "figures" / f"length1-{name}.png").read_bytes().startswith(b"\x89PNG")
    table = json.loads(written["json"].read_text())["tables"]["sequence_length"]
    assert table == json.loads(json.dumps(sequence_length(three_lengths)))
    assert (out / "csv" / "sequence_length.csv").read_text().count("\n") == 1 + 6


def test_a_report_of_one_length_has_no_section(tmp_path):
    data = read_panels(fill(tmp_path / "s.db", _runs(ROWS, {"lstm": 0.9, "gru": 0.8})))
    written = write_report(data, tmp_path / "report", ("html", "md"))
    assert "sequence-length" not in written["html"].read_text()
    assert "Sequence length" not in written["md"].read_text()


def test_the_terminal_table(three_lengths, tmp_path):
    console = Console(record=True, width=120)
    print_lengths(console, three_lengths)
    text = console.export_text()
    assert "Sequence length: digits, preset reference, 2 epochs" in text
    assert "60.50 ± 6.35" in text and "1 + " not in text
    quiet = Console(record=True, width=120)
    print_lengths(quiet, read_panels(fill(tmp_path / "one.db", _runs(ROWS, {"lstm": 0.9, "gru": 0.8}))))
    assert quiet.export_text() == ""
