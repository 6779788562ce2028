"""A comparison end to end: spec -> data -> grid of runs -> executor -> store -> statistics.

The driver (this process) prepares each data set once (which also rejects bad input before anything trains), skips
runs the store already holds, hands the rest to an executor, and writes every event to the store. The result covers
every run of the grid, whether trained now or found finished in the store.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rnnbench.backend import device_kind, select_backend
from rnnbench.config import DataSpec, ExperimentSpec, ModelSpec, RunSpec, TrainSpec
from rnnbench.data.prepare import SequenceData, prepare_data
from rnnbench.data.views import get_view
from rnnbench.executors.base import ExecutionObserver, checkpoint_name
from rnnbench.executors.inline import run_inline
from rnnbench.executors.local import run_local
from rnnbench.models.matching import match_units
from rnnbench.models.registry import model_info
from rnnbench.results import EpochMetrics, RunResult
from rnnbench.stats import Comparison, ModelSummary, pairwise, summarize, verdict
from rnnbench.store import DONE, Store

DEFAULT_STORE = Path("rnnbench.db")


@dataclass(frozen=True)
class Panel:
    """One (data set + view, preset) cell of the grid: its models compared over seeds."""

    data: DataSpec
    train: TrainSpec
    dataset: dict[str, object]
    results: tuple[RunResult, ...]
    failed: tuple[tuple[RunSpec, str], ...]
    summary: tuple[ModelSummary, ...]
    comparisons: tuple[Comparison, ...]
    verdict: str


@dataclass(frozen=True)
class ExperimentResult:
    spec: ExperimentSpec
    panels: tuple[Panel, ...]
    backend: str
    device: str
    wall_seconds: float
    trained: int
    reused: int

    @property
    def results(self) -> tuple[RunResult, ...]:
        return tuple(result for panel in self.panels for result in panel.results)


class NullDisplay:
    """An observer that shows nothing (``--quiet`` and library use)."""

    def run_started(self, spec: RunSpec, epochs: int, batches_per_epoch: int, environment: dict[str, str]) -> None: ...
    def run_resumed(self, spec: RunSpec, epoch: int) -> None: ...
    def batch_ended(self, spec: RunSpec, batch: int) -> None: ...
    def epoch_ended(self, spec: RunSpec, metrics: EpochMetrics) -> None: ...
    def run_ended(self, result: RunResult, confusion: list[list[int]] | None) -> None: ...
    def run_failed(self, spec: RunSpec, reason: str) -> None: ...


class StoreRecorder:
    """Writes every event to the store (the driver is its only writer), then passes it on to the display."""

    def __init__(self, store: Store, display: ExecutionObserver) -> None:
        self.store = store
        self.display = display
        self.environment: dict[str, str] = {}  # the last reported by a run: where runs train now

    def run_started(self, spec: RunSpec, epochs: int, batches_per_epoch: int, environment: dict[str, str]) -> None:
        self.environment = environment
        self.store.start_run(spec, environment)
        self.display.run_started(spec, epochs, batches_per_epoch, environment)

    def run_resumed(self, spec: RunSpec, epoch: int) -> None:
        self.store.record_resume(spec.key(), epoch)
        self.display.run_resumed(spec, epoch)

    def batch_ended(self, spec: RunSpec, batch: int) -> None:
        self.display.batch_ended(spec, batch)

    def epoch_ended(self, spec: RunSpec, metrics: EpochMetrics) -> None:
        self.store.record_epoch(spec.key(), metrics)
        self.display.epoch_ended(spec, metrics)

    def run_ended(self, result: RunResult, confusion: list[list[int]] | None) -> None:
        self.store.finish_run(result, confusion)
        (self.store.checkpoint_dir / checkpoint_name(result.spec)).unlink(missing_ok=True)
        self.display.run_ended(result, confusion)

    def run_failed(self, spec: RunSpec, reason: str) -> None:
        if self.store.status(spec.key()) is None:
            self.store.start_run(spec, self.environment)
        self.store.fail_run(spec, reason)
        self.display.run_failed(spec, reason)


def check_names(spec: ExperimentSpec) -> None:
    """Fail on an unknown model or view before any data is loaded or model trained."""
    for name in spec.models:
        model_info(name)
    for data in spec.data:
        get_view(data.view, data.permutation_seed)


def run_experiment(
    spec: ExperimentSpec,
    store_path: Path = DEFAULT_STORE,
    jobs: int = 1,
    display: ExecutionObserver | None = None,
    force: bool = False,
) -> ExperimentResult:
    """Train every run of ``spec`` that ``store_path`` does not hold yet (all of them with ``force``) and summarise."""
    started = time.perf_counter()
    check_names(spec)
    select_backend(spec.backend)
    # Preparing every data set first rejects bad input (a missing file, a view that does not fit) before any training.
    prepared: dict[DataSpec, SequenceData] = {data: prepare_data(data) for data in spec.data}
    runs = spec.runs(_matcher(prepared))
    with Store.open(store_path) as store:
        store.save_experiment(spec.name, spec.to_dict())
        for data_spec, sequences in prepared.items():
            _save_dataset(store, data_spec, sequences)
        todo = [run for run in runs if force or store.status(run.key()) not in DONE]
        if force:
            for run in todo:
                (store.checkpoint_dir / checkpoint_name(run)).unlink(missing_ok=True)
        recorder = StoreRecorder(store, display or NullDisplay())
        if jobs <= 1 or len(todo) <= 1:
            run_inline(todo, prepared.__getitem__, recorder, store.checkpoint_dir)
        else:
            run_local(todo, jobs, recorder, store.checkpoint_dir)
        panels = tuple(_panel(store, prepared[data], data, train, runs) for data, train in spec.panels())
        device = recorder.environment.get("device") or _stored_device(store, runs) or device_kind()
    return ExperimentResult(
        spec=spec,
        panels=panels,
        backend=spec.backend,
        device=device,
        wall_seconds=time.perf_counter() - started,
        trained=len(todo),
        reused=len(runs) - len(todo),
    )


def _stored_device(store: Store, runs: list[RunSpec]) -> str | None:
    """The device a finished run of the grid trained on (when this call trained none)."""
    return next((device for run in runs if (device := store.device(run.key()))), None)


def _save_dataset(store: Store, spec: DataSpec, sequences: SequenceData) -> None:
    """Record what reports show of a data set: its description and its first training image (the view inverted)."""
    view = get_view(spec.view, spec.permutation_seed)
    example = view.invert(sequences.x_train[:1], sequences.image_shape)[0]
    store.save_dataset(spec, sequences.describe(), example, int(sequences.y_train[0]))


def _matcher(prepared: dict[DataSpec, SequenceData]) -> Callable[[DataSpec, ModelSpec, int], ModelSpec]:
    """Chooses widths for parameter budgets on the shapes of the prepared data (each answer computed once)."""

    @functools.cache
    def match(data: DataSpec, model: ModelSpec, budget: int) -> ModelSpec:
        sequences = prepared[data]
        return match_units(model, budget, sequences.steps, sequences.features, sequences.classes)

    return match


def _panel(store: Store, data: SequenceData, data_spec: DataSpec, train: TrainSpec, runs: list[RunSpec]) -> Panel:
    stored = {run: store.result(run) for run in runs if run.data == data_spec and run.train == train}
    results = [result for result in stored.values() if result is not None]
    failed = [(run, store.failure(run) or "not finished") for run, result in stored.items() if result is None]
    summary = summarize(results)
    comparisons = pairwise(results)
    return Panel(
        data=data_spec,
        train=train,
        dataset=data.describe(),
        results=tuple(results),
        failed=tuple(failed),
        summary=tuple(summary),
        comparisons=tuple(comparisons),
        verdict=verdict(summary, comparisons),
    )
