"""Write a report in the formats asked for: report.html, report.md (+ figures/*.png), report.json, csv/*.csv.

A report is written whole or not at all: every part is rendered first (figures into the cache, documents as texts),
and the files of the report folder are replaced only once nothing is left that could fail but the writing itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rnnbench.errors import RnnbenchError
from rnnbench.files import write_text
from rnnbench.report import data_files
from rnnbench.report.figures import PanelFigures, cache_folder, install_figures, render_figures
from rnnbench.report.folder import check_report_folder, mark_report_folder
from rnnbench.report.html import render_html
from rnnbench.report.length_section import LengthFigures, install_length_figures, render_length_figures
from rnnbench.report.lengths import TABLE
from rnnbench.report.markdown import render_markdown
from rnnbench.report.rows import Row, all_tables
from rnnbench.results.panels import PanelSet, Selection, read_panels
from rnnbench.spec import DEFAULT_REPORT_DIR

FORMATS = ("html", "md", "json", "csv")
# The main file (or folder) of each format, relative to the report folder.
MAIN = {"html": "report.html", "md": "report.md", "json": "report.json", "csv": "csv"}


def parse_formats(text: str) -> tuple[str, ...]:
    """``"html,md"`` -> ("html", "md"); an unknown format is one clear error."""
    chosen = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    unknown = [name for name in chosen if name not in FORMATS]
    if unknown or not chosen:
        raise RnnbenchError(f"--format '{text}': choose one or more of {', '.join(FORMATS)} (comma-separated)")
    return chosen


def write_report(data: PanelSet, out: Path, formats: Iterable[str] = FORMATS) -> dict[str, Path]:
    """Write ``data`` into the folder ``out`` (new, empty, or a report folder of rnnbench's); returns the main file
    of each format."""
    chosen = tuple(formats)
    check_report_folder(out)
    # Marked before anything is drawn: the cache lands in it, and a report that fails is then no foreign folder.
    mark_report_folder(out)
    tables = all_tables(data)
    drawn = render_figures(data.panels, tables, cache_folder(out), svg="html" in chosen, png="md" in chosen)
    lengths = render_length_figures(tables[TABLE], svg="html" in chosen, png="md" in chosen)
    texts = _render_texts(data, tables, drawn, chosen, lengths)
    install_figures(drawn, out)
    install_length_figures(lengths, out)
    for relative, text in texts.items():
        write_text(out / relative, text)
    return {name: out / MAIN[name] for name in chosen}


def _render_texts(
    data: PanelSet,
    tables: dict[str, list[Row]],
    drawn: list[PanelFigures],
    chosen: tuple[str, ...],
    lengths: LengthFigures,
) -> dict[str, str]:
    """Every document of the report by its path in the report folder."""
    texts: dict[str, str] = {}
    if "html" in chosen:
        svgs = {figures.number: figures.svgs for figures in drawn}
        texts[MAIN["html"]] = render_html(data, tables, svgs, lengths.svgs)
    if "md" in chosen:
        pngs = {figures.number: figures.pngs for figures in drawn}
        texts[MAIN["md"]] = render_markdown(data, tables, pngs, lengths.pngs)
    if "json" in chosen:
        texts[MAIN["json"]] = data_files.json_text(data, tables)
    if "csv" in chosen:
        texts.update({f"{MAIN['csv']}/{name}": text for name, text in data_files.csv_texts(tables).items()})
    return texts


def report_from_store(
    store: Path, out: Path = DEFAULT_REPORT_DIR, formats: Iterable[str] = FORMATS, selection: Selection | None = None
) -> dict[str, Path]:
    """Read ``store`` (read-only), and write the report of the runs ``selection`` covers (default: all)."""
    return write_report(read_panels(store, selection or Selection()), out, formats)
