"""Tables as text cells, shared by the terminal, HTML and Markdown renderers (so all print the same numbers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rnnbench.report.rows import Row
from rnnbench.results.panels import Panel


@dataclass(frozen=True)
class TextTable:
    """A header and rows of cell text; ``numeric`` marks the columns to right-align."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def accuracy_cell(row: Row, measure: str = "test_accuracy") -> str:
    """``mean ± half-width`` of the 95 % interval of ``measure``, in percent (the mean alone for a single run)."""
    mean = row[f"{measure}_mean"]
    if mean is None:
        return "-"
    if row["finished"] < 2:
        return percent(mean)
    return f"{100 * mean:.2f} ± {100 * (row[f'{measure}_ci95_high'] - mean):.2f}"


# After the best epoch of a model that is still improving when training stops (see ModelSummary.still_improving).
STILL_IMPROVING = "↑"


def _best_epoch(row: Row) -> str:
    if row["best_epoch_median"] is None:
        return "-"
    marker = f" {STILL_IMPROVING}" if row.get("still_improving") else ""
    if row["best_epoch_min"] == row["best_epoch_max"]:
        return f"{row['best_epoch_min']}{marker}"
    return f"{row['best_epoch_median']:g} [{row['best_epoch_min']}-{row['best_epoch_max']}]{marker}"


def _integer(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _milliseconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _seconds(value: float) -> str:
    return f"{value:.3g}"


def comparison_table(rows: list[Row]) -> TextTable:
    """One row per model of a panel: the comparison every output (terminal, HTML, Markdown) shows."""
    header = ("model", "runs", "units", "params", "best val acc %", "best epoch", "test acc %", "test acc % at best",
              "s/epoch", "samples/s", "setup s", "latency ms", "images/s")  # fmt: skip
    cells = []
    for row in rows:
        runs = str(row["finished"])
        if row["runs"] > row["finished"]:
            runs += f" + {row['runs'] - row['finished']} diverged"
        cells.append((
            row["model"], runs, str(row["units"]), _integer(row["params"]), accuracy_cell(row, "best_val_accuracy"),
            _best_epoch(row), accuracy_cell(row), accuracy_cell(row, "test_accuracy_at_best"),
            _seconds(row["seconds_per_epoch"]), _integer(row["samples_per_second"]),
            "-" if row["setup_seconds"] is None else f"{row['setup_seconds']:.2f}", _milliseconds(row["latency_ms"]),
            _integer(row["images_per_second"]),
        ))  # fmt: skip
    return TextTable(header, tuple(cells), (False,) + (True,) * (len(header) - 1))


def panel_facts(panel: Panel) -> str:
    """The data, seeds and machine behind a panel, in one line."""
    seeds = sorted({run.spec.seed for run in panel.runs})
    parts = []
    if panel.dataset is not None:
        described = panel.dataset.description
        parts.append(
            f"train {described['train']:,} / val {described['val']:,} / test {described['test']:,} samples, "
            f"{described['steps']} steps x {described['features']} features, {described['classes']} classes"
        )
    parts.append(f"{len(seeds)} seed{'s' if len(seeds) > 1 else ''} ({', '.join(map(str, seeds))})")
    devices = sorted({str(run.environment.get("device")) for run in panel.runs if run.environment.get("device")})
    parts.append(f"backend {panel.backend}" + (f" on {', '.join(devices)}" if devices else ""))
    return "; ".join(parts)


def unfinished_lines(panel: Panel) -> list[str]:
    """One line per run of the panel without a result: failed, or never finished."""
    return [f"{run.status}: {run.spec.model.name} seed {run.spec.seed}: {run.reason or 'not finished'}"
            for run in panel.unfinished]  # fmt: skip


ACCURACY_NOTE = (
    "Accuracy: mean ± half-width of the 95 % Student-t confidence interval over seeds (the mean alone for one run); "
    "test acc: final weights; at best: the weights of the epoch of highest validation accuracy. Best epoch: median "
    "[range] over seeds; ↑: still improving, most seeds were best at their last epoch. Time: median epoch, "
    "validation included; samples/s: training; setup s: a run's fixed cost before its first epoch (building the "
    "model, compiling its programs), median over seeds. Serving cost of the model at its best epoch, median over "
    "seeds, measured where it trained (a worker process computes on one thread): latency ms for one image, images/s "
    "in batches of 1,024."
)


def _p(value: float) -> str:
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def pairwise_table(rows: list[Row]) -> TextTable:
    cells = tuple((row["first"], row["second"], _p(row["p_value"]), _p(row["p_value_holm"])) for row in rows)
    return TextTable(("model", "against", "Welch p", "Holm-adjusted p"), cells, (False, False, True, True))


def runs_table(rows: list[Row]) -> TextTable:
    header = ("model", "seed", "status", "parameters", "best epoch", "best val accuracy %", "test accuracy %",
              "at best epoch %", "training s", "run key")  # fmt: skip
    cells = []
    for row in rows:
        status = row["status"] if not row["reason"] else f"{row['status']}: {row['reason']}"
        cells.append((
            row["model"], str(row["seed"]), status, _integer(row["params"]),
            "-" if row["best_epoch"] is None else str(row["best_epoch"]), percent(row["best_val_accuracy"]),
            percent(row["test_accuracy"]), percent(row["test_accuracy_at_best"]),
            "-" if row["train_seconds"] is None else f"{row['train_seconds']:.1f}", row["run_key"],
        ))  # fmt: skip
    return TextTable(header, tuple(cells), (False, True, False) + (True,) * 6 + (False,))


def _value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_value(item) for item in value) or "-"
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def key_value_table(pairs: list[tuple[str, Any]]) -> TextTable:
    return TextTable(("setting", "value"), tuple((key, _value(value)) for key, value in pairs), (False, False))
