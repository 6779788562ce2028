"""The report's figures, panel by panel: drawn in worker processes, and kept beside the report so that a figure whose
inputs did not change is not drawn again.

Drawing is most of a report's time (a panel has about eight figures, each laid out and rendered by matplotlib on one
thread). Each panel's figures depend only on the panel and its rows of the tables, so a hash of those names them in
the cache folder ``.figures/`` of the report; a report written again after one more comparison redraws only the
panels that changed.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import pickle
import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from rnnbench.files import replace_atomically, write_text
from rnnbench.report.plots import PLOTS, Tables, save_png, svg_text
from rnnbench.report.rows import panel_rows
from rnnbench.results.panels import Panel
from rnnbench.version import __version__

CACHE_FOLDER = ".figures"
FIGURES_FOLDER = "figures"


@dataclass(frozen=True)
class PanelFigures:
    """One panel's figures: inline SVG texts and PNG paths (relative to the report folder), by plot name."""

    number: int
    svgs: dict[str, list[str]]
    pngs: dict[str, list[str]]


def render_figures(panels: tuple[Panel, ...], tables: Tables, out: Path, svg: bool, png: bool) -> list[PanelFigures]:
    """Every panel's figures as SVG texts (``svg``) and as PNG files under ``out/figures`` (``png``)."""
    if not (svg or png) or not panels:
        return []
    tasks = [
        (panel, {name: panel_rows(rows, panel) for name, rows in tables.items()}, out, svg, png) for panel in panels
    ]
    workers = min(len(tasks), _usable_cores())
    if workers < 2:
        return [panel_figures(*task) for task in tasks]
    # Spawned, not forked: the calling process may run JAX's threads, which a fork would copy mid-flight.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(panel_figures, *zip(*tasks, strict=True)))


def _usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def panel_figures(panel: Panel, tables: Tables, out: Path, svg: bool, png: bool) -> PanelFigures:
    """One panel's figures, from the cache where its inputs are unchanged, else drawn (and cached)."""
    import matplotlib

    inputs = pickle.dumps((__version__, matplotlib.__version__, panel, tables), protocol=5)
    key = f"panel{panel.number}-{hashlib.sha256(inputs).hexdigest()[:20]}"
    cache = out / CACHE_FOLDER
    svgs = _cached_svgs(cache, key) if svg else {}
    pngs = _cached_pngs(cache, key, out) if png else {}
    if (svg and svgs is None) or (png and pngs is None):
        svgs, pngs = _draw(panel, tables, out, key, svg, png)
    _forget_other_versions(cache, panel.number, key)
    return PanelFigures(panel.number, svgs or {}, pngs or {})


def _draw(
    panel: Panel, tables: Tables, out: Path, key: str, svg: bool, png: bool
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    cache = out / CACHE_FOLDER
    svgs: dict[str, list[str]] = {}
    pngs: dict[str, list[str]] = {}
    for plot in PLOTS:
        for index, figure in enumerate(plot.figures(panel, tables), start=1):
            name = f"panel{panel.number}-{plot.name}-{index}"
            if svg:
                svgs.setdefault(plot.name, []).append(svg_text(figure, name))
            if png:
                relative = f"{FIGURES_FOLDER}/{name}.png"
                save_png(figure, cache / f"{key}-{name}.png")
                _copy(cache / f"{key}-{name}.png", out / relative)
                pngs.setdefault(plot.name, []).append(relative)
    if svg:
        write_text(cache / f"{key}.svg.json", json.dumps(svgs))
    if png:
        write_text(cache / f"{key}.png.json", json.dumps(pngs))
    return svgs, pngs


def _cached_svgs(cache: Path, key: str) -> dict[str, list[str]] | None:
    try:
        return dict(json.loads((cache / f"{key}.svg.json").read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def _cached_pngs(cache: Path, key: str, out: Path) -> dict[str, list[str]] | None:
    """The PNGs of ``key``, put in place in the report; None when any is missing from the cache."""
    try:
        pngs: dict[str, list[str]] = dict(json.loads((cache / f"{key}.png.json").read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None
    sources = {relative: cache / f"{key}-{Path(relative).name}" for paths in pngs.values() for relative in paths}
    if not all(source.is_file() for source in sources.values()):
        return None
    for relative, source in sources.items():
        _copy(source, out / relative)
    return pngs


def _copy(source: Path, destination: Path) -> None:
    same_size = destination.is_file() and destination.stat().st_size == source.stat().st_size
    if same_size and destination.read_bytes() == source.read_bytes():
        return
    with source.open("rb") as readable:
        replace_atomically(destination, lambda file: shutil.copyfileobj(readable, file))


def _forget_other_versions(cache: Path, number: int, key: str) -> None:
    """Drop this panel's figures drawn from other inputs: the cache holds the latest of each panel only."""
    if not cache.is_dir():
        return
    for path in cache.glob(f"panel{number}-*"):
        if not path.name.startswith(key):
            path.unlink(missing_ok=True)
