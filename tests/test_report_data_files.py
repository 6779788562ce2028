"""JSON and CSV: the numbers behind every table and plot, the same in both, and the same as the store's."""

from __future__ import annotations

import csv
import json

import pytest

from report_pages import store_numbers
from rnnbench.report.rows import TABLES


def test_json_holds_every_table(tiny_sweep):
    report = json.loads((tiny_sweep.report / "report.json").read_text())
    assert report["rnnbench_version"] == "0.1.0" and report["experiments"][0]["name"] == "tiny"
    assert set(report["tables"]) == set(TABLES)
    expected = store_numbers(tiny_sweep.store)
    for row in report["tables"]["comparison"]:
        assert row["test_accuracy_mean"] == pytest.approx(expected[row["model"]]["mean"], abs=1e-12)
        assert row["params"] == expected[row["model"]]["params"]
    assert len(report["tables"]["epochs"]) == 4 * 2
    assert len(report["tables"]["confusion"]) == 2 * 10 * 10


def test_csv_files_match_the_json(tiny_sweep):
    report = json.loads((tiny_sweep.report / "report.json").read_text())
    for name in TABLES:
        with (tiny_sweep.report / "csv" / f"{name}.csv").open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) == len(report["tables"][name]), name
    with (tiny_sweep.report / "csv" / "runs.csv").open(newline="") as handle:
        runs = list(csv.DictReader(handle))
    for from_csv, from_json in zip(runs, report["tables"]["runs"], strict=True):
        assert float(from_csv["test_accuracy"]) == from_json["test_accuracy"]
        assert from_csv["run_key"] == from_json["run_key"]
