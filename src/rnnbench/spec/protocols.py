"""Long-sequence benchmarks by name (sMNIST, psMNIST, sCIFAR) and the test accuracies papers report on them.

A :class:`Protocol` names the data set and view of a task from the literature and the recipe its runs train with; it
resolves to ordinary settings (:mod:`rnnbench.spec.builder`), so a run started through a protocol has the run key of
the same run described flag by flag. What a user gives explicitly overrides the protocol's choice.

The published figures belong to the task, not to a run: reports show them beside the measured ones for any panel
that reads the protocol's data set with its view, and never mix them into the statistics. A figure is listed only
where it was checked against a source (``Source.checked`` says how); a figure that could not be confirmed is left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rnnbench.errors import UnknownNameError


@dataclass(frozen=True)
class Source:
    """Where a published figure comes from: the paper, the place in it, and how the figure was checked."""

    paper: str
    where: str
    checked: str


@dataclass(frozen=True)
class PublishedFigure:
    """A test accuracy (percent) a paper reports for a registered cell on a protocol's task, and the variant measured
    (depth, width, training length), which is rarely the one rnnbench trains."""

    model: str
    test_accuracy: float
    variant: str
    source: Source


@dataclass(frozen=True)
class Protocol:
    """A named long-sequence task: data set, view, and the recipe (preset, epochs, batch size) its runs use."""

    name: str
    title: str
    dataset: str
    view: str
    preset: str
    epochs: int
    batch_size: int
    published: tuple[PublishedFigure, ...] = ()

    def settings(self) -> dict[str, dict[str, Any]]:
        """The protocol's choices as settings of :func:`rnnbench.spec.builder.experiment_spec`."""
        return {
            "grid": {"datasets": [self.dataset], "views": [self.view]},
            "train": {"preset": self.preset, "epochs": self.epochs, "batch_size": self.batch_size},
        }

    def reads(self, dataset: str, view: str) -> bool:
        """Whether data ``dataset`` read by ``view`` is this protocol's task; a permuted view is the task whatever its
        permutation, as each paper draws its own."""
        return dataset == self.dataset and view == self.view

    def figure_for(self, model: str) -> PublishedFigure | None:
        return next((figure for figure in self.published if figure.model == model), None)


CORNN = "Rusch & Mishra, Coupled Oscillatory Recurrent Neural Network (coRNN), ICLR 2021"
LEM = "Rusch, Mishra, Erichson & Mahoney, Long Expressive Memory for Sequence Modeling, ICLR 2022"
LRU = "Orvieto et al., Resurrecting Recurrent Neural Networks for Long Sequences, ICML 2023"
CORNN_CHECKED = ("the authors' repository (github.com/tk-rusch/coRNN): README results, the run's log and the script's "
                 "defaults (256 units); the same figure on Papers with Code")  # fmt: skip
LEM_CHECKED = ("the authors' repository (github.com/tk-rusch/LEM): README results, the run's log and the script's "
               "defaults (128 units); the same figure on Papers with Code")  # fmt: skip

PROTOCOLS: dict[str, Protocol] = {
    protocol.name: protocol
    for protocol in (
        Protocol(
            "smnist",
            "sequential MNIST: 784 pixels one at a time",
            dataset="mnist",
            view="pixels",
            preset="long",
            epochs=50,
            batch_size=128,
            published=(
                PublishedFigure("cornn", 99.4, "one coRNN layer, 256 units, 120 epochs",
                                Source(CORNN, "sMNIST and psMNIST results", CORNN_CHECKED)),
                PublishedFigure("lem", 99.5, "one LEM layer, 128 units, 120 epochs",
                                Source(LEM, "sMNIST and psMNIST results", LEM_CHECKED)),
            ),
        ),
        Protocol(
            "psmnist",
            "permuted sequential MNIST: 784 pixels in a fixed random order",
            dataset="mnist",
            view="permuted",
            preset="long",
            epochs=50,
            batch_size=128,
            published=(
                PublishedFigure("cornn", 97.34, "one coRNN layer, 256 units, 120 epochs",
                                Source(CORNN, "sMNIST and psMNIST results", CORNN_CHECKED)),
                PublishedFigure("lem", 96.6, "one LEM layer, 128 units, 120 epochs",
                                Source(LEM, "sMNIST and psMNIST results", LEM_CHECKED)),
            ),
        ),
        Protocol(
            "scifar",
            "sequential CIFAR-10: 1,024 pixels of 3 colour channels one at a time",
            dataset="cifar10:rgb",
            view="pixels",
            preset="long",
            epochs=50,
            batch_size=128,
            published=(
                PublishedFigure("lru", 89.0, "a deep network of LRU blocks (normalisation, MLP, skip connections)",
                                Source(LRU, "Long Range Arena results, sCIFAR (colour) column",
                                       "Papers with Code and HyperAI list the paper's sCIFAR figure as 89.0")),
            ),
        ),
    )
}  # fmt: skip


def get_protocol(name: str) -> Protocol:
    """The protocol called ``name``; an unknown name is one error listing the known ones."""
    key = name.strip().lower()
    if key not in PROTOCOLS:
        raise UnknownNameError("protocol", name, list(PROTOCOLS))
    return PROTOCOLS[key]


def protocol_reading(dataset: str, view: str) -> Protocol | None:
    """The protocol whose task is ``dataset`` read by ``view``, if any."""
    return next((protocol for protocol in PROTOCOLS.values() if protocol.reads(dataset, view)), None)


def with_protocol(settings: Mapping[str, Any]) -> dict[str, Any]:
    """``settings`` with what its ``protocol`` chooses filled in wherever the settings leave it out (a preset given
    as ``[grid] presets`` counts as given)."""
    merged = {key: dict(value) if isinstance(value, Mapping) else value for key, value in settings.items()}
    name = merged.pop("protocol", None)
    if name is None:
        return merged
    for table, values in get_protocol(str(name)).settings().items():
        merged[table] = dict(merged.get(table) or {})
        for key, value in values.items():
            if not is_given(merged, table, key):
                merged[table][key] = value
    return merged


# How the output names each choice of a protocol: (settings table, key) -> words.
CHOICE_NAMES = {("grid", "datasets"): "data set", ("grid", "views"): "view", ("train", "preset"): "preset",
                ("train", "epochs"): "epochs", ("train", "batch_size"): "batch size"}  # fmt: skip


def is_given(settings: Mapping[str, Any], table: str, key: str) -> bool:
    """Whether ``settings`` give ``key`` of ``table`` (a preset also counts as given by ``[grid] presets``)."""
    values = settings.get(table) or {}
    return key in values or (key == "preset" and "presets" in (settings.get("grid") or {}))


def chosen_text(protocol: Protocol, given: Mapping[str, Any]) -> str:
    """One line saying what ``protocol`` chose, and which of its choices ``given`` (the settings before the protocol
    filled them in) overrides."""
    kept: list[str] = []
    overridden: list[str] = []
    for table, values in protocol.settings().items():
        for key, value in values.items():
            shown = f"{CHOICE_NAMES[table, key]} {value[0] if isinstance(value, list) else value}"
            (overridden if is_given(given, table, key) else kept).append(shown)
    line = f"protocol {protocol.name} ({protocol.title})"
    line += f": {', '.join(kept)}" if kept else ""
    return line + (f"; given instead of its {', '.join(overridden)}" if overridden else "")
