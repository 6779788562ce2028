"""The numbers behind every table and plot, as one JSON document and as one CSV file per table."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any

from rnnbench.report.published import published_rows
from rnnbench.report.rows import Row
from rnnbench.results.panels import PanelSet
from rnnbench.version import __version__


def report_dict(data: PanelSet, tables: Mapping[str, list[Row]]) -> dict[str, Any]:
    return {
        "rnnbench_version": __version__,
        "generated_at": data.generated_at,
        "store": str(data.store),
        "selection": data.selection.describe(),
        "experiments": [{"name": e.name, "created_at": e.created_at} for e in data.experiments],
        "tables": dict(tables),
        # Beside the tables, never among them: figures the papers report, not measured here.
        "published": published_rows(data),
    }


def json_text(data: PanelSet, tables: Mapping[str, list[Row]]) -> str:
    return json.dumps(report_dict(data, tables), indent=1) + "\n"


def _csv_value(value: Any) -> Any:
    """Lists (seeds, versions) become one ``;``-separated field; None an empty field."""
    if isinstance(value, (list, tuple)):
        return ";".join(str(item) for item in value)
    return "" if value is None else value


def csv_texts(tables: Mapping[str, list[Row]]) -> dict[str, str]:
    """One ``<table>.csv`` text per table, header first; columns in the order of the first row (union of all
    rows)."""
    texts = {}
    for name, rows in tables.items():
        columns: dict[str, None] = {}
        for row in rows:
            columns.update(dict.fromkeys(row))
        text = io.StringIO(newline="")
        writer = csv.DictWriter(text, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows({key: _csv_value(value) for key, value in row.items()} for row in rows)
        texts[f"{name}.csv"] = text.getvalue()
    return texts
