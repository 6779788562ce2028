"""The report as one self-contained HTML page: inline CSS and SVG, no scripts, nothing fetched from anywhere.

It reads on a laptop (figures side by side) and on a phone (one column, wide tables scroll sideways with the model
column kept in view), and prints one panel per page with no figure split across pages.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from html import escape

from rnnbench.report import cells, length_section, plots, published
from rnnbench.report.cells import TextTable
from rnnbench.report.rows import Row, panel_rows
from rnnbench.results.panels import Panel, PanelSet
from rnnbench.version import __version__

# Figures that need the full width to stay legible.
WIDE_FIGURES = ("confusion", "sequence_view")

STYLE = """
:root { --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --accent: #0b5cad; --tint: #eef5fc; --paper: #fff; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0; background: var(--paper); color: var(--ink);
       font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
h1 { font-size: 1.7rem; line-height: 1.2; margin: 0 0 .3rem; }
h2 { font-size: 1.35rem; line-height: 1.25; margin: 2.2rem 0 .4rem; padding-top: .8rem;
     border-top: 2px solid var(--line); }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
p { margin: .4rem 0; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em;
       overflow-wrap: anywhere; }
.meta, .note, figcaption { color: var(--muted); font-size: .9rem; }
.verdict { background: var(--tint); border-left: 4px solid var(--accent); padding: .6rem .9rem; margin: .8rem 0;
           overflow-wrap: anywhere; }
nav ol { margin: .3rem 0; padding-left: 1.4rem; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; margin: .5rem 0; max-width: 100%; }
table { border-collapse: collapse; font-size: .9rem; font-variant-numeric: tabular-nums; }
th, td { padding: .35rem .65rem; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap;
         vertical-align: top; }
th { font-weight: 600; background: #f6f8fa; }
.num { text-align: right; }
.scroll th:first-child, .scroll td:first-child { position: sticky; left: 0; background: var(--paper); }
.scroll th:first-child { background: #f6f8fa; }
table.settings td:last-child { white-space: normal; overflow-wrap: anywhere; }
/* The comparison: names wrap under their group's header, cost columns are set smaller. */
table.comparison th { white-space: normal; vertical-align: bottom; min-width: 3.5em; }
table.comparison th, table.comparison td { padding: .35rem .45rem; }
table.comparison td.wrap { white-space: normal; }
/* The empty cell over model to params spans four columns: kept in view, it would cover the groups' names. */
.scroll table.comparison tr.groups th:first-child { position: static; }
table.comparison .cost { font-size: .86em; }
table.comparison tr.groups th { text-align: center; background: var(--paper); border-bottom: 0; padding-bottom: 0; }
table.comparison tr.groups th.group { background: #f6f8fa; border-bottom: 2px solid var(--line); color: var(--muted);
                                      font-weight: 600; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 440px), 1fr)); gap: 1.5rem 2rem;
           margin-top: 1rem; }
