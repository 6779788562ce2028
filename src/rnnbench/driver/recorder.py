"""The observer that writes every event of every run to the store (the driver is its only writer), and the display
that shows nothing."""

from __future__ import annotations

from rnnbench.executors import ExecutionObserver
from rnnbench.executors.base import checkpoint_name
from rnnbench.files import replace_atomically
from rnnbench.results.run_result import EpochMetrics, RunResult
from rnnbench.results.store import Store
from rnnbench.spec import RunSpec


def model_file_name(spec: RunSpec) -> str:
    return f"{spec.key()}.keras"


class NullDisplay:
    """An observer that shows nothing (``--quiet`` and library use)."""

    def run_started(self, spec: RunSpec, epochs: int, batches_per_epoch: int, environment: dict[str, str]) -> None: ...
    def run_resumed(self, spec: RunSpec, epoch: int) -> None: ...
    def batch_ended(self, spec: RunSpec, batch: int) -> None: ...
    def epoch_ended(self, spec: RunSpec, metrics: EpochMetrics) -> None: ...
    def model_saved(self, spec: RunSpec, model_file: bytes) -> None: ...
    def run_ended(self, result: RunResult, confusion: list[list[int]] | None) -> None: ...
    def run_failed(self, spec: RunSpec, reason: str) -> None: ...
    def run_retried(self, spec: RunSpec, attempt: int, reason: str) -> None: ...


class StoreRecorder:
    """Writes every event to the store (the driver is its only writer), then passes it on to the display."""

    def __init__(self, store: Store, display: ExecutionObserver) -> None:
        self.store = store
        self.display = display
        self.environment: dict[str, str] = {}  # the last reported by a run: where runs train now
        self.retries: dict[str, int] = {}
        self.models_saved: set[str] = set()  # run keys whose model file this call wrote

    def run_started(self, spec: RunSpec, epochs: int, batches_per_epoch: int, environment: dict[str, str]) -> None:
        self.environment = environment
        self.store.start_run(spec, environment, self.retries.get(spec.key(), 0))
        # A model kept from an earlier training of this run no longer matches what the store will say of it.
        if (stale := self.store.forget_model(spec.key())) is not None:
            stale.unlink(missing_ok=True)
        self.display.run_started(spec, epochs, batches_per_epoch, environment)

    def run_resumed(self, spec: RunSpec, epoch: int) -> None:
        self.store.record_resume(spec.key(), epoch)
        self.display.run_resumed(spec, epoch)

    def batch_ended(self, spec: RunSpec, batch: int) -> None:
        self.display.batch_ended(spec, batch)

    def epoch_ended(self, spec: RunSpec, metrics: EpochMetrics) -> None:
        self.store.record_epoch(spec.key(), metrics)
        self.display.epoch_ended(spec, metrics)

    def model_saved(self, spec: RunSpec, model_file: bytes) -> None:
        path = self.store.models_dir / model_file_name(spec)
        replace_atomically(path, lambda file: file.write(model_file))
        self.store.save_model(spec.key(), path)
        self.models_saved.add(spec.key())

    def run_ended(self, result: RunResult, confusion: list[list[int]] | None) -> None:
        self.store.finish_run(result, confusion)
        if result.spec.train.stop_epoch is None:  # a trial stopped early goes on from its checkpoint later
            (self.store.checkpoint_dir / checkpoint_name(result.spec)).unlink(missing_ok=True)
        self.display.run_ended(result, confusion)

    def run_failed(self, spec: RunSpec, reason: str) -> None:
        if self.store.status(spec.key()) is None:
            self.store.start_run(spec, self.environment)
        self.store.fail_run(spec, reason)
        self.display.run_failed(spec, reason)

    def run_retried(self, spec: RunSpec, attempt: int, reason: str) -> None:
        """Counted here and written with the attempt's start, which replaces the run's row."""
        self.retries[spec.key()] = attempt - 1
        self.display.run_retried(spec, attempt, reason)
