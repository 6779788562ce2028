"""The report's figures: drawn once per panel, in worker processes, and not again while the panel is unchanged."""

from __future__ import annotations

from dataclasses import replace

from report_stores import HALF, PERFECT, fill, result, spec
from rnnbench.report import plots
from rnnbench.report.figures import CACHE_FOLDER
from rnnbench.report.plots import Plot
from rnnbench.report.write import report_from_store

ROWS = replace(spec("gru", 0).data, view="rows")
COLUMNS = replace(ROWS, view="columns")


def _results(datas=(ROWS, COLUMNS), seeds=(0, 1)):
    found = []
    for data in datas:
        for model in ("simplernn", "gru"):
            for seed in seeds:
                run = spec(model, seed, data)
                found.append((result(run, (0.5, 0.6 + seed / 100), 0.55 + seed / 100), PERFECT if seed else HALF))
    return found


def _cache(out):
    return {path.name: path.stat().st_mtime_ns for path in (out / CACHE_FOLDER).iterdir()}


def test_a_report_written_again_draws_only_the_panels_that_changed(tmp_path):
    store, out = tmp_path / "s.db", tmp_path / "report"
    fill(store, _results())
    first = report_from_store(store, out, ("html", "md"))
    html, markdown = first["html"].read_text(), first["md"].read_text()
    figures = sorted(path.name for path in (out / "figures").iterdir())
    assert figures and html.count("<svg") >= len(figures)
    cached = _cache(out)
    assert {name.split("-")[0] for name in cached} == {"panel1", "panel2"}

    # Nothing changed: nothing is drawn again, and the report is the same.
    again = report_from_store(store, out, ("html", "md"))
    assert _cache(out) == cached
    assert _strip_date(again["md"].read_text()) == _strip_date(markdown)
    assert _strip_date(again["html"].read_text()) == _strip_date(html)

    # A third seed in the second panel: its figures are drawn again, the first panel's are not.
    fill(store, _results(datas=(COLUMNS,), seeds=(2,)))
    report_from_store(store, out, ("html", "md"))
    now = _cache(out)
    assert {name: time for name, time in now.items() if name.startswith("panel1-")} == {
        name: time for name, time in cached.items() if name.startswith("panel1-")
    }
    changed = {name for name in now if name.startswith("panel2-")}
    assert changed and not changed & set(cached)  # the old version of panel 2 is gone from the cache
    assert sorted(path.name for path in (out / "figures").iterdir()) == figures


def _a_line(panel, tables):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(2, 2))
    figure.subplots().plot([0, 1], [0, 1])
    return figure


def test_a_plot_added_or_changed_is_drawn_in_an_existing_report_and_no_other(tmp_path, monkeypatch):
    store, out = tmp_path / "s.db", tmp_path / "report"
    fill(store, _results(datas=(ROWS,)))  # one panel: drawn in this process, which sees the plots patched below
    report_from_store(store, out, ("html", "md"))
    cached = _cache(out)
    first, second, *others = plots.PLOTS
    added = Plot("a_line", "A line", "Drawn by a plot added since.", _a_line)
    # The first plot's version is raised, the second is drawn by another function, a third plot is added.
    changed = (replace(first, version=first.version + 1), replace(second, draw=_a_line))
    monkeypatch.setattr(plots, "PLOTS", (*changed, *others, added))
    written = report_from_store(store, out, ("html", "md"))

    now = _cache(out)
    redrawn = {name for name, time in now.items() if cached.get(name) != time}
    assert {name.split("-")[1] for name in redrawn} == {first.name, second.name, "a_line"}
    assert set(cached) - set(now) == {name for name in cached if name.split("-")[1] in (first.name, second.name)}
    html, markdown = written["html"].read_text(), written["md"].read_text()
    assert 'data-plot="a_line"' in html and "### A line" in markdown
    assert (out / "figures" / "panel1-a_line-1.png").is_file()


def _strip_date(html: str) -> str:
    import re

    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[^<\" ]*", "", html)
