"""Shared fixtures. Keras runs on JAX in the test process, chosen before anything imports Keras."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import rnnbench

# The contract's checks live in a helper module that several test modules call: its asserts explain their failures.
pytest.register_assert_rewrite("model_contract")
# Compiled programs go to a cache of this test session (inherited by the CLI subprocesses), not the user's.
os.environ["RNNBENCH_JAX_CACHE"] = tempfile.mkdtemp(prefix="rnnbench-test-jax-cache-")
# The recurrence kernels are compiled once for the session, so the tests also cover building them.
os.environ["RNNBENCH_KERNEL_CACHE"] = tempfile.mkdtemp(prefix="rnnbench-test-kernels-")
rnnbench.select_backend("jax")


def write_npz(path: Path, train: int, test: int, shape: tuple[int, ...] = (28, 28), classes: int = 10) -> Path:
    """A small Keras-style .npz of random uint8 images whose class shifts the mean brightness."""
    rng = np.random.default_rng(0)

    def split(count: int) -> tuple[np.ndarray, np.ndarray]:
        labels = np.arange(count) % classes
        noise = rng.integers(0, 128, size=(count, *shape))
        images = noise + (labels * (127 // classes)).reshape(-1, *([1] * len(shape)))
        return images.astype(np.uint8), labels.astype(np.uint8)

    x_train, y_train = split(train)
    x_test, y_test = split(test)
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


@pytest.fixture
def mnist_shaped_npz(tmp_path: Path) -> Path:
    return write_npz(tmp_path / "mnist-shaped.npz", train=200, test=50)


@pytest.fixture(autouse=True)
def _work_in_a_temporary_folder(tmp_path, monkeypatch):
    """Commands write rnnbench.db (and reports) into the working directory: keep them out of the checkout."""
    monkeypatch.chdir(tmp_path)


TINY_SWEEP = """
name = "tiny"
[grid]
models = ["simplernn", "gru"]
datasets = ["digits"]
units = [8]
seeds = [0, 1]
[train]
epochs = 2
[data]
limit_train = 300
limit_test = 100
"""


@dataclass(frozen=True)
class SweepOutput:
    """A tiny real sweep run as a user runs it: its store, its report folder and what it printed."""

    store: Path
    report: Path
    stdout: str
    stderr: str


@pytest.fixture(scope="session")
def tiny_sweep(tmp_path_factory) -> SweepOutput:
    """Two models x two seeds on digits, 2 epochs, in a real process whose stdout is a pipe (not a terminal)."""
    folder = tmp_path_factory.mktemp("tiny-sweep")
    experiment = folder / "tiny.toml"
    experiment.write_text(TINY_SWEEP)
    store, report = folder / "results.db", folder / "report"
    environment = {key: value for key, value in os.environ.items() if key != "CI"}  # plain output without CI too
    process = subprocess.run(
        [sys.executable, "-m", "rnnbench", "sweep", str(experiment), "--store", str(store), "--out", str(report),
         "--jobs", "1"],
        capture_output=True, text=True, env=environment, timeout=600, cwd=folder,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr
    return SweepOutput(store, report, process.stdout, process.stderr)


@pytest.fixture(scope="session")
def kept_model(tmp_path_factory) -> tuple[Path, Path]:
    """(store, model file) of a small GRU trained on digits (4 epochs, tuned preset) and kept with save_models="all"."""
    from rnnbench.driver.experiment import run_experiment
    from rnnbench.results.store import Store
    from rnnbench.spec import DataSpec, ExecutionConfig, ExperimentSpec, TrainSpec

    folder = tmp_path_factory.mktemp("kept")
    spec = ExperimentSpec(models=("gru",), units=(16,), seeds=(0,), data=(DataSpec("digits"),),
                          train=(TrainSpec(epochs=4, preset="tuned"),))  # fmt: skip
    store = folder / "rnnbench.db"
    run_experiment(spec, store, ExecutionConfig(save_models="all"))
    with Store.read(store) as opened:
        (path,) = opened.models().values()
    return store, path
