"""What every executor shares: the events it reports and the order it runs in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from rnnbench.config import RunSpec
from rnnbench.training import TrainingObserver

# Relative cost of one step per unit^2 (gate count): orders runs longest first, so no core idles at the end.
_GATES = {"simplernn": 1, "gru": 3, "lstm": 4}


class ExecutionObserver(TrainingObserver, Protocol):
    """Training events plus the one only an executor can see: a run that failed outside training's control."""

    def run_failed(self, spec: RunSpec, reason: str) -> None: ...


def estimated_cost(spec: RunSpec) -> float:
    units = spec.model.units
    return _GATES.get(spec.model.name, 4) * units * (units + 32) * spec.train.epochs / spec.train.batch_size


def longest_first(runs: Sequence[RunSpec]) -> list[RunSpec]:
    return sorted(runs, key=estimated_cost, reverse=True)


def checkpoint_name(spec: RunSpec) -> str:
    return f"{spec.key()}.npz"
