"""The numbers behind every table and plot, as one JSON document and as one CSV file per table."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rnnbench.panels import PanelSet
from rnnbench.report.tables import Row
from rnnbench.version import __version__


def report_dict(data: PanelSet, tables: Mapping[str, list[Row]]) -> dict[str, Any]:
    return {
        "rnnbench_version": __version__,
        "generated_at": data.generated_at,
        "store": str(data.store),
        "selection": data.selection.describe(),
        "experiments": [{"name": e.name, "created_at": e.created_at} for e in data.experiments],
        "tables": dict(tables),
    }


def write_json(data: PanelSet, tables: Mapping[str, list[Row]], path: Path) -> Path:
    write_text(path, json.dumps(report_dict(data, tables), indent=1) + "\n")
    return path


def _csv_value(value: Any) -> Any:
    """Lists (seeds, versions) become one ``;``-separated field; None an empty field."""
    if isinstance(value, (list, tuple)):
        return ";".join(str(item) for item in value)
    return "" if value is None else value


def write_csv(tables: Mapping[str, list[Row]], folder: Path) -> list[Path]:
    """One ``<table>.csv`` per table, header first; columns in the order of the first row (union of all rows)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rows in tables.items():
        columns: dict[str, None] = {}
        for row in rows:
            columns.update(dict.fromkeys(row))
        path = folder / f"{name}.csv"
        partial = path.with_name(path.name + ".part")
        with partial.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(columns))
            writer.writeheader()
            writer.writerows({key: _csv_value(value) for key, value in row.items()} for row in rows)
        partial.replace(path)
        written.append(path)
    return written


def write_text(path: Path, content: str) -> None:
    """Write through a temporary file, so a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_text(content, encoding="utf-8")
    partial.replace(path)
