"""Aggregation over seeds: mean, standard deviation and a Student-t 95 % confidence interval per model."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rnnbench.results import FINISHED, RunResult


@dataclass(frozen=True)
class Interval:
    """Mean, sample standard deviation and 95 % confidence interval of a sample (the interval is the mean for n=1)."""

    n: int
    mean: float
    std: float
    low: float
    high: float


def mean_interval(values: Sequence[float], confidence: float = 0.95) -> Interval:
    """Student-t interval: mean +/- t_{(1+c)/2, n-1} * s / sqrt(n)."""
    if not values:
        raise ValueError("no values to summarise")
    n = len(values)
    mean = statistics.fmean(values)
    if n == 1:
        return Interval(1, mean, 0.0, mean, mean)
    from scipy.stats import t

    std = statistics.stdev(values)
    half = float(t.ppf((1 + confidence) / 2, n - 1)) * std / n**0.5
    return Interval(n, mean, std, mean - half, mean + half)


@dataclass(frozen=True)
class ModelSummary:
    """One model's finished runs, summarised; accuracies are None when no run finished."""

    model: str
    units: int
    runs: int
    params: int
    test_accuracy: Interval | None
    test_accuracy_at_best: Interval | None
    best_val_accuracy: Interval | None
    best_epochs: tuple[int, ...]
    seconds_per_epoch: float

    def to_dict(self) -> dict[str, Any]:
        """One entry of the summary JSON's ``summary`` list."""
        accuracy = self.test_accuracy
        return {
            "model": self.model,
            "units": self.units,
            "n": accuracy.n if accuracy else 0,
            "runs": self.runs,
            "params": self.params,
            "test_accuracy_mean": accuracy.mean if accuracy else None,
            "test_accuracy_std": accuracy.std if accuracy else None,
            "ci95": [accuracy.low, accuracy.high] if accuracy else None,
            "test_accuracy_at_best_mean": self.test_accuracy_at_best.mean if self.test_accuracy_at_best else None,
            "best_val_accuracy_mean": self.best_val_accuracy.mean if self.best_val_accuracy else None,
            "best_epochs": list(self.best_epochs),
            "seconds_per_epoch": self.seconds_per_epoch,
        }


def _interval_or_none(values: list[float | None]) -> Interval | None:
    present = [value for value in values if value is not None]
    return mean_interval(present) if present else None


def summarize(results: Sequence[RunResult]) -> list[ModelSummary]:
    """Per model (in order of first appearance), statistics over its finished runs."""
    by_model: dict[str, list[RunResult]] = {}
    for result in results:
        by_model.setdefault(result.spec.model.name, []).append(result)
    summaries = []
    for model, runs in by_model.items():
        finished = [run for run in runs if run.status == FINISHED]
        summaries.append(
            ModelSummary(
                model=model,
                units=runs[0].spec.model.units,
                runs=len(runs),
                params=runs[0].params,
                test_accuracy=_interval_or_none([run.test_accuracy for run in finished]),
                test_accuracy_at_best=_interval_or_none([run.test_accuracy_at_best for run in finished]),
                best_val_accuracy=_interval_or_none([run.best_val_accuracy for run in finished]),
                best_epochs=tuple(run.best_epoch for run in finished if run.best_epoch is not None),
                seconds_per_epoch=statistics.median(run.seconds_per_epoch for run in runs),
            )
        )
    return summaries
