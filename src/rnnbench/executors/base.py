"""What every executor shares: the interface the driver calls, the events it reports and the order it runs in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rnnbench.config import ClusterOptions, DataSpec, RunSpec
from rnnbench.data.prepare import SequenceData
from rnnbench.data.source import DataSource
from rnnbench.models.registry import model_info
from rnnbench.training import TrainingObserver

# The input width the cost of a step is estimated for: runs are only ordered by it, never scheduled on it exactly.
NOMINAL_FEATURES = 32


class ExecutionObserver(TrainingObserver, Protocol):
    """Training events plus those only an executor can see: a run that failed outside training's control, and a run
    that trains again because its worker or node was lost."""

    def run_failed(self, spec: RunSpec, reason: str) -> None: ...

    def run_retried(self, spec: RunSpec, attempt: int, reason: str) -> None:
        """The run's worker or node was lost (``reason``); it trains again, from its last checkpoint, as ``attempt``
        (2 for the first retry)."""


class Executor(Protocol):
    """Trains runs somewhere and reports every event to the observer, which alone records them."""

    def run(self, runs: Sequence[RunSpec], observer: ExecutionObserver) -> None:
        """Train every run of ``runs``; a run that fails is reported through ``observer.run_failed``, never raised."""

    def close(self) -> None:
        """Release what :meth:`run` kept for later calls (worker processes)."""


@dataclass(frozen=True)
class ExecutionContext:
    """What an executor is given besides the runs.

    ``jobs`` is how many runs may train at once; ``checkpoint_dir`` where each run keeps its end-of-epoch checkpoint
    (None: none); ``source`` where workers find data sets; ``prepared`` the data the driver has already prepared;
    ``cluster`` what the Ray executor needs besides; ``keep_models`` whether each run sends its model file.
    """

    jobs: int
    checkpoint_dir: Path | None
    source: DataSource
    prepared: Callable[[DataSpec], SequenceData]
    cluster: ClusterOptions = ClusterOptions()
    keep_models: bool = False


def estimated_cost(spec: RunSpec) -> float:
    """Relative cost of a run: multiply-adds of its recurrent layers per sample and step, times epochs, per batch."""
    model = spec.model
    per_step = model_info(model.name).cost_per_step(model.units, NOMINAL_FEATURES)
    directions = 2 if model.bidirectional else 1
    return per_step * model.layers * directions * spec.train.epochs / spec.train.batch_size


def longest_first(runs: Sequence[RunSpec]) -> list[RunSpec]:
    """Longest runs first, so that no core idles at the end of a sweep."""
    return sorted(runs, key=estimated_cost, reverse=True)


def checkpoint_path(directory: Path | None, spec: RunSpec) -> Path | None:
    return directory / checkpoint_name(spec) if directory is not None else None


def checkpoint_name(spec: RunSpec) -> str:
    """A search's trial continued to a later epoch resumes from the checkpoint of its earlier stop."""
    return f"{spec.checkpoint_key()}.npz"
