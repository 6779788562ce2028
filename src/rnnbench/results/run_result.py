"""What a training run produces: per-epoch metrics and the run's result, plain data with JSON forms."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Any

from rnnbench.spec import RunSpec


class StoredName(str, enum.Enum):
    """A name the store keeps as text: equal to, hashed as, printed and serialised as that text (not StrEnum, which
    Python 3.10 lacks)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class RunStatus(StoredName):
    """Where a run stands, as the store's ``runs.status`` holds it."""

    RUNNING = "running"
    FINISHED = "finished"
    # Stopped on a non-finite loss: a result all the same (the cell cannot learn with this recipe).
    DIVERGED = "diverged"
    FAILED = "failed"
    # Stopped by the user or a closed output; trained again (from its last checkpoint) by the next call.
    INTERRUPTED = "interrupted"

    @property
    def done(self) -> bool:
        """Whether the run has a result, so that it is not trained again unless forced."""
        return self in (RunStatus.FINISHED, RunStatus.DIVERGED)


@dataclass(frozen=True)
class EpochMetrics:
    """Metrics of one epoch; validation fields are None when the run has no validation set."""

    epoch: int
    train_loss: float
    train_accuracy: float
    val_loss: float | None
    val_accuracy: float | None
    seconds: float
    # Only with TrainSpec.test_each_epoch: a learning curve on the test set, never used to choose an epoch.
    test_accuracy: float | None = None


@dataclass(frozen=True)
class RunResult:
    """The outcome of one run.

    ``test_accuracy`` is measured with the weights of the last epoch, ``test_accuracy_at_best`` with the weights of
    ``best_epoch`` (the epoch of highest validation accuracy; the last epoch without validation). Both are None when
    the run diverged. ``latency_ms`` and ``images_per_second`` are what the finished model costs to serve (see
    :mod:`rnnbench.engine.inference_cost`); None when the run diverged or was stored before they were measured.
    """

    spec: RunSpec
    params: int
    trainable_params: int
    status: RunStatus
    best_epoch: int | None
    best_val_accuracy: float | None
    test_accuracy: float | None
    test_accuracy_at_best: float | None
    train_seconds: float
    epochs: tuple[EpochMetrics, ...]
    latency_ms: float | None = None
    images_per_second: float | None = None
    # Building the model and compiling its programs, before the first epoch and apart from train_seconds (None for
    # runs stored before it was measured).
    setup_seconds: float | None = None

    @property
    def seconds_per_epoch(self) -> float:
        """Median epoch time: robust to a first epoch that includes compilation (on backends other than JAX)."""
        times = sorted(epoch.seconds for epoch in self.epochs)
        if not times:
            return 0.0
        middle = len(times) // 2
        return times[middle] if len(times) % 2 else (times[middle - 1] + times[middle]) / 2

    def to_dict(self) -> dict[str, Any]:
        """One entry of the summary JSON's ``runs`` list."""
        return {
            "model": self.spec.model.name,
            "units": self.spec.model.units,
            "seed": self.spec.seed,
            "run_key": self.spec.key(),
            "params": self.params,
            "trainable_params": self.trainable_params,
            "status": self.status,
            "best_epoch": self.best_epoch,
            "best_val_accuracy": self.best_val_accuracy,
            "test_accuracy": self.test_accuracy,
            "test_accuracy_at_best": self.test_accuracy_at_best,
            "train_seconds": self.train_seconds,
            "setup_seconds": self.setup_seconds,
            "seconds_per_epoch": self.seconds_per_epoch,
            "latency_ms": self.latency_ms,
            "images_per_second": self.images_per_second,
            "epochs": [dataclasses.asdict(epoch) for epoch in self.epochs],
        }
