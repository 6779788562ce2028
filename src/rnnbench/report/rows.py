"""The numbers behind every table and plot of a report, as named tables of plain rows.

HTML, Markdown, JSON and CSV all render these same rows, so every format shows the same numbers. Accuracies are
fractions in [0, 1] here; renderers turn them into percentages.
"""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np

from rnnbench.data.views import get_view
from rnnbench.report.lengths import TABLE as LENGTH_TABLE
from rnnbench.report.lengths import sequence_length
from rnnbench.report.view_plot import step_map
from rnnbench.results.panels import Panel, PanelSet
from rnnbench.results.run_result import RunStatus
from rnnbench.results.stats import Interval
from rnnbench.results.trials import hyperparameter_importance

Row = dict[str, Any]


def panel_rows(rows: list[Row], panel: Panel) -> list[Row]:
    """The rows of one panel, of a table of the whole report (tables of no panel, such as the environment, give
    none)."""
    return [row for row in rows if row.get("panel") == panel.number]


def _panel_fields(panel: Panel) -> Row:
    return {"panel": panel.number, "dataset": panel.data.name, "view": panel.data.view, "preset": panel.train.preset}


def panels(data: PanelSet) -> list[Row]:
    """One row per panel: what was compared, on how much data, and the verdict."""
    rows = []
    for panel in data.panels:
        description = panel.dataset.description if panel.dataset else {}
        rows.append(
            {
                **_panel_fields(panel),
                "title": panel.title,
                "epochs": panel.train.epochs,
                "batch_size": panel.train.batch_size,
                "backend": panel.backend,
                **{key: description.get(key) for key in ("steps", "features", "classes", "train", "val", "test")},
                "runs": len(panel.runs),
                "unfinished": len(panel.unfinished),
                "verdict": panel.verdict,
            }
        )
    return rows


def comparison(data: PanelSet) -> list[Row]:
    """The comparison table: one row per model (and width) of each panel."""
    rows = []
    for panel in data.panels:
        for summary in panel.summary:
            accuracy = summary.test_accuracy
            epochs = summary.best_epochs
            samples = panel.train_samples
            rows.append(
                {
                    **_panel_fields(panel),
                    "model": summary.model,
                    "units": summary.units,
                    "params": summary.params,
                    "runs": summary.runs,
                    "finished": accuracy.n if accuracy else 0,
                    "test_accuracy_mean": accuracy.mean if accuracy else None,
                    "test_accuracy_std": accuracy.std if accuracy else None,
                    "test_accuracy_ci95_low": accuracy.low if accuracy else None,
                    "test_accuracy_ci95_high": accuracy.high if accuracy else None,
                    "test_accuracy_at_best_mean": _mean_of(summary.test_accuracy_at_best),
                    "test_accuracy_at_best_ci95_high": _high_of(summary.test_accuracy_at_best),
                    "best_val_accuracy_mean": _mean_of(summary.best_val_accuracy),
                    "best_val_accuracy_ci95_high": _high_of(summary.best_val_accuracy),
                    "best_epoch_median": statistics.median(epochs) if epochs else None,
                    "best_epoch_min": min(epochs) if epochs else None,
                    "best_epoch_max": max(epochs) if epochs else None,
                    "still_improving": summary.still_improving,
                    "seconds_per_epoch": summary.seconds_per_epoch,
                    "samples_per_second": samples / summary.seconds_per_epoch
                    if samples and summary.seconds_per_epoch
                    else None,
                    "setup_seconds": summary.setup_seconds,
                    "latency_ms": summary.latency_ms,
                    "images_per_second": summary.images_per_second,
                }
            )
    return rows


def _mean_of(interval: Interval | None) -> float | None:
    return interval.mean if interval is not None else None


def _high_of(interval: Interval | None) -> float | None:
    return interval.high if interval is not None else None


