"""What every executor shares: the interface the driver calls, the events it reports and the order it runs in."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol

from rnnbench.data.prepare import SequenceData
from rnnbench.data.source import DataSource
from rnnbench.engine.training import TrainingObserver
from rnnbench.models.cost import estimated_cost
from rnnbench.spec import ClusterOptions, DataSpec, RunSpec


class ExecutionObserver(TrainingObserver, Protocol):
    """Training events plus those only an executor can see: a run that failed outside training's control, and a run
    that trains again because its worker or node was lost."""

    def run_failed(self, spec: RunSpec, reason: str) -> None: ...

    def run_retried(self, spec: RunSpec, attempt: int, reason: str) -> None:
        """The run's worker or node was lost (``reason``); it trains again, from its last checkpoint, as ``attempt``
        (2 for the first retry)."""


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


def longest_first(runs: Sequence[RunSpec]) -> list[RunSpec]:
    """Longest runs first, so that no core idles at the end of a sweep."""
    return sorted(runs, key=estimated_cost, reverse=True)


def checkpoint_path(directory: Path | None, spec: RunSpec) -> Path | None:
    return directory / checkpoint_name(spec) if directory is not None else None


def checkpoint_name(spec: RunSpec) -> str:
    """A search's trial continued to a later epoch resumes from the checkpoint of its earlier stop."""
    return f"{spec.checkpoint_key()}.npz"


class Executor(ABC):
    """Trains runs somewhere and reports every event to the observer, which alone records them.

    ``on_this_machine`` says whether its runs train on the driver's machine (so that its memory bounds them);
    :meth:`check` refuses, before anything is loaded or written, what would make it fail to start.
    """

    name: ClassVar[str]
    on_this_machine: ClassVar[bool] = True

    def __init__(self, context: ExecutionContext) -> None:
        self.context = context

    @classmethod
    def check(cls, cluster: ClusterOptions) -> None:
        return None

    @abstractmethod
    def run(self, runs: Sequence[RunSpec], observer: ExecutionObserver) -> None:
        """Train every run of ``runs``; a run that fails is reported through ``observer.run_failed``, never raised."""

    def close(self) -> None:
        """Release what :meth:`run` kept for later calls (worker processes)."""
        return None
