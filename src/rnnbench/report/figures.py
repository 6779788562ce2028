"""The report's figures, panel by panel: drawn in worker processes, and kept beside the report so that a figure whose
inputs did not change is not drawn again.

Drawing is most of a report's time (a panel has about eight figures, each laid out and rendered by matplotlib on one
thread). A figure depends only on its panel, the panel's rows of the tables and the plot that draws it (its name, its
version and the source of its drawing function), so a hash of those names it in the cache folder ``.figures/`` of the
report: a report written again after one more comparison redraws only the panels that changed, and a plot added or
changed is drawn in every panel while the other plots' figures are kept.

Figures are drawn into the cache only; the report's own ``figures/`` folder is written by :func:`install_figures`
once every part of the report rendered, so a figure that fails to draw leaves an earlier report as it was.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import multiprocessing
import os
import pickle
import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from rnnbench.files import replace_atomically, write_text
from rnnbench.report import plots
from rnnbench.report.plots import Plot, Tables, save_png, svg_text
from rnnbench.report.rows import panel_rows
from rnnbench.results.panels import Panel
from rnnbench.version import __version__

CACHE_FOLDER = ".figures"
FIGURES_FOLDER = "figures"


@dataclass(frozen=True)
class PanelFigures:
    """One panel's figures: inline SVG texts and PNG paths (relative to the report folder) by plot name, the cached
    file behind each PNG path, and the cache keys of the plots drawn."""

    number: int
    svgs: dict[str, list[str]]
    pngs: dict[str, list[str]]
    sources: dict[str, Path]
    keys: tuple[str, ...]


def render_figures(panels: tuple[Panel, ...], tables: Tables, cache: Path, svg: bool, png: bool) -> list[PanelFigures]:
    """Every panel's figures as SVG texts (``svg``) and as PNG files (``png``), in the cache folder only:
    :func:`install_figures` puts them in the report once the whole report is rendered."""
    if not (svg or png) or not panels:
        return []
    tasks = [
        (panel, {name: panel_rows(rows, panel) for name, rows in tables.items()}, cache, svg, png) for panel in panels
    ]
    workers = min(len(tasks), _usable_cores())
    if workers < 2:
        return [panel_figures(*task) for task in tasks]
    # Spawned, not forked: the calling process may run JAX's threads, which a fork would copy mid-flight.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(panel_figures, *zip(*tasks, strict=True)))


def install_figures(drawn: list[PanelFigures], out: Path) -> None:
    """Copy the PNGs of ``drawn`` from the cache into the report folder ``out``, and drop from the cache the other
    versions of each panel's figures."""
    for figures in drawn:
        for relative, source in figures.sources.items():
            _copy(source, out / relative)
        _forget_other_versions(cache_folder(out), figures.number, figures.keys)


def cache_folder(out: Path) -> Path:
    """The cache of the report folder ``out``."""
    return out / CACHE_FOLDER


def _usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def panel_figures(panel: Panel, tables: Tables, cache: Path, svg: bool, png: bool) -> PanelFigures:
    """One panel's figures, each plot's from the cache where what it draws is unchanged, else drawn (and cached)."""
    inputs = _inputs_digest(panel, tables)
    svgs: dict[str, list[str]] = {}
    pngs: dict[str, list[str]] = {}
    sources: dict[str, Path] = {}
    keys = []
    for plot in plots.PLOTS:
        key = f"panel{panel.number}-{plot.name}-{_plot_digest(inputs, plot)}"
        keys.append(key)
        drawn_svgs = _cached_svgs(cache, key) if svg else []
        drawn_pngs = _cached_pngs(cache, key) if png else []
        if drawn_svgs is None or drawn_pngs is None:
            drawn_svgs, drawn_pngs = _draw(plot, panel, tables, cache, key, svg, png)
        if drawn_svgs:
            svgs[plot.name] = drawn_svgs
        if drawn_pngs:
            pngs[plot.name] = drawn_pngs
            sources.update(_png_sources(cache, key, drawn_pngs))
    return PanelFigures(panel.number, svgs, pngs, sources, tuple(keys))


def _png_sources(cache: Path, key: str, pngs: list[str]) -> dict[str, Path]:
    """The cached file of each of a plot's PNG paths in the report."""
    return {relative: cache / f"{key}-{index}.png" for index, relative in enumerate(pngs, start=1)}


def _inputs_digest(panel: Panel, tables: Tables) -> str:
    """What every figure of the panel is drawn from, and with: the panel, its rows, matplotlib and the style."""
    import matplotlib

    inputs = (__version__, matplotlib.__version__, plots.STYLE, panel, tables)
    return hashlib.sha256(pickle.dumps(inputs, protocol=5)).hexdigest()


def _plot_digest(inputs: str, plot: Plot) -> str:
    try:
        source = inspect.getsource(plot.draw)
    except (OSError, TypeError):  # no source to read (a built or frozen install): its name stands for it
        source = f"{plot.draw.__module__}.{plot.draw.__qualname__}"
    identity = json.dumps([inputs, plot.name, plot.version, source])
    return hashlib.sha256(identity.encode()).hexdigest()[:20]


def _draw(
    plot: Plot, panel: Panel, tables: Tables, cache: Path, key: str, svg: bool, png: bool
) -> tuple[list[str], list[str]]:
    svgs: list[str] = []
    pngs: list[str] = []
    for index, figure in enumerate(plot.figures(panel, tables), start=1):
        name = f"panel{panel.number}-{plot.name}-{index}"
        if svg:
            svgs.append(svg_text(figure, name))
        if png:
            save_png(figure, cache / f"{key}-{index}.png")
            pngs.append(f"{FIGURES_FOLDER}/{name}.png")
    if svg:
        write_text(cache / f"{key}.svg.json", json.dumps(svgs))
    if png:
        write_text(cache / f"{key}.png.json", json.dumps(pngs))
    return svgs, pngs


def _cached_svgs(cache: Path, key: str) -> list[str] | None:
    try:
        return list(json.loads((cache / f"{key}.svg.json").read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def _cached_pngs(cache: Path, key: str) -> list[str] | None:
    """The report's PNG paths of ``key``; None when any of their files is missing from the cache."""
    try:
        pngs: list[str] = list(json.loads((cache / f"{key}.png.json").read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None
    if not all(source.is_file() for source in _png_sources(cache, key, pngs).values()):
        return None
    return pngs


def _copy(source: Path, destination: Path) -> None:
    same_size = destination.is_file() and destination.stat().st_size == source.stat().st_size
    if same_size and destination.read_bytes() == source.read_bytes():
        return
    with source.open("rb") as readable:
        replace_atomically(destination, lambda file: shutil.copyfileobj(readable, file))


def _forget_other_versions(cache: Path, number: int, keys: tuple[str, ...]) -> None:
    """Drop this panel's figures drawn from other inputs, or by plots no longer drawn: the cache holds the latest of
    each plot of each panel only."""
    if not cache.is_dir():
        return
    for path in cache.glob(f"panel{number}-*"):
        if not any(path.name.startswith(key) for key in keys):
            path.unlink(missing_ok=True)
