"""Reading rendered reports back in tests: HTML tables and figures, and the store's numbers straight from SQLite."""

from __future__ import annotations

import json
import sqlite3
import statistics
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from scipy.stats import t


class ReportPage(HTMLParser):
    """Tables by their class (rows of cell text, header first), figures by plot name (how many ``<svg>`` each)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.figures: dict[str, int] = {}
        self.sources: list[str] = []  # every src/href/xlink:href value
        self.tags: set[str] = set()
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self._figure: str | None = None
        self._groups = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.add(tag)
        self.sources += [value or "" for key, value in attrs if key in ("src", "href", "xlink:href")]
        if tag == "table":
            self._table = self.tables.setdefault(values.get("class") or "", [])
        elif tag == "tr" and self._table is not None:
            self._groups = values.get("class") == "groups"  # names over groups of columns, not a row of the table
            if not self._groups:
                self._table.append([])
        elif tag in ("td", "th") and self._table is not None and not self._groups:
            self._cell = []
        elif tag == "figure":
            self._figure = values.get("data-plot")
            self.figures[self._figure or ""] = 0
        elif tag == "svg" and self._figure is not None:
            self.figures[self._figure] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            # A no-break space keeps a unit with its name on the page; it reads as a space.
            self._table[-1].append("".join(self._cell).replace("\u00a0", " ").strip())
            self._cell = None
        elif tag == "table":
            self._table = None
        elif tag == "figure":
            self._figure = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def rows_by_first_cell(table: list[list[str]]) -> dict[str, dict[str, str]]:
    header, *rows = table
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows}


def store_numbers(store: Path) -> dict[str, dict[str, Any]]:
    """Per model, computed here from the raw tables: what the comparison table must show."""
    connection = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        runs = connection.execute(
            "SELECT r.run_key, r.spec, s.params, s.test_accuracy, s.best_epoch, s.latency_ms, s.images_per_second "
            "FROM runs r JOIN results s USING (run_key) WHERE r.status = 'finished'"
        ).fetchall()
        (description,) = connection.execute("SELECT description FROM datasets").fetchone()
        epochs = connection.execute("SELECT run_key, seconds FROM epochs").fetchall()
    finally:
        connection.close()
    train = json.loads(description)["train"]
    numbers: dict[str, dict[str, Any]] = {}
    for key, spec, params, accuracy, best_epoch, latency, throughput in runs:
        lists: dict[str, Any] = {name: [] for name in ("accuracies", "epochs", "times", "latencies", "throughputs")}
        model = numbers.setdefault(json.loads(spec)["model"]["name"], lists)
        model["latencies"].append(latency)
        model["throughputs"].append(throughput)
        model.update(params=params)
        model["accuracies"].append(accuracy)
        model["epochs"].append(best_epoch)
        model["times"].append(statistics.median(seconds for run, seconds in epochs if run == key))
    for model in numbers.values():
        values = model["accuracies"]
        model["mean"] = statistics.fmean(values)
        model["half_width"] = t.ppf(0.975, len(values) - 1) * statistics.stdev(values) / len(values) ** 0.5
        model["seconds_per_epoch"] = statistics.median(model["times"])
        model["samples_per_second"] = train / model["seconds_per_epoch"]
        model["latency_ms"] = statistics.median(model["latencies"])
        model["images_per_second"] = statistics.median(model["throughputs"])
    return numbers
