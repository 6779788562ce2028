"""Write a report in the formats asked for: report.html, report.md (+ figures/*.png), report.json, csv/*.csv."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rnnbench.errors import RnnbenchError
from rnnbench.files import write_text
from rnnbench.report import data_files
from rnnbench.report.figures import render_figures
from rnnbench.report.html import render_html
from rnnbench.report.markdown import render_markdown
from rnnbench.report.rows import all_tables
from rnnbench.results.panels import PanelSet, Selection, read_panels
from rnnbench.spec import DEFAULT_REPORT_DIR

FORMATS = ("html", "md", "json", "csv")


def parse_formats(text: str) -> tuple[str, ...]:
    """``"html,md"`` -> ("html", "md"); an unknown format is one clear error."""
    chosen = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    unknown = [name for name in chosen if name not in FORMATS]
    if unknown or not chosen:
        raise RnnbenchError(f"--format '{text}': choose one or more of {', '.join(FORMATS)} (comma-separated)")
    return chosen


def write_report(data: PanelSet, out: Path, formats: Iterable[str] = FORMATS) -> dict[str, Path]:
    """Write ``data`` into the folder ``out``; returns the main file of each format."""
    chosen = tuple(formats)
    tables = all_tables(data)
    out.mkdir(parents=True, exist_ok=True)
    drawn = render_figures(data.panels, tables, out, svg="html" in chosen, png="md" in chosen)
    svgs = {figures.number: figures.svgs for figures in drawn}
    pngs = {figures.number: figures.pngs for figures in drawn}
    written: dict[str, Path] = {}
    if "html" in chosen:
        written["html"] = out / "report.html"
        write_text(written["html"], render_html(data, tables, svgs))
    if "md" in chosen:
        written["md"] = out / "report.md"
        write_text(written["md"], render_markdown(data, tables, pngs))
    if "json" in chosen:
        written["json"] = data_files.write_json(data, tables, out / "report.json")
    if "csv" in chosen:
        data_files.write_csv(tables, out / "csv")
        written["csv"] = out / "csv"
    return written


def report_from_store(
    store: Path, out: Path = DEFAULT_REPORT_DIR, formats: Iterable[str] = FORMATS, selection: Selection | None = None
) -> dict[str, Path]:
    """Read ``store`` (read-only), and write the report of the runs ``selection`` covers (default: all)."""
    return write_report(read_panels(store, selection or Selection()), out, formats)
