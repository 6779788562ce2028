"""Aggregation over seeds: mean, standard deviation and a Student-t 95 % confidence interval per model."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rnnbench.results.run_result import RunResult, RunStatus
from rnnbench.spec import RunSpec


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
    # Serving cost of the finished runs (medians); None where no run has it measured.
    latency_ms: float | None = None
    images_per_second: float | None = None
    setup_seconds: float | None = None  # median fixed cost of a run (building and compiling), apart from epochs
    # Runs (with validation) whose best epoch was their last: more than half of them means the model is still
    # improving when training stops, and its accuracy says more about the budget than about the model.
    best_at_last_epoch: int = 0
    with_validation: int = 0

    @property
    def still_improving(self) -> bool:
        return self.with_validation > 0 and 2 * self.best_at_last_epoch > self.with_validation

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
            "latency_ms": self.latency_ms,
            "images_per_second": self.images_per_second,
            "setup_seconds": self.setup_seconds,
            "still_improving": self.still_improving,
        }


def _median_or_none(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def _interval_or_none(values: list[float | None]) -> Interval | None:
    present = [value for value in values if value is not None]
    return mean_interval(present) if present else None


ModelKey = tuple[str, int, tuple[tuple[str, Any], ...]]


def model_key(spec: RunSpec) -> ModelKey:
    """What makes two runs of a panel the same model: the cell, its width and its options."""
    return spec.model.name, spec.model.units, spec.model.options


def model_labels(results: Sequence[RunResult]) -> dict[ModelKey, str]:
    """A name per model key: the cell's name, with its width where it appears at several widths, and its options
    (``cornn dt=0.1``) where it has any."""
    keys = {model_key(result.spec) for result in results}
    widths: dict[str, set[int]] = {}
    for name, units, _ in keys:
        widths.setdefault(name, set()).add(units)
    labels = {}
    for name, units, options in keys:
        label = f"{name}-{units}" if len(widths[name]) > 1 else name
        labels[(name, units, options)] = " ".join([label, *(f"{key}={_option_text(value)}" for key, value in options)])
    return labels


def _option_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else f"{value:g}"


def _grouped(results: Sequence[RunResult]) -> dict[str, list[RunResult]]:
    labels = model_labels(results)
    groups: dict[str, list[RunResult]] = {}
    for result in results:
        groups.setdefault(labels[model_key(result.spec)], []).append(result)
    return groups


def summarize(results: Sequence[RunResult]) -> list[ModelSummary]:
    """Per model and width (in order of first appearance), statistics over its finished runs."""
    summaries = []
    for label, runs in _grouped(results).items():
        finished = [run for run in runs if run.status == RunStatus.FINISHED]
        validated = [run for run in finished if run.best_val_accuracy is not None and len(run.epochs) > 1]
        summaries.append(
            ModelSummary(
                model=label,
                units=runs[0].spec.model.units,
                runs=len(runs),
                params=runs[0].params,
                test_accuracy=_interval_or_none([run.test_accuracy for run in finished]),
                test_accuracy_at_best=_interval_or_none([run.test_accuracy_at_best for run in finished]),
                best_val_accuracy=_interval_or_none([run.best_val_accuracy for run in finished]),
                best_epochs=tuple(run.best_epoch for run in finished if run.best_epoch is not None),
                seconds_per_epoch=statistics.median(run.seconds_per_epoch for run in runs),
                latency_ms=_median_or_none([run.latency_ms for run in finished]),
                images_per_second=_median_or_none([run.images_per_second for run in finished]),
                setup_seconds=_median_or_none([run.setup_seconds for run in runs]),
                best_at_last_epoch=sum(run.best_epoch == len(run.epochs) for run in validated),
                with_validation=len(validated),
            )
        )
    return summaries


def welch_p_value(first: Sequence[float], second: Sequence[float]) -> float | None:
    """Two-sided Welch t-test p-value; None when a side has fewer than two values."""
    if len(first) < 2 or len(second) < 2:
        return None
    first_error = statistics.variance(first) / len(first)
    second_error = statistics.variance(second) / len(second)
    difference = statistics.fmean(first) - statistics.fmean(second)
    if first_error + second_error == 0:
        # The t statistic is undefined; identical constants are indistinguishable, different ones are not.
        return 1.0 if difference == 0 else 0.0
    # Computed here rather than by scipy's ttest_ind, which warns of precision loss whenever one side's seeds tie.
    from scipy.stats import t

    statistic = difference / (first_error + second_error) ** 0.5
    freedom = (first_error + second_error) ** 2 / (
        first_error**2 / (len(first) - 1) + second_error**2 / (len(second) - 1)
    )
    return float(2 * t.sf(abs(statistic), freedom))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the order given."""
    order = sorted(range(len(p_values)), key=lambda index: p_values[index])
    adjusted = [0.0] * len(p_values)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


