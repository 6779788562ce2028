"""Stores with known contents, written through the real Store API (no training), for exact checks of reports."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnbench.results.run_result import EpochMetrics, RunResult, RunStatus
from rnnbench.results.store import Store, StoredTrial
from rnnbench.spec import DataSpec, ExperimentSpec, ModelSpec, RunSpec, TrainSpec
from rnnbench.spec.search_space import DEFAULT_SPACE
from rnnbench.spec.train import SEARCHED, Preset

DATA = DataSpec("digits", limit_train=100)
TRAIN = TrainSpec(epochs=2)
DESCRIPTION = {"name": "digits", "view": "rows", "steps": 8, "features": 8, "classes": 3, "train": 90, "val": 10,
               "test": 6, "image_shape": [8, 8, 1]}  # fmt: skip
ENVIRONMENT = {"rnnbench_version": "0.1.0", "keras_version": "3.x", "backend_version": "0.4", "host": "box",
               "device": "cpu"}  # fmt: skip


SEARCH = "search-1"
# The recipe a search chose: its runs share one panel, which shows the search's trials.
TUNED = TrainSpec(SEARCHED, epochs=2, custom=Preset("adam", 3e-3, "chosen by a search"), search=SEARCH)


def spec(model: str, seed: int, data: DataSpec = DATA, train: TrainSpec = TRAIN) -> RunSpec:
    return RunSpec(data, ModelSpec(model, 8), train, seed)


def result(run: RunSpec, val: tuple[float, float], test: float, seconds: tuple[float, float] = (2.0, 0.5)) -> RunResult:
    """Two epochs with validation accuracies ``val``; the best epoch is the one of higher validation accuracy."""
    epochs = tuple(EpochMetrics(i + 1, 1.0 / (i + 1), 0.5, 1.0, val[i], seconds[i]) for i in range(2))
    best = 1 + int(val[1] >= val[0])
    return RunResult(run, 100, 90, RunStatus.FINISHED, best, max(val), test, test, sum(seconds), epochs)


def fill(
    path: Path, results: list[tuple[RunResult, list[list[int]]]], name: str = "known", models: tuple[str, ...] = ()
) -> Path:
    """A store holding ``results`` (with their confusion matrices; stored in this order) and their experiment (of
    ``models``, default those of the results in order) and data set records."""
    with Store.open(path) as store:
        models = models or tuple(dict.fromkeys(r.spec.model.name for r, _ in results))
        seeds = tuple(sorted({r.spec.seed for r, _ in results}))
        datas = tuple(dict.fromkeys(r.spec.data for r, _ in results))
        store.save_experiment(name, ExperimentSpec(name, datas, (TRAIN,), models, (8,), seeds).to_dict())
        for data in datas:
            store.save_dataset(data, {**DESCRIPTION, "view": data.view}, np.full((8, 8, 1), 0.5), 2)
        for run_result, confusion in results:
            store.start_run(run_result.spec, ENVIRONMENT)
            store.finish_run(run_result, confusion)
    return path


def diverged(run: RunSpec) -> RunResult:
    """A run stopped at its first epoch on a non-finite loss (stored as no loss at all)."""
    epochs = (EpochMetrics(1, float("nan"), 0.1, float("nan"), 0.1, 1.5),)
    return RunResult(run, 100, 90, RunStatus.DIVERGED, None, None, None, None, 1.5, epochs)


def add_trials(path: Path, trials: list[tuple[str, int, str, float | None, float]]) -> Path:
    """Add the search that chose the recipe of the runs trained with ``TUNED``: its space, and its trials as
    (model, number, state, validation accuracy, learning rate)."""
    with Store.open(path) as store:
        store.save_experiment("tuned", {"search_name": SEARCH, "search": {"space": DEFAULT_SPACE.to_dict()}})
        for model, number, state, value, rate in trials:
            params = {"optimizer": "adam", "learning_rate": rate, "batch_size": (32, 64)[number % 2]}
            store.save_trial(StoredTrial(SEARCH, model, number, params, state, value, 0.5, 2, 1.0, None))
    return path


# Three classes, six test images: row = true class.
PERFECT = [[2, 0, 0], [0, 2, 0], [0, 0, 2]]
HALF = [[1, 1, 0], [0, 2, 0], [1, 1, 0]]
