"""A store written by rnnbench before its packages were laid out by layer is read, and its runs are recognised.

``data/store-schema7.db`` was written by ``rnnbench compare --dataset digits --models simplernn,gru --units 8
--epochs 2 --seeds 2 --limit-train 200 --limit-test 100`` at the last commit with the flat package.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from rnnbench.cli import main
from rnnbench.results.panels import Selection, gather
from rnnbench.results.store import Store
from rnnbench.spec.builder import experiment_spec

EARLIER = Path(__file__).parent / "data" / "store-schema7.db"
ARGS = ["--dataset", "digits", "--models", "simplernn,gru", "--units", "8", "--epochs", "2", "--seeds", "2",
        "--limit-train", "200", "--limit-test", "100"]  # fmt: skip
SETTINGS = {"grid": {"models": ["simplernn", "gru"], "datasets": ["digits"], "units": [8], "seeds": [0, 1]},
            "train": {"epochs": 2}, "data": {"limit_train": 200, "limit_test": 100}}  # fmt: skip


def _copy(tmp_path: Path) -> Path:
    store = tmp_path / "earlier.db"
    shutil.copyfile(EARLIER, store)
    return store


def test_the_runs_of_an_earlier_store_have_the_keys_of_todays_specs(tmp_path):
    keys = {run.key() for run in experiment_spec(SETTINGS).runs()}
    with Store.read(_copy(tmp_path)) as store:
        stored = {run.run_key for run in store.runs()}
        records = gather(store, Selection(run_keys=tuple(keys)))
    assert stored == keys and len(keys) == 4
    assert sum(len(panel.results) for panel in records.panels) == 4


def test_the_same_comparison_on_an_earlier_store_trains_nothing_and_reports_its_numbers(tmp_path, capsys):
    store = _copy(tmp_path)
    with Store.read(store) as opened:
        accuracies = {(run.spec.model.name, run.spec.seed): run.result.test_accuracy for run in opened.runs()}
    summary = tmp_path / "again.json"
    assert main(["compare", *ARGS, "--store", str(store), "--json", str(summary), "--no-report", "--quiet"]) == 0
    again = json.loads(summary.read_text())
    assert again["trained_now"] == 0 and again["found_in_store"] == 4
    assert {(run["model"], run["seed"]): run["test_accuracy"] for run in again["runs"]} == accuracies
    assert main(["report", "--store", str(store), "--out", str(tmp_path / "report")]) == 0
    assert (tmp_path / "report" / "report.html").is_file()