@dataclass(frozen=True)
class Comparison:
    """One pair of models: Welch p-value on test accuracy over seeds, raw and Holm-adjusted across all pairs."""

    first: str
    second: str
    p_value: float
    adjusted_p_value: float


def pairwise(results: Sequence[RunResult]) -> list[Comparison]:
    """Every pair of models with at least two finished runs each, Holm-corrected across the pairs."""
    accuracies = {
        label: [run.test_accuracy for run in runs if run.status == RunStatus.FINISHED and run.test_accuracy is not None]
        for label, runs in _grouped(results).items()
    }
    names = [name for name, values in accuracies.items() if len(values) >= 2]
    pairs = [(a, b) for index, a in enumerate(names) for b in names[index + 1 :]]
    raw = [welch_p_value(accuracies[a], accuracies[b]) or 0.0 for a, b in pairs]  # never None: 2+ values each
    return [Comparison(a, b, p, q) for (a, b), p, q in zip(pairs, raw, holm(raw), strict=True)]


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"


def verdict(
    summaries: Sequence[ModelSummary], comparisons: Sequence[Comparison], alpha: float = 0.05, tuned: bool = False
) -> str:
    """One line: the best model by mean test accuracy, and how each other model compares to it. ``tuned``: the
    models' recipes were chosen by a search, so what would help a model still improving is a larger epoch budget."""
    measured = [(s.test_accuracy, s) for s in summaries if s.test_accuracy is not None]
    if not measured:
        return "no finished runs to compare"
    ranked = [summary for _, summary in sorted(measured, key=lambda pair: -pair[0].mean)]
    best, interval = ranked[0], max(measured, key=lambda pair: pair[0].mean)[0]
    half_width = 100 * (interval.high - interval.mean)
    # One seed has no interval: say so rather than print a half-width of 0.
    spread = f"+/- {half_width:.1f} %" if interval.n > 1 else "% (n = 1)"
    parts = [f"best: {best.model} {100 * interval.mean:.1f} {spread}"]
    tests = {frozenset((c.first, c.second)): c.adjusted_p_value for c in comparisons}
    untested = []
    for other in ranked[1:]:
        p = tests.get(frozenset((best.model, other.model)))
        if p is None:
            untested.append(other.model)
        elif p < alpha:
            parts.append(f"{other.model} lower ({_p_text(p)})")
        else:
            parts.append(f"{other.model} not distinguishable ({_p_text(p)})")
    if untested:
        parts.append(f"not tested against it (a test needs 2+ finished seeds per model): {', '.join(untested)}")
    improving = [f"{summary.model} ({summary.best_at_last_epoch} of {summary.with_validation} seeds)"
                 for summary in ranked if summary.still_improving]  # fmt: skip
    if improving:
        advice = (
            "search's epoch budget, not the cell: give the search more epochs (rnnbench tune --epochs)"
            if tuned
            else "epochs and recipe given, not the cell: train longer or tune them (rnnbench tune)"
        )
        parts.append(f"still improving at the last epoch: {', '.join(improving)}; their accuracy reflects the {advice}")
    return "; ".join(parts)
