"""The report's tables as text cells, shared by the HTML and Markdown renderers (so both print the same numbers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rnnbench.report.tables import Row


@dataclass(frozen=True)
class TextTable:
    """A header and rows of cell text; ``numeric`` marks the columns to right-align."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def accuracy_cell(row: Row) -> str:
    """``mean ± half-width`` of the 95 % interval, in percent (the mean alone for a single run)."""
    mean = row["test_accuracy_mean"]
    if mean is None:
        return "-"
    if row["finished"] < 2:
        return percent(mean)
    return f"{100 * mean:.2f} ± {100 * (row['test_accuracy_ci95_high'] - mean):.2f}"


def _best_epoch(row: Row) -> str:
    if row["best_epoch_median"] is None:
        return "-"
    if row["best_epoch_min"] == row["best_epoch_max"]:
        return str(row["best_epoch_min"])
    return f"{row['best_epoch_median']:g} [{row['best_epoch_min']}-{row['best_epoch_max']}]"


def _integer(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def comparison_table(rows: list[Row]) -> TextTable:
    header = ("model", "units", "parameters", "runs", "test accuracy %", "at best epoch %", "best val accuracy %",
              "best epoch", "s / epoch", "samples / s")  # fmt: skip
    cells = []
    for row in rows:
        runs = str(row["finished"])
        if row["runs"] > row["finished"]:
            runs += f" + {row['runs'] - row['finished']} diverged"
        cells.append((
            row["model"], str(row["units"]), _integer(row["params"]), runs, accuracy_cell(row),
            percent(row["test_accuracy_at_best_mean"]), percent(row["best_val_accuracy_mean"]), _best_epoch(row),
            f"{row['seconds_per_epoch']:.3f}", _integer(row["samples_per_second"]),
        ))  # fmt: skip
    return TextTable(header, tuple(cells), (False,) + (True,) * 9)


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
