"""The driver refuses, before the store is opened or anything trains, what would fail later: folders it cannot
write, caches that are not folders, flags XLA refuses, a compiler that does not exist; and it chooses the executor by
one rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnbench.driver.driver import Driver
from rnnbench.errors import RnnbenchError
from rnnbench.executors import EXECUTORS
from rnnbench.spec import DataSpec, ExecutionConfig, ExperimentSpec, TrainSpec

SPEC = ExperimentSpec(models=("gru",), units=(4,), data=(DataSpec("digits", limit_train=100, limit_test=50),),
                      train=(TrainSpec(epochs=1),))  # fmt: skip


@pytest.mark.parametrize(
    ("variable", "message"),
    [
        ("RNNBENCH_JAX_CACHE", r"RNNBENCH_JAX_CACHE \(the compiled programs' cache; 'off' disables it\) .*: .* is a"),
        ("RNNBENCH_KERNEL_CACHE", r"RNNBENCH_KERNEL_CACHE \(the compiled kernels' cache\) .*: .* is a file, not a"),
    ],
)  # fmt: skip
def test_a_cache_that_is_not_a_folder_is_refused_before_the_store_is_opened(tmp_path, monkeypatch, variable, message):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(variable, str(blocker / "cache"))
    store = tmp_path / "s.db"
    with pytest.raises(RnnbenchError, match=message):
        Driver(store, ExecutionConfig()).prepare(SPEC)
    assert not store.exists()


def test_a_folder_beside_the_store_that_is_a_file_is_refused(tmp_path):
    store = tmp_path / "s.db"
    Path(f"{store}-models").write_text("")
    with pytest.raises(RnnbenchError, match=r"--store .*s.db: .*s.db-models is a file, not a folder"):
        Driver(store, ExecutionConfig()).prepare(SPEC)


def test_flags_xla_refuses_are_said_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_no_such_flag=1")
    with pytest.raises(RnnbenchError, match=r"XLA_FLAGS='--xla_no_such_flag=1' is refused by XLA \(.*Unknown flag"):
        Driver(tmp_path / "s.db", ExecutionConfig()).prepare(SPEC)


def test_every_executor_says_whether_it_runs_on_this_machine():
    assert {name: executor.on_this_machine for name, executor in EXECUTORS.items()} == {
        "inline": True, "local": True, "ray": False,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("config", "runs", "chosen"),
    [
        (ExecutionConfig(), 5, "inline"),
        (ExecutionConfig(jobs=2), 1, "inline"),
        (ExecutionConfig(jobs=2), 2, "local"),
        (ExecutionConfig(executor="local"), 1, "local"),
        (ExecutionConfig(executor="ray", jobs=3), 1, "ray"),
    ],
)
def test_one_rule_chooses_the_executor(config, runs, chosen):
    assert config.executor_for(runs) == chosen


def test_jobs_are_refused_where_they_cannot_apply():
    with pytest.raises(RnnbenchError, match="--executor inline trains one run at a time; --jobs 2 needs"):
        ExecutionConfig(executor="inline", jobs=2)
