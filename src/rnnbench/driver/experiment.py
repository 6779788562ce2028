"""A comparison end to end: spec -> data -> grid of runs -> executor -> store -> panels.

The driver (this process) prepares each data set once (which also rejects bad input before anything trains), skips
runs the store already holds, hands the rest to an executor, and writes every event to the store. The result is read
back from the store like any later report, and covers every run of the grid, whether trained now or found there.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnbench.backend import device_kind, select_backend
from rnnbench.data.prepare import SequenceData, prepare_data
from rnnbench.data.source import DataSource
from rnnbench.data.views import get_view
from rnnbench.driver.estimate import ANNOUNCED_FROM, plan_text
from rnnbench.errors import Interrupted
from rnnbench.executors import ClusterOptions, ExecutionContext, ExecutionObserver, Executor, make_executor
from rnnbench.executors.base import checkpoint_name
from rnnbench.files import replace_atomically
from rnnbench.models.matching import match_units
from rnnbench.models.memory import check_fits_in_memory, physical_memory_bytes
from rnnbench.models.registry import model_info
from rnnbench.results.panels import Panel, PanelSet, Selection, gather
from rnnbench.results.run_result import FINISHED, EpochMetrics, RunResult
from rnnbench.results.store import DONE, FAILED, Store, StoredRun
from rnnbench.spec import DEFAULT_STORE, DataSpec, ExperimentSpec, ModelSpec, RunSpec
from rnnbench.version import __version__

SAVE_MODELS = ("none", "best", "all")


def model_file_name(spec: RunSpec) -> str:
    return f"{spec.key()}.keras"


@dataclass(frozen=True)
class ExperimentResult:
    """Every run of the grid as the store holds it after the comparison, in panels, and what this call did."""

    spec: ExperimentSpec
    records: PanelSet
    device: str
    wall_seconds: float
    trained: int
    reused: int
    # The model files the store keeps for this grid's runs, and how many asked for by save_models it could not keep
    # (runs found finished in the store that were trained without keeping their model).
    models_kept: tuple[Path, ...] = ()
    models_not_kept: int = 0

    @property
    def panels(self) -> tuple[Panel, ...]:
        """One per (data set + view, preset): its models compared over seeds."""
        return self.records.panels

    @property
    def results(self) -> tuple[RunResult, ...]:
        return tuple(result for panel in self.panels for result in panel.results)

    @property
    def failed(self) -> tuple[StoredRun, ...]:
        """Runs of the grid that failed (out of memory, a crash, a lost worker); a diverged run is a result."""
        return tuple(run for panel in self.panels for run in panel.unfinished if run.status == FAILED)

    def summary_fields(self) -> dict[str, Any]:
        """The summary JSON's fields about this call (its panels come from :mod:`rnnbench.report.summary`)."""
        return {
            "rnnbench_version": __version__,
            "experiment": self.spec.name,
            "backend": self.spec.backend,
            "device": self.device,
            "wall_seconds": self.wall_seconds,
            "trained_now": self.trained,
            "found_in_store": self.reused,
        }

    def footer(self) -> str:
        runs = self.trained + self.reused
        reused = f", {self.reused} found in the store" if self.reused else ""
        lines = [f"{runs} runs: {self.trained} trained now{reused}; {self.wall_seconds:.1f} s in all"]
        if self.models_kept:
            folders = sorted({str(path.parent) for path in self.models_kept})
            count = len(self.models_kept)
            lines.append(f"{count} model{'s' if count > 1 else ''} kept in {', '.join(folders)} "
                         "('rnnbench models saved' lists them, 'rnnbench predict' uses them)")  # fmt: skip
        if self.models_not_kept:
            lines.append(f"{self.models_not_kept} model(s) not kept: their runs were trained earlier without "
                         "--save-models; add --force to train them again and keep them")  # fmt: skip
        return "\n".join(lines)


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
    executor: str | None = None,
    source: DataSource | None = None,
    cluster: ClusterOptions | None = None,
    save_models: str = "none",
    announce: Callable[[str], None] | None = None,
) -> ExperimentResult:
    """Train every run of ``spec`` that ``store_path`` does not hold yet (all of them with ``force``) and summarise.

    ``executor`` names where runs train (``inline``, ``local`` or ``ray``); by default in worker processes when
    ``jobs`` > 1 and there is more than one run, else in this process. ``source`` says where data sets are found
    (default: the environment's cache); ``cluster`` the Ray cluster and each run's resources there. ``save_models``:
    which trained models to keep as files beside the store, ``none``, ``best`` (per model of each panel, chosen on
    validation accuracy) or ``all``. ``announce`` is given, before training, how long a large grid is expected to
    take (:mod:`rnnbench.driver.estimate`).
    """
    started = time.perf_counter()
    if save_models not in SAVE_MODELS:
        raise ValueError(f"save_models must be one of {SAVE_MODELS}, not {save_models!r}")
    check_names(spec)
    select_backend(spec.backend)
    source = source or DataSource.from_settings()
    # Preparing every data set first rejects bad input (a missing file, a view that does not fit) before any training.
    prepared = {data: prepare_data(data, source=source) for data in spec.data}
    runs = spec.runs(_matcher(prepared))
    if (executor or "") != "ray":  # a Ray cluster's nodes are not this machine
        shapes = {data: (s.steps, s.features, s.classes) for data, s in prepared.items()}
        distinct = dict.fromkeys(dataclasses.replace(run, seed=0) for run in runs)
        check_fits_in_memory(((run, *shapes[run.data]) for run in distinct), physical_memory_bytes())
    with Store.open(store_path) as store:
        store.save_experiment(spec.name, spec.to_dict())
        for data_spec, sequences in prepared.items():
            save_dataset(store, data_spec, sequences)
        todo = [run for run in runs if force or store.status(run.key()) not in DONE]
        if force:
            for run in todo:
                (store.checkpoint_dir / checkpoint_name(run)).unlink(missing_ok=True)
        if announce is not None and len(todo) >= ANNOUNCED_FROM:
            history = [run.result for run in store.runs() if run.result is not None]
            announce(plan_text(history, todo, jobs, store.path))
        recorder = StoreRecorder(store, display or NullDisplay())
        context = ExecutionContext(
            jobs, store.checkpoint_dir, source, prepared.__getitem__, cluster or ClusterOptions(), save_models != "none"
        )
        chosen = executor or ("local" if jobs > 1 and len(todo) > 1 else "inline")
        with contextlib.closing(make_executor(chosen, context)) as runner:
            train_into_store(store, runs, todo, recorder, runner)
        records = gather(store, Selection(run_keys=tuple(run.key() for run in runs)))
        if save_models == "best":
            keep_best_models(store, records, recorder.models_saved)
        kept, not_kept = _kept_models(store, records, save_models)
    devices = records.environments("device")
    return ExperimentResult(
        spec=spec,
        records=records,
        device=devices[0] if devices else device_kind(),
        wall_seconds=time.perf_counter() - started,
        trained=len(todo),
        reused=len(runs) - len(todo),
        models_kept=kept,
        models_not_kept=not_kept,
    )


