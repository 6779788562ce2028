"""A grid of runs: data sets x presets x widths x models x seeds."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rnnbench.backend import DEFAULT_BACKEND
from rnnbench.errors import RnnbenchError
from rnnbench.spec.checks import require_positive
from rnnbench.spec.data import DataSpec
from rnnbench.spec.model import ModelSpec
from rnnbench.spec.run import SEED_LIMIT, RunSpec
from rnnbench.spec.train import TrainSpec


@dataclass(frozen=True)
class ExperimentSpec:
    """A grid of runs: every data spec x training spec x width x model x seed.

    ``data`` holds one spec per (data set, view) of the grid and ``train`` one per preset; each (data, train) pair is a
    *panel* of the comparison, in which the models are compared over seeds. ``model_options`` gives the options of
    the models that have any, checked and completed by the model registry
    (:func:`rnnbench.spec.builder.experiment_spec`).
    """

    name: str = "comparison"
    data: tuple[DataSpec, ...] = (DataSpec(),)
    train: tuple[TrainSpec, ...] = (TrainSpec(),)
    models: tuple[str, ...] = ("simplernn", "lstm", "gru")
    units: tuple[int, ...] = (64,)
    seeds: tuple[int, ...] = (0,)
    backend: str = DEFAULT_BACKEND
    match_params: tuple[int, ...] = ()
    structure: ModelSpec = ModelSpec()
    model_options: tuple[tuple[str, tuple[tuple[str, float | int | bool], ...]], ...] = ()

    def __post_init__(self) -> None:
        if not self.name.strip() or not self.name.isprintable():
            raise RnnbenchError(f"the experiment's name {self.name!r} is empty or holds control characters; give it a "
                                "name of printable characters")  # fmt: skip
        widths = ("parameter budget", self.match_params) if self.match_params else ("units", self.units)
        for axis, values in (("model", self.models), ("seed", self.seeds), widths,
                             ("data set and view", self.data), ("preset", self.train)):  # fmt: skip
            if not values:
                raise RnnbenchError(f"the grid has no {axis}; give at least one")
            if len(set(values)) != len(values):
                raise RnnbenchError(f"a {axis} is named twice in the grid")
        for seed in self.seeds:
            if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < SEED_LIMIT:
                raise RnnbenchError(f"seed {seed!r} is out of range; seeds are integers from 0 to {SEED_LIMIT - 1}")
        for units in self.units:
            require_positive("units", units)
        for budget in self.match_params:
            require_positive("parameter budget", budget)

    def panels(self) -> list[tuple[DataSpec, TrainSpec]]:
        return [(data, train) for data in self.data for train in self.train]

    def run_count(self) -> int:
        widths = len(self.match_params or self.units)
        return len(self.panels()) * widths * len(self.models) * len(self.seeds)

    def runs(self, match: Callable[[DataSpec, ModelSpec, int], ModelSpec] | None = None) -> list[RunSpec]:
        """The grid, panel by panel, then width, model and seed.

        With parameter budgets, ``match(data, model, budget)`` gives the model's spec at the width whose parameter
        count is closest to the budget (it needs Keras: see :func:`rnnbench.models.matching.match_units`).
        """
        if self.match_params and match is None:
            raise ValueError("a grid of parameter budgets needs a match function to choose the widths")
        runs: list[RunSpec] = []
        for data, train in self.panels():
            for width in self.match_params or self.units:
                for model in self.models:
                    options = dict(self.model_options).get(model, ())
                    template = dataclasses.replace(self.structure, name=model, units=width, options=options)
                    if self.match_params:
                        assert match is not None
                        template = match(data, dataclasses.replace(template, units=1), width)
                    runs.extend(RunSpec(data, template, train, seed, self.backend) for seed in self.seeds)
        return runs

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> ExperimentSpec:
        """The inverse of :meth:`to_dict`, also after JSON (which turns tuples into lists); fields an earlier version
        did not store keep their defaults."""
        values = dict(values)
        for name in ("models", "units", "seeds", "match_params"):
            if name in values:
                values[name] = tuple(values[name])
        if "data" in values:
            values["data"] = tuple(DataSpec.from_dict(data) for data in values["data"])
        if "train" in values:
            values["train"] = tuple(TrainSpec.from_dict(train) for train in values["train"])
        if "structure" in values:
            values["structure"] = ModelSpec.from_dict(values["structure"])
        if "model_options" in values:
            values["model_options"] = tuple(
                (model, tuple(tuple(pair) for pair in options)) for model, options in values["model_options"]
            )
        return cls(**values)
