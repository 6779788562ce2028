"""The comparison as Rich tables: one per panel (data set + view, preset), one row per model."""

from __future__ import annotations

import statistics

from rich.table import Table

from rnnbench.experiment import ExperimentResult, Panel
from rnnbench.stats import Interval, ModelSummary


def _percent(interval: Interval | None) -> str:
    if interval is None:
        return "-"
    if interval.n == 1:
        return f"{100 * interval.mean:.2f}"
    return f"{100 * interval.mean:.2f} ± {100 * (interval.high - interval.mean):.2f}"


def _best_epochs(summary: ModelSummary) -> str:
    epochs = summary.best_epochs
    if not epochs:
        return "-"
    if len(epochs) == 1:
        return str(epochs[0])
    return f"{statistics.median(epochs):g} [{min(epochs)}-{max(epochs)}]"


def _samples_per_second(panel: Panel, summary: ModelSummary) -> str:
    if not summary.seconds_per_epoch:
        return "-"
    return f"{int(panel.dataset['train']) / summary.seconds_per_epoch:,.0f}"  # type: ignore[call-overload]


def panel_table(panel: Panel, result: ExperimentResult) -> Table:
    data = panel.dataset
    seeds = len(result.spec.seeds)
    seeds_text = f"{seeds} seeds (accuracy: mean ± 95% CI half-width)" if seeds > 1 else "1 seed"
    epochs = panel.train.epochs
    table = Table(
        title=f"{data['name']} read by {data['view']} ({data['steps']} steps x {data['features']} features), "
        f"preset {panel.train.preset}, {epochs} epoch{'s' if epochs > 1 else ''}, {seeds_text}",
        caption=f"train {data['train']} / val {data['val']} / test {data['test']} samples; "
        f"backend {result.backend} on {result.device}",
    )
    table.add_column("model")
    table.add_column("runs", justify="right")
    table.add_column("units", justify="right")
    table.add_column("params", justify="right")
    table.add_column("best val acc %", justify="right")
    table.add_column("best epoch", justify="right")
    table.add_column("test acc %", justify="right")
    table.add_column("test acc % at best", justify="right")
    table.add_column("s/epoch", justify="right")
    table.add_column("samples/s", justify="right")
    for summary in panel.summary:
        finished = summary.test_accuracy.n if summary.test_accuracy else 0
        diverged = summary.runs - finished
        table.add_row(
            summary.model,
            f"{finished} + {diverged} diverged" if diverged else str(finished),
            str(summary.units),
            f"{summary.params:,}",
            _percent(summary.best_val_accuracy),
            _best_epochs(summary),
            _percent(summary.test_accuracy),
            _percent(summary.test_accuracy_at_best),
            f"{summary.seconds_per_epoch:.2f}",
            _samples_per_second(panel, summary),
        )
    return table


def footer(result: ExperimentResult) -> str:
    runs = result.trained + result.reused
    reused = f", {result.reused} found in the store" if result.reused else ""
    return f"{runs} runs: {result.trained} trained now{reused}; {result.wall_seconds:.1f} s in all"