figure { margin: 0; min-width: 0; }
figure.wide { grid-column: 1 / -1; }
figure h3 { margin-top: 0; }
figure svg { display: block; width: 100%; height: auto; max-height: 80vh; }
figure.wide > svg { max-width: 820px; }
.several { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 330px), 1fr)); gap: 1rem; }
footer { margin-top: 3rem; color: var(--muted); font-size: .85rem; }
@media (max-width: 600px) {
  main { padding: 1rem .75rem 2rem; }
  h1 { font-size: 1.4rem; }
  h2 { font-size: 1.2rem; }
  table { font-size: .82rem; }
  th, td { padding: .3rem .45rem; }
  table.comparison tr.groups th { text-align: left; }  /* the name in view while the table scrolls */
}
@media print {
  @page { margin: 14mm; }
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  .scroll { overflow: visible; }
  table { font-size: 8.5pt; }
  th, td { padding: .15rem .3rem; }
  th, table.settings td { white-space: normal; }
  .scroll th:first-child, .scroll td:first-child { position: static; }
  /* Two figures a row, as on a laptop: half a page each is plenty on paper. */
  .figures { grid-template-columns: 1fr 1fr; gap: 4mm 6mm; }
  figure { break-inside: avoid; page-break-inside: avoid; }
  figure svg, figure.wide > svg { max-height: 110mm; }
  .several { grid-template-columns: repeat(3, 1fr); }
  section.panel + section.panel, section.lengths, section.settings { break-before: page; page-break-before: always; }
  .verdict { border: 1px solid var(--ink); }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
}
"""


# The comparison table's columns under a header of their group: the names below can then wrap, and the cost columns
# be set smaller, so that the table fits a laptop's page. Columns not named here sit under an empty group header.
COMPARISON_GROUPS = {
    **dict.fromkeys(("best val acc %", "best epoch", "test acc %", "test acc % at best"), "accuracy"),
    **dict.fromkeys(("s/epoch", "samples/s", "setup s"), "training cost"),
    **dict.fromkeys(("latency ms", "images/s"), "serving cost"),
}
COST_GROUPS = ("training cost", "serving cost")
# Text cells that may wrap where the table would not fit otherwise ("3 + 1 / diverged"); numbers never do.
COMPARISON_WRAPPED = ("model", "runs")


def _class(names: list[str]) -> str:
    return f' class="{" ".join(names)}"' if names else ""


def _group_row(groups: tuple[str, ...]) -> str:
    cells = []
    for group, run in itertools.groupby(groups):
        kinds = (["group"] if group else []) + (["cost"] if group in COST_GROUPS else [])
        scope = " scope=colgroup" if group else ""
        cells.append(f'<th colspan="{len(list(run))}"{scope}{_class(kinds)}>{escape(group)}</th>')
    return f'<tr class="groups">{"".join(cells)}</tr>'


def _table(
    table: TextTable, css_class: str = "", groups: tuple[str, ...] | None = None, wrapped: tuple[str, ...] = ()
) -> str:
    """A table in its scroll box; ``groups``: each column's group, named in a header row above the columns';
    ``wrapped``: the columns whose cells may wrap."""
    kinds = [(["num"] if numeric else []) + (["wrap"] if name in wrapped else [])
             for name, numeric in zip(table.header, table.numeric, strict=True)]  # fmt: skip
    head = ""
    if groups is not None:
        kinds = [kind + (["cost"] if group in COST_GROUPS else []) for kind, group in zip(kinds, groups, strict=True)]
        head = _group_row(groups)
    names = zip(table.header, kinds, strict=True)
    head += "<tr>" + "".join(f'<th scope="col"{_class(kind)}>{escape(name)}</th>' for name, kind in names) + "</tr>"
    body = "".join(
        "<tr>"
        + "".join(f"<td{_class(kind)}>{escape(cell)}</td>" for cell, kind in zip(row, kinds, strict=True))
        + "</tr>"
        for row in table.rows
    )
    table_class = _class([css_class] if css_class else [])
    return f'<div class="scroll"><table{table_class}><thead>{head}</thead><tbody>{body}</tbody></table></div>'


def _comparison(table: TextTable) -> str:
    groups = tuple(COMPARISON_GROUPS.get(name, "") for name in table.header)
    # A percent sign stays on the line of its name when the name wraps ("best val / acc %", not "best val acc / %").
    header = tuple(name.replace(" %", "\u00a0%") for name in table.header)
    return _table(dataclasses.replace(table, header=header), "comparison", groups, COMPARISON_WRAPPED)


def _figure(panel: Panel, name: str, title: str, caption: str, svgs: list[str]) -> str:
    wide = " wide" if name in WIDE_FIGURES else ""
    drawings = svgs[0] if len(svgs) == 1 else '<div class="several">' + "".join(svgs) + "</div>"
    return (
        f'<figure class="plot{wide}" id="panel-{panel.number}-{name}" data-plot="{name}">'
        f"<h3>{escape(title)}</h3>{drawings}<figcaption>{escape(caption)}</figcaption></figure>"
    )


def _panel(panel: Panel, data: PanelSet, tables: Mapping[str, list[Row]], svgs: Mapping[str, list[str]]) -> str:
    comparison = cells.comparison_table(panel_rows(tables["comparison"], panel))
    parts = [
        f'<section class="panel" id="panel-{panel.number}">',
        f"<h2>{escape(panel.title)}</h2>",
        f'<p class="meta">{escape(cells.panel_facts(panel))}</p>',
        f'<p class="verdict"><strong>Verdict:</strong> {escape(panel.verdict)}</p>',
        _comparison(comparison),
        f'<p class="note">{escape(cells.ACCURACY_NOTE)}</p>',
        *_published(panel),
        '<div class="figures">',
    ]
    for plot in plots.PLOTS:
        if plot.name in svgs:
            parts.append(_figure(panel, plot.name, plot.heading(panel), plot.caption, svgs[plot.name]))
    parts.append("</div>")
    pairwise = panel_rows(tables["pairwise"], panel)
    if pairwise:
        parts += ["<h3>Pairwise tests</h3>", _table(cells.pairwise_table(pairwise), "pairwise"),
                  '<p class="note">Two-sided Welch t-tests on test accuracy over seeds; p-values Holm-adjusted across '
                  "the pairs of this panel.</p>"]  # fmt: skip
    parts += ["<h3>Runs</h3>", _table(cells.runs_table(panel_rows(tables["runs"], panel)), "runs"), "</section>"]
    return "\n".join(parts)


def _lengths(tables: Mapping[str, list[Row]], svgs: Mapping[int, Mapping[str, str]]) -> str:
    """The "Sequence length" section: a table and two figures per group of panels that differ only by their view;
    nothing where there is no such group."""
    groups = length_section.section_rows(tables)
    if not groups:
        return ""
    parts = [f'<section class="lengths" id="{length_section.SECTION_ID}">', "<h2>Sequence length</h2>"]
    for number, rows in groups.items():
        parts += [f"<h3>{escape(length_section.group_title(rows))}</h3>",
                  _table(length_section.length_table(rows), "lengths"),
                  f'<p class="note">{escape(length_section.NOTE)}</p>', '<div class="figures">']  # fmt: skip
        for plot in length_section.LENGTH_PLOTS:
            svg = svgs.get(number, {}).get(plot.name)
            if svg is not None:
                parts.append(f'<figure class="plot" id="{length_section.SECTION_ID}-{number}-{plot.name}" '
                             f'data-plot="{plot.name}"><h3>{escape(plot.title)}</h3>{svg}'
                             f"<figcaption>{escape(plot.caption)}</figcaption></figure>")  # fmt: skip
        parts.append("</div>")
    parts.append("</section>")
    return "\n".join(parts)


def _published(panel: Panel) -> list[str]:
    """The published figures of the panel's task, as a block of their own beside the measured table."""
    figures = published.published_table(panel)
    if figures is None:
        return []
    return [f"<h3>{escape(published.HEADING)}</h3>", _table(figures, "published"),
            f'<p class="note">{escape(published.NOTE)}</p>']  # fmt: skip


