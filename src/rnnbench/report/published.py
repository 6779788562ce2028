"""What papers report on the task a panel reads (:mod:`rnnbench.spec.protocols`), shown beside the measured figures.

The published figures are a separate block under their own heading, with the variant each paper measured and its
source; they never enter the comparison table's columns, the statistics or the verdict. A panel shows them when its
data set and view are a protocol's, however its runs were started.
"""

from __future__ import annotations

from typing import Any

from rnnbench.report.cells import TextTable
from rnnbench.results.panels import Panel, PanelSet
from rnnbench.spec.protocols import Protocol, PublishedFigure, protocol_reading

HEADING = "Published figures (reported by papers, not measured here)"
NOTE = ("Test accuracies the cited papers report for the variant named, trained with their own recipes: a reference "
        "point beside the measured figures, never part of this panel's statistics or verdict.")  # fmt: skip
HEADER = ("model", "published test acc %", "variant measured", "source")


def panel_protocol(panel: Panel) -> Protocol | None:
    """The protocol whose task this panel's runs read, if any."""
    return protocol_reading(panel.data.name, panel.data.view)


def published_figures(panel: Panel) -> list[PublishedFigure]:
    """The published figures of the cells this panel compares, on the task it reads, in the panel's model order."""
    protocol = panel_protocol(panel)
    if protocol is None:
        return []
    models = dict.fromkeys(run.spec.model.name for run in panel.runs)
    return [figure for model in models if (figure := protocol.figure_for(model)) is not None]


def published_table(panel: Panel) -> TextTable | None:
    """The block of published figures for ``panel``; None where there is none."""
    figures = published_figures(panel)
    if not figures:
        return None
    rows = tuple(
        (figure.model, f"{figure.test_accuracy:.2f}", figure.variant, f"{figure.source.paper} ({figure.source.where})")
        for figure in figures
    )
    return TextTable(HEADER, rows, (False, True, False, False))


def figure_dict(figure: PublishedFigure) -> dict[str, Any]:
    source = figure.source
    return {"model": figure.model, "test_accuracy_percent": figure.test_accuracy, "variant": figure.variant,
            "paper": source.paper, "where": source.where, "checked": source.checked}  # fmt: skip


def published_dict(panel: Panel) -> dict[str, Any] | None:
    """The published figures of ``panel`` as data (report JSON, summary JSON); None where there is none."""
    figures = published_figures(panel)
    protocol = panel_protocol(panel)
    if not figures or protocol is None:
        return None
    return {"protocol": protocol.name, "note": NOTE, "figures": [figure_dict(figure) for figure in figures]}


def published_rows(data: PanelSet) -> list[dict[str, Any]]:
    """Every panel's published figures, one row each with the panel's number."""
    return [{"panel": panel.number, **published} for panel in data.panels if (published := published_dict(panel))]