def runs(data: PanelSet) -> list[Row]:
    """Every run with its result (the points of the accuracy-against-parameters and -time plots)."""
    rows = []
    for panel in data.panels:
        for run in panel.runs:
            result = run.result
            rows.append(
                {
                    **_panel_fields(panel),
                    "model": panel.label(run.spec),
                    "units": run.spec.model.units,
                    "seed": run.spec.seed,
                    "run_key": run.run_key,
                    "status": run.status,
                    "reason": run.reason,
                    "params": result.params if result else None,
                    "best_epoch": result.best_epoch if result else None,
                    "best_val_accuracy": result.best_val_accuracy if result else None,
                    "test_accuracy": result.test_accuracy if result else None,
                    "test_accuracy_at_best": result.test_accuracy_at_best if result else None,
                    "train_seconds": result.train_seconds if result else None,
                    "setup_seconds": result.setup_seconds if result else None,
                    "seconds_per_epoch": result.seconds_per_epoch if result else None,
                    "latency_ms": result.latency_ms if result else None,
                    "images_per_second": result.images_per_second if result else None,
                }
            )
    return rows


def epochs(data: PanelSet) -> list[Row]:
    """Every epoch of every run (the time-per-epoch plot draws the seconds column)."""
    rows = []
    for panel in data.panels:
        for run in panel.runs:
            if run.result is None:
                continue
            for epoch in run.result.epochs:
                rows.append(
                    {
                        **_panel_fields(panel),
                        "model": panel.label(run.spec),
                        "seed": run.spec.seed,
                        "epoch": epoch.epoch,
                        "train_loss": epoch.train_loss,
                        "train_accuracy": epoch.train_accuracy,
                        "val_loss": epoch.val_loss,
                        "val_accuracy": epoch.val_accuracy,
                        "seconds": epoch.seconds,
                        "test_accuracy": epoch.test_accuracy,  # only with --test-each-epoch; never picks an epoch
                    }
                )
    return rows


def curve_metric(panel: Panel) -> str:
    """Validation accuracy, or training accuracy for runs trained without a validation set."""
    has_validation = any(e.val_accuracy is not None for result in panel.results for e in result.epochs)
    return "val_accuracy" if has_validation else "train_accuracy"


def learning_curves(data: PanelSet) -> list[Row]:
    """Per model and epoch: the mean over seeds and the band from the lowest to the highest seed."""
    rows = []
    for panel in data.panels:
        metric = curve_metric(panel)
        for summary in panel.summary:
            by_epoch: dict[int, list[float]] = {}
            for run in panel.runs_of(summary.model):
                assert run.result is not None
                for epoch in run.result.epochs:
                    value = getattr(epoch, metric)
                    if value is not None:
                        by_epoch.setdefault(epoch.epoch, []).append(value)
            for epoch_number, values in sorted(by_epoch.items()):
                rows.append(
                    {
                        **_panel_fields(panel),
                        "model": summary.model,
                        "metric": metric,
                        "epoch": epoch_number,
                        "n": len(values),
                        "mean": statistics.fmean(values),
                        "low": min(values),
                        "high": max(values),
                    }
                )
    return rows


def confusion(data: PanelSet) -> list[Row]:
    """Each model's best run (on validation accuracy): counts[true][predicted] on the test set."""
    rows = []
    for panel in data.panels:
        for summary in panel.summary:
            best = panel.best_run(summary.model)
            if best is None or best.confusion is None:
                continue
            for true, counts in enumerate(best.confusion):
                for predicted, count in enumerate(counts):
                    rows.append({**_panel_fields(panel), "model": summary.model, "seed": best.spec.seed,
                                 "true": true, "predicted": predicted, "count": count})  # fmt: skip
    return rows


def per_class_accuracy(data: PanelSet) -> list[Row]:
    """Per model and class: test accuracy on that class, mean and range over the finished runs."""
    rows = []
    for panel in data.panels:
        for summary in panel.summary:
            matrices = [
                np.asarray(run.confusion, dtype=float)
                for run in panel.runs_of(summary.model)
                if run.confusion is not None and run.result is not None and run.result.status == RunStatus.FINISHED
            ]
            if not matrices:
                continue
            recalls = np.stack([_recall(matrix) for matrix in matrices])
            for label in range(recalls.shape[1]):
                rows.append({**_panel_fields(panel), "model": summary.model, "class": label,
                             **_spread_of(recalls[:, label])})  # fmt: skip
    return rows


def _recall(matrix: np.ndarray) -> np.ndarray:
    """Each class's share of its test images classified right; NaN for a class with no test image."""
    totals = matrix.sum(axis=1)
    return np.divide(np.diag(matrix), totals, out=np.full(len(matrix), np.nan), where=totals > 0)


