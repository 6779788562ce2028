"""Equal-budget searches: trials are validation-only runs in the store, the best configuration of each architecture is
retrained on fresh seeds, and a search killed mid-way ends as an uninterrupted one."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from rnnbench.engine import training
from rnnbench.results.run_result import RunStatus
from rnnbench.results.store import Store, TrialState
from rnnbench.search import tune
from rnnbench.search.tune import FINAL_SEED_BASE, recipe, run_search, rungs, search_name
from rnnbench.spec import DataSpec, ExecutionConfig, ExperimentSpec, TrainSpec
from rnnbench.spec.search import SearchOptions

TINY = ExperimentSpec("tiny-search", (DataSpec("digits", limit_train=600, limit_test=200),), (TrainSpec(epochs=3),),
                      ("simplernn", "gru"), (16,), (0,))  # fmt: skip


def test_rungs_start_after_a_ninth_of_the_epochs_and_leave_at_least_a_third_to_save():
    assert rungs(30, "asha") == (3, 9, 30)
    assert rungs(10, "asha") == (3, 10)
    assert rungs(100, "asha") == (11, 33, 100)
    assert rungs(6, "asha") == (2, 6)
    assert rungs(3, "asha") == (1, 3)
    assert rungs(2, "asha") == (2,)
    assert rungs(30, "none") == (30,)


def test_a_search_under_other_rules_or_options_has_another_name(monkeypatch):
    name = search_name(TINY, SearchOptions())
    assert name.startswith("tiny-search-") and name == search_name(TINY, SearchOptions())
    assert search_name(TINY, SearchOptions(trials=5)) != name
    monkeypatch.setattr(tune, "RULES", tune.RULES + 1)
    assert search_name(TINY, SearchOptions()) != name


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    store = tmp_path_factory.mktemp("search") / "s.db"
    lines: list[str] = []
    result = run_search(TINY, SearchOptions(trials=4), store, ExecutionConfig(jobs=2), say=lines.append)
    return result, store, lines


def test_every_trial_is_stored_with_its_recipe_and_fate(searched):
    result, store, lines = searched
    with Store.read(store) as opened:
        trials = opened.trials(result.name)
        runs = {run.run_key: run for run in opened.runs()}
    assert [(trial.model, trial.number) for trial in trials] == [
        (model, number) for model in ("gru", "simplernn") for number in range(4)
    ]
    assert {trial.state for trial in trials} <= {TrialState.COMPLETE, TrialState.PRUNED}
    for trial in trials:
        run = runs[trial.run_key]
        assert run.spec.train.custom == recipe(trial.params)[0] and run.spec.seed == trial.number
        assert trial.epochs == (3 if trial.state == TrialState.COMPLETE else 1)
        # Scored by the weights the comparison tests: the last epoch's (a diverged trial has none).
        last = run.result.epochs[-1]
        scored = (0.0, None) if run.result.status == RunStatus.DIVERGED else (last.val_accuracy, last.val_loss)
        assert (trial.value, trial.loss) == scored
    assert len(lines) == 8 and all(" trial " in line for line in lines)
    for search in result.searches:
        assert search.finished + search.pruned == 4
        assert search.best is not None and search.best.value == max(
            t.value for t in search.trials if t.state == TrialState.COMPLETE
        )
        assert set(search.importance) <= set(search.best.params)


def test_no_trial_ever_saw_the_test_set(searched):
    _, store, _ = searched
    with Store.read(store) as opened:
        trials = [run for run in opened.runs() if run.spec.train.validation_only]
    assert trials
    for run in trials:
        assert run.result.test_accuracy is None and run.result.test_accuracy_at_best is None
        assert run.confusion is None and run.result.latency_ms is None  # no test predictions, no serving


def test_the_best_configurations_are_tested_on_fresh_seeds_in_one_panel(searched):
    result, _, _ = searched
    [panel] = result.records.panels
    bests = {search.model: search.best for search in result.searches}
    assert sorted({run.spec.seed for run in panel.runs}) == [FINAL_SEED_BASE + i for i in range(3)]
    for run in panel.runs:
        assert run.spec.train.custom == recipe(bests[run.spec.model.name].params)[0]
        assert run.spec.train.search == result.name and not run.spec.train.validation_only
        assert run.result.test_accuracy is not None
    assert "recipes tuned per model by search" in panel.title


def test_a_trial_never_evaluates_on_the_test_set_in_process(monkeypatch, tmp_path):
    calls: list[str] = []
    evaluate = training._evaluate

    def counted(model, compiled, data, recorder):
        calls.append(recorder.spec.key())
        return evaluate(model, compiled, data, recorder)

    monkeypatch.setattr(training, "_evaluate", counted)
    result = run_search(TINY, SearchOptions(trials=1, final_seeds=1, pruner="none"), tmp_path / "s.db")
    finals = {run.run_key for panel in result.records.panels for run in panel.runs}
    assert set(calls) == finals  # only the final runs were tested


def _tune(store: Path, *extra: str) -> subprocess.Popen[str]:
    args = ["tune", "--dataset", "digits", "--limit-train", "600", "--limit-test", "200", "--models", "simplernn,gru",
            "--units", "16", "--epochs", "9", "--trials", "8", "--final-seeds", "2", "--jobs", "1", "--no-report",
            "--store", str(store), *extra]  # fmt: skip
    return subprocess.Popen([sys.executable, "-m", "rnnbench", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "CI": "true"})  # fmt: skip


def _trials(store: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(store) as connection:
        return connection.execute(
            "SELECT model, number, params, state, value, epochs FROM trials ORDER BY model, number"
        ).fetchall()


def _run_keys(store: Path) -> list[str]:
    with sqlite3.connect(store) as connection:
        return sorted(key for (key,) in connection.execute("SELECT run_key FROM runs"))


def test_a_search_killed_mid_way_ends_as_an_uninterrupted_one(tmp_path):
    whole = _tune(tmp_path / "whole.db")
    out, err = whole.communicate(timeout=600)
    assert whole.returncode == 0, err
    killed = _tune(tmp_path / "killed.db")
    assert killed.stdout is not None
    decided = 0
    while decided < 5:  # some trials decided, the rest of the round still training
        line = killed.stdout.readline()
        assert line, killed.stderr.read() if killed.stderr else ""
        decided += " trial " in line
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=60)
    again = _tune(tmp_path / "killed.db")
    out_again, err_again = again.communicate(timeout=600)
    assert again.returncode == 0, err_again
    # No trial lost or repeated, each with the same recipe, fate and validation accuracy; the same runs in the store;
    # the same best configurations, tested on the same seeds.
    assert _trials(tmp_path / "killed.db") == _trials(tmp_path / "whole.db")
    assert _run_keys(tmp_path / "killed.db") == _run_keys(tmp_path / "whole.db")

    def search_rows(text: str) -> list[str]:  # all but the seconds spent, which are the clock's
        return [line.rsplit("│", 2)[0] for line in text.splitlines() if line.startswith("│")][:2]

    assert search_rows(out_again) == search_rows(out)


def test_the_report_shows_sensitivity_progress_and_importance_per_architecture(searched, tmp_path):
    import csv

    from rnnbench.report.write import report_from_store

    result, store, _ = searched
    written = report_from_store(store, tmp_path / "report", ("html", "csv"))
    html = written["html"].read_text()
    for figure in ("search_sensitivity", "search_progress", "search_importance"):
        assert f"panel1-{figure}-1" in html, figure
    with (tmp_path / "report" / "csv" / "trials.csv").open() as file:
        trials = list(csv.DictReader(file))
    assert len(trials) == 8 and {row["model"] for row in trials} == {"simplernn", "gru"}
    with (tmp_path / "report" / "csv" / "importance.csv").open() as file:
        shares = list(csv.DictReader(file))
    for search in result.searches:
        reported = {row["hyperparameter"]: float(row["importance"]) for row in shares if row["model"] == search.model}
        assert reported == pytest.approx(search.importance)
    # The trials are not comparisons of their own: the report has the tuned comparison alone.
    assert html.count("recipes tuned per model by search") >= 1 and "validation_only" not in html
