"""The numbers behind the report, checked exactly on a store of known contents."""

from __future__ import annotations

import pytest

from report_stores import HALF, PERFECT, fill, result, spec
from rnnbench.report.rows import TABLES, all_tables
from rnnbench.results.panels import read_panels


@pytest.fixture
def tables(tmp_path):
    runs = [
        (result(spec("lstm", 0), (0.5, 0.7), 0.60, seconds=(3.0, 1.0)), PERFECT),
        (result(spec("lstm", 1), (0.6, 0.5), 0.80, seconds=(3.0, 2.0)), HALF),
        (result(spec("gru", 0), (0.4, 0.6), 0.50), HALF),
    ]
    return all_tables(read_panels(fill(tmp_path / "s.db", runs)))


def test_every_table_is_built(tables):
    assert list(tables) == list(TABLES)
    # a comparison no search tuned has no trials: tests/test_search_tune.py fills those tables
    assert all(tables[name] for name in TABLES if name not in ("pairwise", "trials", "importance", "sequence_length"))
    assert tables["trials"] == tables["importance"] == []
    assert tables["pairwise"] == []  # a test needs two finished seeds of each model; gru has one


def test_comparison_rows(tables):
    lstm, gru = tables["comparison"]
    assert (lstm["model"], gru["model"]) == ("lstm", "gru")
    assert lstm["test_accuracy_mean"] == pytest.approx(0.70)
    assert lstm["test_accuracy_ci95_low"] < 0.70 < lstm["test_accuracy_ci95_high"]
    assert (lstm["best_epoch_min"], lstm["best_epoch_max"], lstm["best_epoch_median"]) == (1, 2, 1.5)
    assert lstm["seconds_per_epoch"] == pytest.approx(2.25)  # median over runs of each run's median epoch: 2.0, 2.5
    assert lstm["samples_per_second"] == pytest.approx(90 / 2.25)  # 90 training samples in the data set record
    assert gru["finished"] == 1 and gru["test_accuracy_ci95_low"] == gru["test_accuracy_mean"] == 0.5


def test_learning_curves_are_the_mean_and_range_over_seeds(tables):
    lstm = [row for row in tables["learning_curves"] if row["model"] == "lstm"]
    assert [(row["epoch"], row["n"]) for row in lstm] == [(1, 2), (2, 2)]
    assert lstm[0]["mean"] == pytest.approx(0.55) and (lstm[0]["low"], lstm[0]["high"]) == (0.5, 0.6)
    assert lstm[1]["mean"] == pytest.approx(0.6) and (lstm[1]["low"], lstm[1]["high"]) == (0.5, 0.7)
    assert {row["metric"] for row in tables["learning_curves"]} == {"val_accuracy"}


def test_confusion_of_the_best_run_and_per_class_accuracy_over_runs(tables):
    lstm = [row for row in tables["confusion"] if row["model"] == "lstm"]
    assert {row["seed"] for row in lstm} == {0}  # best validation accuracy 0.7 (seed 0) beats 0.6 (seed 1)
    assert [[row["count"] for row in lstm if row["true"] == true] for true in range(3)] == PERFECT
    per_class = {row["class"]: row for row in tables["per_class_accuracy"] if row["model"] == "lstm"}
    # Seed 0 is perfect; seed 1 gets 1/2, 2/2 and 0/2 of the classes right.
    assert [per_class[c]["accuracy_mean"] for c in range(3)] == pytest.approx([0.75, 1.0, 0.5])
    assert (per_class[2]["accuracy_low"], per_class[2]["accuracy_high"]) == (0.0, 1.0)


def test_runs_epochs_and_sequence_view(tables):
    assert [(row["model"], row["seed"], row["test_accuracy"]) for row in tables["runs"]] == [
        ("lstm", 0, 0.6), ("lstm", 1, 0.8), ("gru", 0, 0.5),
    ]  # fmt: skip
    assert len(tables["epochs"]) == 6
    view = tables["sequence_view"]
    assert len(view) == 64 and {row["step"] for row in view} == set(range(8))  # rows: one step per image row
    assert all(row["step"] == row["row"] for row in view)
    settings = tables["settings"][0]
    assert settings["data.name"] == "digits" and settings["train.epochs"] == 2 and settings["seeds"] == [0, 1]
