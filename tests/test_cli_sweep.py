"""Sweeps as users run them: real processes, a real SQLite file, SIGKILL in the middle of a run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from rnnbench.cli import main

# Two models on digits with small batches: each epoch takes a noticeable fraction of a second, so a kill lands mid-run.
EXPERIMENT = """
name = "resume"
[grid]
models = ["simplernn", "gru"]
datasets = ["digits"]
seeds = [0]
units = [16]
[train]
epochs = 6
batch_size = 8
"""


def _experiment(tmp_path: Path, text: str = EXPERIMENT) -> Path:
    path = tmp_path / "experiment.toml"
    path.write_text(textwrap.dedent(text))
    return path


def _sweep(experiment: Path, store: Path, *extra: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "rnnbench", "sweep", str(experiment), "--store", str(store)]
    return subprocess.Popen(
        [*command, "--quiet", "--no-report", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CI": "true"},
    )


def _query(store: Path, sql: str) -> list[tuple]:
    connection = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=30)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def _wait_for(condition, timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except sqlite3.OperationalError:
            pass  # the store is still being created
        time.sleep(0.05)
    raise AssertionError("timed out waiting for the sweep")


def _snapshot(store: Path) -> dict:
    """Everything that must not depend on interruptions: statuses, results and per-epoch metrics by run key."""
    runs = {key: status for key, status in _query(store, "SELECT run_key, status FROM runs")}
    columns = "run_key, params, best_epoch, best_val_accuracy, test_accuracy, test_accuracy_at_best"
    results_sql = f"SELECT {columns} FROM results"
    results = {row[0]: row[1:] for row in _query(store, results_sql)}
    epochs = _query(
        store, "SELECT run_key, epoch, train_loss, train_accuracy, val_loss, val_accuracy FROM epochs ORDER BY 1, 2"
    )
    return {"runs": runs, "results": results, "epochs": epochs}


def test_a_killed_sweep_resumes_and_ends_as_if_never_stopped(tmp_path):
    experiment = _experiment(tmp_path)
    store = tmp_path / "killed.db"
    process = _sweep(experiment, store, "--jobs", "1")
    # Kill once the first run is finished and the second has checkpointed two epochs.
    _wait_for(lambda: _query(store, "SELECT count(*) FROM runs WHERE status = 'finished'")[0][0] == 1
              and _query(store, "SELECT count(*) FROM epochs e JOIN runs r USING (run_key) "
                                "WHERE r.status = 'running'")[0][0] >= 2)  # fmt: skip
    process.send_signal(signal.SIGKILL)
    process.wait()
    ((finished_key, started_at),) = _query(store, "SELECT run_key, started_at FROM runs WHERE status = 'finished'")
    (interrupted_key,) = _query(store, "SELECT run_key FROM runs WHERE status = 'running'")[0]

    rerun = _sweep(experiment, store, "--jobs", "1")
    assert rerun.wait(timeout=300) == 0, rerun.stderr.read()
    assert "2 runs: 1 trained now, 1 found in the store" in rerun.stdout.read()
    assert _query(store, f"SELECT started_at FROM runs WHERE run_key = '{finished_key}'") == [(started_at,)]
    (resumed_from,) = _query(store, f"SELECT resumed_from_epoch FROM runs WHERE run_key = '{interrupted_key}'")[0]
    assert resumed_from >= 2  # continued from its checkpoint, not from zero
    assert not any((tmp_path / "killed.db-checkpoints").glob("*.npz"))  # finished runs leave no checkpoint

    uninterrupted = tmp_path / "straight.db"
    straight = _sweep(experiment, uninterrupted, "--jobs", "1")
    assert straight.wait(timeout=300) == 0, straight.stderr.read()
    assert _snapshot(store) == _snapshot(uninterrupted)
    assert _query(store, "SELECT count(*), count(DISTINCT run_key) FROM runs") == [(2, 2)]
    assert _query(store, "SELECT count(*) FROM epochs") == [(12,)]


def test_two_sweeps_on_one_store_do_not_collide(tmp_path):
    # Far more epochs than the test waits for: the first sweep is still training when the second starts.
    experiment = _experiment(tmp_path, EXPERIMENT.replace("epochs = 6", "epochs = 100000"))
    store = tmp_path / "shared.db"
    first = _sweep(experiment, store, "--jobs", "1")
    _wait_for(lambda: _query(store, "SELECT count(*) FROM runs WHERE status = 'running'")[0][0] == 1)
    second = _sweep(experiment, store, "--jobs", "1")
    assert second.wait(timeout=120) == 2
    assert second.stderr.read().strip() == (
        f"rnnbench: error: store {store} is in use by another rnnbench process; "
        "wait for it to finish or use another --store"
    )
    assert first.poll() is None  # the first sweep goes on, undisturbed
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=60)
    assert _query(store, "SELECT status, count(*) FROM runs GROUP BY status") == [("running", 1)]
    assert _query(store, "PRAGMA integrity_check") == [("ok",)]


def test_a_diverging_run_is_recorded_and_the_sweep_finishes(tmp_path, capsys):
    experiment = _experiment(tmp_path, EXPERIMENT.replace("epochs = 6", "epochs = 3\nlearning_rate = 10"))
    store = tmp_path / "diverged.db"
    assert main(["sweep", str(experiment), "--store", str(store), "--jobs", "1", "--quiet", "--no-report"]) == 0
    assert _query(store, "SELECT status, count(*) FROM runs GROUP BY status") == [("diverged", 2)]
    out = capsys.readouterr().out
    assert out.count("0 + 1 diverged") == 2 and "no finished runs to compare" in out


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_compare_again_trains_nothing_and_prints_the_same_table(tmp_path, capsys, jobs):
    args = ["compare", "--dataset", "digits", "--epochs", "2", "--seeds", "2", "--units", "8",
            "--models", "simplernn,gru", "--limit-train", "300", "--store", str(tmp_path / "s.db"),
            "--jobs", jobs, "--quiet", "--no-report"]  # fmt: skip
    assert main(args) == 0
    first = capsys.readouterr().out
    assert main(args) == 0
    again = capsys.readouterr().out
    assert "4 runs: 4 trained now" in first and "4 runs: 0 trained now, 4 found in the store" in again
    tables = [text.split("verdict:")[0] for text in (first, again)]
    assert tables[0] == tables[1] and "verdict: best:" in first
    assert main([*args, "--force"]) == 0
    assert "4 runs: 4 trained now" in capsys.readouterr().out
