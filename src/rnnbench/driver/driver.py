"""What a comparison and a search share: the checks that can refuse, the store, the executor and the recorder.

A command goes through a :class:`Driver` in two steps. :meth:`Driver.prepare` runs every check that can refuse (the
names, the store, the compiler, the folders and caches, the executor's own checks, the data) before anything is
written, and :meth:`Driver.check_sizes` refuses runs too large for the machine. :meth:`Driver.session` then opens the
store and yields a :class:`Session`, which trains batches of runs into it through one executor (made for the first
batch that needs one and closed with the session).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from rnnbench.backend import check_xla_flags, select_backend
from rnnbench.data.prepare import SequenceData, prepare_data
from rnnbench.data.source import DataSource
from rnnbench.data.views import get_view
from rnnbench.driver.recorder import NullDisplay, StoreRecorder
from rnnbench.errors import Interrupted
from rnnbench.executors import ExecutionContext, ExecutionObserver, Executor, executor_class, make_executor
from rnnbench.executors.base import checkpoint_name
from rnnbench.files import check_writable_folder
from rnnbench.kernels.build import check_named_compiler
from rnnbench.models.memory import check_fits_in_memory, physical_memory_bytes
from rnnbench.models.registry import model_info
from rnnbench.results.panels import PanelSet
from rnnbench.results.run_result import RunResult
from rnnbench.results.store import Store
from rnnbench.settings import read_settings
from rnnbench.spec import DataSpec, ExecutionConfig, ExperimentSpec, RunSpec


def check_names(spec: ExperimentSpec) -> None:
    """Fail on an unknown model or view before any data is loaded or model trained."""
    for name in spec.models:
        model_info(name)
    for data in spec.data:
        get_view(data.view, data.permutation_seed)


def check_places_written(store_path: Path) -> None:
    """Every folder a command writes besides its outputs, checked before anything trains: the store's checkpoints
    and kept models, the kernel and JAX compilation caches; and flags XLA would refuse in a worker."""
    check_writable_folder(Path(f"{store_path}-checkpoints"), "--store", store_path)
    check_writable_folder(Path(f"{store_path}-models"), "--store", store_path)
    settings = read_settings()
    if settings.fast_layers:
        cache = settings.kernel_cache
        check_writable_folder(cache, "RNNBENCH_KERNEL_CACHE (the compiled kernels' cache)", cache)
    if settings.jax_cache is not None:
        cache = settings.jax_cache
        check_writable_folder(cache, "RNNBENCH_JAX_CACHE (the compiled programs' cache; 'off' disables it)", cache)
    check_xla_flags()


class Driver:
    """Runs a command's runs through one executor into one store; the driver process is the store's only writer."""

    def __init__(
        self,
        store_path: Path,
        execution: ExecutionConfig,
        display: ExecutionObserver | None = None,
        source: DataSource | None = None,
    ) -> None:
        self.store_path = store_path
        self.execution = execution
        self.display = display or NullDisplay()
        self.source = source

    def prepare(self, spec: ExperimentSpec) -> dict[DataSpec, SequenceData]:
        """Every check that can refuse, before the store is opened: names, the store, the compiler ``CXX`` names, the
        folders and caches the command writes, the executor's own checks, then each data set prepared once (a missing
        file or a view that does not fit is said before any training)."""
        check_names(spec)
        Store.check_writable(self.store_path)
        check_named_compiler()
        check_places_written(self.store_path)
        if self.execution.executor is not None:
            executor_class(self.execution.executor).check(self.execution.cluster)
        select_backend(spec.backend)
        self.source = self.source or DataSource.from_settings()
        return {data: prepare_data(data, source=self.source) for data in spec.data}

    def check_sizes(self, runs: Iterable[RunSpec], prepared: Mapping[DataSpec, SequenceData]) -> None:
        """Refuse runs that cannot fit in this machine's memory (weights, gradients and a batch of activations), when
        they train on this machine: before the store is opened, and before anything is built. A batch larger than
        the training data is one batch an epoch, not an error."""
        if self.execution.executor is not None and not executor_class(self.execution.executor).on_this_machine:
            return
        distinct = dict.fromkeys(dataclasses.replace(run, seed=0) for run in runs)
        shapes = {data: (s.steps, s.features, s.classes) for data, s in prepared.items()}
        check_fits_in_memory(((run, *shapes[run.data]) for run in distinct), physical_memory_bytes())

    @contextlib.contextmanager
    def session(
        self, spec: ExperimentSpec, prepared: Mapping[DataSpec, SequenceData], extra: Mapping[str, Any] | None = None
    ) -> Iterator[Session]:
        """The store opened for writing, with the experiment (and ``extra`` fields) and its data sets recorded."""
        assert self.source is not None, "prepare() comes first"
        with Store.open(self.store_path) as store, contextlib.ExitStack() as executors:
            store.save_experiment(spec.name, {**spec.to_dict(), **(extra or {})})
            for data_spec, sequences in prepared.items():
                save_dataset(store, data_spec, sequences)
            context = ExecutionContext(self.execution.jobs, store.checkpoint_dir, self.source, prepared.__getitem__,
                                       self.execution.cluster, self.execution.save_models != "none")  # fmt: skip
            yield Session(store, StoreRecorder(store, self.display), self.execution, context, executors.enter_context)


class Session:
    """Trains batches of runs into the open store; every run it was asked for counts when it says what was kept."""

    def __init__(
        self,
        store: Store,
        recorder: StoreRecorder,
        execution: ExecutionConfig,
        context: ExecutionContext,
        keep_open: Callable[[contextlib.closing[Executor]], Executor],
    ) -> None:
        self.store = store
        self.recorder = recorder
        self.execution = execution
        self.context = context
        self.keep_open = keep_open
        self.runner: Executor | None = None
        self.asked: dict[str, RunSpec] = {}
        self.trained = 0

    def to_train(self, runs: Iterable[RunSpec], force: bool = False) -> list[RunSpec]:
        """The runs the store lacks (all with ``force``, whose checkpoints are then dropped)."""
        todo = [run for run in runs if force or not self.store.has_result(run.key())]
        if force:
            for run in todo:
                (self.store.checkpoint_dir / checkpoint_name(run)).unlink(missing_ok=True)
        return todo

    def train(self, runs: list[RunSpec], todo: list[RunSpec] | None = None) -> dict[str, RunResult | None]:
        """Train ``todo`` (default: those of ``runs`` the store lacks), every event written to the store, and give
        each run's stored result (None for a run that failed). An interruption leaves no run marked running and says
        what was kept."""
        todo = self.to_train(runs) if todo is None else todo
        self.asked.update((run.key(), run) for run in runs)
        self.trained += len(todo)
        if todo:
            self._train(todo)
        return {run.key(): self.store.result(run) for run in runs}

    def keep_best_models(self, records: PanelSet) -> None:
        """Of the model files this session wrote, keep per model of each panel the one of its best run among those
        with a file (chosen on validation accuracy, as the report's best run); files kept earlier stay."""
        if self.execution.save_models != "best":
            return
        kept = self.store.models()
        for panel in records.panels:
            for label in {panel.label(run.spec) for run in panel.runs if run.result is not None}:
                best = panel.best_run(label, among=kept)
                for run in panel.runs_of(label):
                    if run is not best and run.run_key in self.recorder.models_saved:
                        kept[run.run_key].unlink(missing_ok=True)
                        self.store.forget_model(run.run_key)

    def _train(self, todo: list[RunSpec]) -> None:
        if self.runner is None:
            chosen = make_executor(self.execution.executor_for(len(todo)), self.context)
            self.runner = self.keep_open(contextlib.closing(chosen))
        try:
            self.runner.run(todo, self.recorder)
        except KeyboardInterrupt:
            if not self.store.in_place():
                raise
            raise Interrupted(self._interrupted_text(todo)) from None
        except BaseException:  # a closed output, a store gone, rnnbench's own fault: no run stays marked running
            if self.store.in_place():
                self.store.interrupt_runs(run.key() for run in todo)
            raise

    def _interrupted_text(self, todo: list[RunSpec]) -> str:
        """Marks the runs in flight as interrupted and says what is kept and how to go on."""
        stopped = self.store.interrupt_runs(run.key() for run in todo)
        done = sum(self.store.has_result(key) for key in self.asked)
        return (f"interrupted; {done} of {len(self.asked)} runs are finished and kept in {self.store.path}, and the "
                f"{stopped} stopped mid-run resume from their last finished epoch when the same command runs "
                "again")  # fmt: skip


def save_dataset(store: Store, spec: DataSpec, sequences: SequenceData) -> None:
    """Record what reports show of a data set: its description and its first training image (the view inverted)."""
    view = get_view(spec.view, spec.permutation_seed)
    example = view.invert(sequences.x_train[:1], sequences.image_shape)[0]
    store.save_dataset(spec, sequences.describe(), example, int(sequences.y_train[0]))
