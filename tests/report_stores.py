"""Stores with known contents, written through the real Store API (no training), for exact checks of reports."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnbench.results.run_result import EpochMetrics, RunResult, RunStatus
from rnnbench.results.store import Store
from rnnbench.spec import DataSpec, ExperimentSpec, ModelSpec, RunSpec, TrainSpec

DATA = DataSpec("digits", limit_train=100)
TRAIN = TrainSpec(epochs=2)
DESCRIPTION = {"name": "digits", "view": "rows", "steps": 8, "features": 8, "classes": 3, "train": 90, "val": 10,
               "test": 6, "image_shape": [8, 8, 1]}  # fmt: skip
ENVIRONMENT = {"rnnbench_version": "0.1.0", "keras_version": "3.x", "backend_version": "0.4", "host": "box",
               "device": "cpu"}  # fmt: skip


def spec(model: str, seed: int, data: DataSpec = DATA) -> RunSpec:
    return RunSpec(data, ModelSpec(model, 8), TRAIN, seed)


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


# Three classes, six test images: row = true class.
PERFECT = [[2, 0, 0], [0, 2, 0], [0, 0, 2]]
HALF = [[1, 1, 0], [0, 2, 0], [1, 1, 0]]