def _spread_of(values: np.ndarray) -> Row:
    """Mean and range over the runs that had test images of the class: none (None) is not 0 %."""
    known = values[~np.isnan(values)]
    if not known.size:
        return {"n": 0, "accuracy_mean": None, "accuracy_low": None, "accuracy_high": None}
    return {"n": int(known.size), "accuracy_mean": float(np.mean(known)), "accuracy_low": float(np.min(known)),
            "accuracy_high": float(np.max(known))}  # fmt: skip


def pairwise(data: PanelSet) -> list[Row]:
    """Welch tests on test accuracy between every two models of a panel (Holm-adjusted within the panel)."""
    return [
        {
            **_panel_fields(panel),
            "first": c.first,
            "second": c.second,
            "p_value": c.p_value,
            "p_value_holm": c.adjusted_p_value,
        }  # fmt: skip
        for panel in data.panels
        for c in panel.comparisons
    ]


def sequence_view(data: PanelSet) -> list[Row]:
    """Per panel and pixel: the example image's value and the time step at which the view reads the pixel."""
    rows = []
    for panel in data.panels:
        if panel.dataset is None or panel.dataset.example is None:
            continue
        image = panel.dataset.example
        steps = step_map(get_view(panel.data.view, panel.data.permutation_seed), image.shape)
        for (row, column), step in np.ndenumerate(steps):
            rows.append({**_panel_fields(panel), "row": row, "column": column, "step": int(step),
                         "value": float(image[row, column, 0])})  # fmt: skip
    return rows


def settings(data: PanelSet) -> list[Row]:
    """Per panel, every setting needed to run it again."""
    rows = []
    for panel in data.panels:
        spec = panel.runs[0].spec.to_dict()
        flat: Row = {"panel": panel.number}
        for section in ("data", "train"):
            for key, value in spec[section].items():
                if key == "recipe":
                    flat.update({f"recipe.{k}": v for k, v in value.items()})
                else:
                    flat[f"{section}.{key}"] = value
        structure = panel.runs[0].spec.model
        flat.update({"model.layers": structure.layers, "model.bidirectional": structure.bidirectional,
                     "model.dropout": structure.dropout, "model.head": structure.head, "backend": panel.backend,
                     "seeds": sorted({run.spec.seed for run in panel.runs})})  # fmt: skip
        rows.append(flat)
    return rows


def environment(data: PanelSet) -> list[Row]:
    """Where and with what the runs were trained."""
    fields = ("rnnbench_version", "keras_version", "backend", "backend_version", "host", "device")
    return [{"field": field, "values": data.environments(field)} for field in fields]


def trials(data: PanelSet) -> list[Row]:
    """Every trial of the searches that tuned a panel's models: its recipe, fate and validation accuracy."""
    rows = []
    for panel in data.panels:
        for trial in panel.trials:
            rows.append({**_panel_fields(panel), "model": trial.model, "trial": trial.number, "state": trial.state,
                         "val_accuracy": trial.value, "val_loss": trial.loss, "epochs": trial.epochs,
                         "seconds": trial.seconds, **trial.params})  # fmt: skip
    return rows


def importance(data: PanelSet) -> list[Row]:
    """How much each hyperparameter explains a search's complete trials' validation accuracy, per model (fANOVA)."""
    rows = []
    for panel in data.panels:
        if not panel.trials or panel.search_space is None:
            continue
        for model in dict.fromkeys(trial.model for trial in panel.trials):
            chosen = [trial for trial in panel.trials if trial.model == model]
            for name, share in hyperparameter_importance(chosen, panel.search_space).items():
                rows.append({**_panel_fields(panel), "model": model, "hyperparameter": name, "importance": share})
    return rows


TABLES = {
    "panels": panels,
    "comparison": comparison,
    "pairwise": pairwise,
    "runs": runs,
    "epochs": epochs,
    "learning_curves": learning_curves,
    "confusion": confusion,
    "per_class_accuracy": per_class_accuracy,
    "sequence_view": sequence_view,
    LENGTH_TABLE: sequence_length,
    "settings": settings,
    "environment": environment,
    "trials": trials,
    "importance": importance,
}


def all_tables(data: PanelSet) -> dict[str, list[Row]]:
    return {name: build(data) for name, build in TABLES.items()}