def _settings(data: PanelSet, tables: Mapping[str, list[Row]]) -> str:
    parts = ['<section class="settings" id="settings">', "<h2>Settings, versions and machine</h2>"]
    for row in tables["settings"]:
        panel = data.panels[row["panel"] - 1]
        if len(data.panels) > 1:
            parts.append(f"<h3>{escape(panel.title)}</h3>")
        pairs = [(key, value) for key, value in row.items() if key != "panel"]
        parts.append(_table(cells.key_value_table(pairs), "settings"))
    environment = [(row["field"].replace("_", " "), row["values"]) for row in tables["environment"]]
    experiments = [(f"experiment {e.name}", f"started {e.created_at}") for e in data.experiments]
    parts += ["<h3>Versions and machine</h3>", _table(cells.key_value_table(environment + experiments), "settings"),
              "</section>"]  # fmt: skip
    return "\n".join(parts)


FOOTER = (
    f"<footer>Generated by rnnbench {escape(__version__)} from the results store alone; "
    "<code>rnnbench report --format json,csv</code> writes the numbers behind every table and plot.</footer>"
)


def render_html(
    data: PanelSet,
    tables: Mapping[str, list[Row]],
    svgs: Mapping[int, Mapping[str, list[str]]],
    length_svgs: Mapping[int, Mapping[str, str]] | None = None,
) -> str:
    """The page; ``svgs`` maps a panel number to its figures (plot name -> its inline ``<svg>`` elements),
    ``length_svgs`` a group of the sequence length section to its figures (plot name -> ``<svg>``)."""
    title = data.panels[0].title if len(data.panels) == 1 else f"{len(data.panels)} comparisons"
    runs = len(data.runs)
    lengths = _lengths(tables, length_svgs or {})
    nav = ""
    if len(data.panels) > 1:
        items = "".join(f'<li><a href="#panel-{p.number}">{escape(p.title)}</a></li>' for p in data.panels)
        if lengths:
            items += f'<li><a href="#{length_section.SECTION_ID}">Sequence length</a></li>'
        nav = f'<nav><ol>{items}<li><a href="#settings">Settings, versions and machine</a></li></ol></nav>'
    body = "\n".join(_panel(panel, data, tables, svgs.get(panel.number, {})) for panel in data.panels)
    body += "\n" + lengths if lengths else ""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="rnnbench {escape(__version__)}">
<title>rnnbench report: {escape(title)}</title>
<style>{STYLE}</style>
</head>
<body>
<main>
<header>
<h1>rnnbench report</h1>
<p class="meta">{runs} run{"s" if runs != 1 else ""} from <code>{escape(str(data.store))}</code>
({escape(data.selection.describe())}), generated {escape(data.generated_at)}</p>
{nav}
</header>
{body}
{_settings(data, tables)}
{FOOTER}
</main>
</body>
</html>
"""