def train_into_store(
    store: Store, runs: list[RunSpec], todo: list[RunSpec], recorder: StoreRecorder, runner: Executor
) -> None:
    """Train ``todo`` (those of ``runs`` the store lacks) on ``runner``, every event written to the store; an
    interruption leaves no run marked running and says what was kept."""
    try:
        runner.run(todo, recorder)
    except KeyboardInterrupt:
        if not store.in_place():
            raise
        raise Interrupted(_interrupted_text(store, runs, todo)) from None
    except BaseException:  # a closed output, a store gone, rnnbench's own fault: no run stays marked running
        if store.in_place():
            store.interrupt_runs(run.key() for run in todo)
        raise


def _interrupted_text(store: Store, runs: list[RunSpec], todo: list[RunSpec]) -> str:
    """Marks the runs in flight as interrupted and says what is kept and how to go on."""
    stopped = store.interrupt_runs(run.key() for run in todo)
    done = sum(store.status(run.key()) in DONE for run in runs)
    return (f"interrupted; {done} of {len(runs)} runs are finished and kept in {store.path}, and the {stopped} stopped "
            "mid-run resume from their last finished epoch when the same command runs again")  # fmt: skip


def keep_best_models(store: Store, records: PanelSet, written: set[str]) -> None:
    """Of the model files this call wrote, keep per model of each panel the one of its best run among those with a
    file (chosen on validation accuracy, as the report's best run); files kept by earlier calls stay."""
    kept = store.models()
    for panel in records.panels:
        for label in {panel.label(run.spec) for run in panel.runs if run.result is not None}:
            best = panel.best_run(label, among=kept)
            for run in panel.runs_of(label):
                if run is not best and run.run_key in written:
                    kept[run.run_key].unlink(missing_ok=True)
                    store.forget_model(run.run_key)


def _kept_models(store: Store, records: PanelSet, save_models: str) -> tuple[tuple[Path, ...], int]:
    """The model files kept for the grid's runs, and how many that ``save_models`` asks for are missing."""
    kept = store.models()
    paths, missing = [], 0
    for panel in records.panels:
        finished = [run for run in panel.runs if run.result is not None and run.result.status == FINISHED]
        paths += [kept[run.run_key] for run in finished if run.run_key in kept]
        if save_models == "all":
            missing += sum(run.run_key not in kept for run in finished)
        elif save_models == "best":
            labels = {panel.label(run.spec) for run in finished}
            missing += sum(panel.best_run(label, among=kept) is None for label in labels)
    return tuple(paths), missing


def save_dataset(store: Store, spec: DataSpec, sequences: SequenceData) -> None:
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
