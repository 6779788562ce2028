"""Accuracy and cost against sequence length: the panels that read the same images by several views, side by side.

Panels that differ only by their view (same data set, recipe, epochs, structure and backend) train the same models
on the same images read as sequences of different lengths: rows (28 steps on MNIST), patches:2 (196), pixels (784).
When such a group covers at least two lengths, the report shows, per model and view, the test accuracy and the time
per epoch, and two figures against the number of steps. Every output draws on the rows of
:func:`sequence_length` (a table of the report, so in its JSON and CSV too); :mod:`rnnbench.report.length_section`
renders them.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from rnnbench.data.views import get_view
from rnnbench.errors import RnnbenchError
from rnnbench.results.panels import Panel, PanelSet
from rnnbench.results.stats import ModelKey, model_key, model_labels

Row = dict[str, Any]
# The report's table of these rows (report.json, csv/sequence_length.csv).
TABLE = "sequence_length"


@dataclass(frozen=True)
class LengthGroup:
    """Panels that differ only by their view, with the (steps, features) of each panel's sequences."""

    number: int
    panels: tuple[Panel, ...]
    shapes: tuple[tuple[int, int], ...]

    @property
    def title(self) -> str:
        first = self.panels[0]
        recipe = first.recipe if first.train.search is None else "recipes tuned per model and view"
        return f"{first.dataset_name}, {first.training_with(recipe)}"


def sequence_shape(panel: Panel) -> tuple[int, int] | None:
    """(steps, features) of the panel's sequences: the view applied to the shape of the stored images; None when the
    store holds no record of the data set."""
    if panel.dataset is None:
        return None
    described = panel.dataset.description
    shape = described.get("image_shape")
    if shape is None and panel.dataset.example is not None:
        shape = panel.dataset.example.shape
    if shape is None:
        return int(described["steps"]), int(described["features"])
    try:
        steps, features = get_view(panel.data.view, panel.data.permutation_seed).reading_order(tuple(shape)).shape
    except RnnbenchError:  # a view that no longer fits the recorded shape: the record's own numbers
        return int(described["steps"]), int(described["features"])
    return int(steps), int(features)


def _group_key(panel: Panel) -> Hashable:
    """What the panels of a group share: everything but the view. Models tuned by a search are tuned at each view by
    a search of its own, so the search's name is no part of it."""
    train = panel.train
    recipe = train.panel_key() if train.search is None else (train.epochs, train.validation_only)
    return (dataclasses.replace(panel.data, view=""), recipe, panel.structure, panel.backend)


def length_groups(data: PanelSet) -> list[LengthGroup]:
    """The groups of panels that differ only by their view and cover at least two sequence lengths, in panel order."""
    grouped: dict[Hashable, list[tuple[Panel, tuple[int, int]]]] = {}
    for panel in data.panels:
        shape = sequence_shape(panel)
        if shape is not None:
            grouped.setdefault(_group_key(panel), []).append((panel, shape))
    members = [found for found in grouped.values() if len({steps for _, (steps, _) in found}) > 1]
    return [
        LengthGroup(number, tuple(panel for panel, _ in found), tuple(shape for _, shape in found))
        for number, found in enumerate(members, start=1)
    ]


def _labels(group: LengthGroup) -> dict[ModelKey, str]:
    """One name per model over the whole group, in the order the panels list them (a width is named where the group
    holds the cell at several widths, whichever panel holds which)."""
    results = [result for panel in group.panels for result in panel.results]
    labels = model_labels(results)
    order = dict.fromkeys(model_key(result.spec) for result in results)
    return {key: labels[key] for key in order}


def _mean_epoch_seconds(panel: Panel, label: str) -> float | None:
    times = [run.result.seconds_per_epoch for run in panel.runs_of(label) if run.result and run.result.epochs]
    return statistics.fmean(times) if times else None


def _row(group: LengthGroup, panel: Panel, shape: tuple[int, int], key: ModelKey, label: str) -> Row | None:
    summary = next((s for s in panel.summary if s.model == panel.labels.get(key)), None)
    if summary is None:  # the model was not trained (or has no result yet) at this length
        return None
    accuracy = summary.test_accuracy
    return {
        "length_group": group.number,
        "group": group.title,
        "panel": panel.number,
        "dataset": panel.data.name,
        "view": panel.data.view,
        "steps": shape[0],
        "features": shape[1],
        "model": label,
        "units": summary.units,
        "params": summary.params,
        "runs": summary.runs,
        "finished": accuracy.n if accuracy else 0,
        "test_accuracy_mean": accuracy.mean if accuracy else None,
        "test_accuracy_std": accuracy.std if accuracy else None,
        "test_accuracy_ci95_low": accuracy.low if accuracy else None,
        "test_accuracy_ci95_high": accuracy.high if accuracy else None,
        "seconds_per_epoch_mean": _mean_epoch_seconds(panel, summary.model),
    }


def sequence_length(data: PanelSet) -> list[Row]:
    """Per group, model and view (in order of length): test accuracy over seeds, time per epoch, parameters."""
    rows: list[Row] = []
    for group in length_groups(data):
        ordered = sorted(zip(group.panels, group.shapes, strict=True), key=lambda pair: pair[1][0])
        for key, label in _labels(group).items():
            found = (_row(group, panel, shape, key, label) for panel, shape in ordered)
            rows.extend(row for row in found if row is not None)
    return rows


def group_rows(rows: list[Row]) -> dict[int, list[Row]]:
    """The rows of :func:`sequence_length` by group number, in order."""
    groups: dict[int, list[Row]] = {}
    for row in rows:
        groups.setdefault(row["length_group"], []).append(row)
    return groups
