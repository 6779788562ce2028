"""An experiment with several data sets, views or widths as several searches, and their results as one comparison.

A search tunes one data set and view at one width (a unit count or a parameter budget); an experiment that names more
is one search per combination. Their tuned comparisons are then read together: one set of panels, numbered in order
across the searches, and one summary.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rnnbench.results.panels import PanelSet
    from rnnbench.search.result import SearchResult
    from rnnbench.spec import ExperimentSpec


def one_search_each(spec: ExperimentSpec) -> Iterator[ExperimentSpec]:
    """``spec`` cut into the searches it holds: one per data set and view and per width, in the order of the grid."""
    widths: list[tuple[tuple[int, ...], tuple[int, ...]]] = [((), (budget,)) for budget in spec.match_params]
    widths = widths or [((units,), ()) for units in spec.units]
    for data in spec.data:
        for units, budget in widths:
            yield dataclasses.replace(spec, data=(data,), units=units, match_params=budget)


def joined_panels(results: Sequence[SearchResult]) -> PanelSet:
    """The tuned comparisons of ``results`` as one set of panels, numbered from 1 across all of them."""
    panels = [panel for result in results for panel in result.records.panels]
    numbered = tuple(dataclasses.replace(panel, number=number) for number, panel in enumerate(panels, start=1))
    return dataclasses.replace(results[0].records, panels=numbered)


def joined_summary_fields(results: Sequence[SearchResult]) -> dict[str, Any]:
    """The summary's fields about the searches: those of the one search, or a list of them all."""
    if len(results) == 1:
        return results[0].summary_fields()
    return {"searches": [result.summary_fields() for result in results]}
