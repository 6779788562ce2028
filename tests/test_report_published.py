"""Published figures beside the measured ones: shown for a panel that reads a protocol's task, in a block of their
own in the terminal, the HTML, the Markdown and the JSON, never in the measured columns; no block for another panel."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from rich.console import Console

from report_stores import DATA, PERFECT, fill, result, spec
from rnnbench.report.published import HEADING, published_table
from rnnbench.report.summary import summary_dict
from rnnbench.report.terminal_table import print_panels
from rnnbench.report.write import write_report
from rnnbench.results.panels import read_panels

SEQUENTIAL = replace(DATA, name="mnist", view="pixels")  # the task of smnist, whatever started the runs
ROWS = replace(DATA, name="mnist", view="rows")


@pytest.fixture
def panels(tmp_path):
    tests = {"cornn": 0.75, "lstm": 0.5}
    runs = [result(spec(model, seed, data), (0.5, 0.6), test)
            for data in (SEQUENTIAL, ROWS) for model, test in tests.items() for seed in (0, 1)]  # fmt: skip
    data = read_panels(fill(tmp_path / "s.db", [(run, PERFECT) for run in runs]))
    assert [panel.data.view for panel in data.panels] == ["pixels", "rows"]
    return data


def test_only_the_panel_of_a_protocols_task_has_a_block_and_only_for_its_cells(panels):
    sequential, rows = panels.panels
    table = published_table(sequential)
    assert table is not None
    assert table.header == ("model", "published test acc %", "variant measured", "source")
    assert [row[:2] for row in table.rows] == [("cornn", "99.40")]  # lstm has no checked figure on sMNIST
    assert "Rusch & Mishra" in table.rows[0][3]
    assert published_table(rows) is None


def test_the_terminal_prints_the_block_after_the_measured_table(panels):
    console = Console(record=True, width=220)
    print_panels(console, panels)
    text = console.export_text()
    assert text.count(HEADING) == 1
    first_verdict = text.index("verdict:")
    assert text.index("75.00") < text.index(HEADING) < first_verdict  # measured table, then published, then verdict
    assert "99.40" in text[text.index(HEADING) : first_verdict]
    assert "99.40" not in text[: text.index(HEADING)]


def test_the_report_shows_the_block_apart_and_keeps_it_out_of_the_tables(panels, tmp_path):
    written = write_report(panels, tmp_path / "r", ("html", "md", "json"))
    markdown = written["md"].read_text()
    assert markdown.count(f"### {HEADING}") == 1
    second_panel = markdown.index("\n## ", markdown.index(f"### {HEADING}"))
    assert markdown.index(f"### {HEADING}") < second_panel and "99.40" not in markdown[second_panel:]
    html = written["html"].read_text()
    assert html.count('<table class="published">') == 1
    document = json.loads(written["json"].read_text())
    assert [(row["panel"], row["protocol"]) for row in document["published"]] == [(1, "smnist")]
    assert [figure["model"] for figure in document["published"][0]["figures"]] == ["cornn"]
    assert "99.4" not in json.dumps(document["tables"])


def test_the_summary_keeps_the_published_figures_apart_from_the_measured_summary(panels):
    summary = summary_dict(panels, {})
    first, second = summary["panels"]
    assert first["published"]["figures"][0]["test_accuracy_percent"] == 99.4
    assert second["published"] is None
    assert all("published" not in model and model["model"] in ("cornn", "lstm") for model in summary["summary"])
