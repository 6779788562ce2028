"""A comparison end to end: spec -> data -> grid of runs -> executor -> store -> panels.

The driver (this process) prepares each data set once (which also rejects bad input before anything trains), skips
runs the store already holds, hands the rest to an executor, and writes every event to the store. The result is read
back from the store like any later report, and covers every run of the grid, whether trained now or found there.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnbench.backend import device_kind
from rnnbench.data.prepare import SequenceData
from rnnbench.data.source import DataSource
from rnnbench.driver.driver import Driver
from rnnbench.driver.estimate import ANNOUNCED_FROM, plan_text
from rnnbench.executors import ExecutionObserver
from rnnbench.models.matching import match_units
from rnnbench.results.panels import Panel, PanelSet, Selection, gather
from rnnbench.results.run_result import RunResult, RunStatus
from rnnbench.results.store import Store, StoredRun
from rnnbench.spec import DEFAULT_STORE, DataSpec, ExecutionConfig, ExperimentSpec, ModelSpec
from rnnbench.version import __version__


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
        return tuple(run for panel in self.panels for run in panel.unfinished if run.status == RunStatus.FAILED)

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


def run_experiment(
    spec: ExperimentSpec,
    store_path: Path = DEFAULT_STORE,
    execution: ExecutionConfig | None = None,
    display: ExecutionObserver | None = None,
    force: bool = False,
    source: DataSource | None = None,
    announce: Callable[[str], None] | None = None,
) -> ExperimentResult:
    """Train every run of ``spec`` that ``store_path`` does not hold yet (all of them with ``force``) and summarise.

    ``execution`` says where and how runs train and which models are kept (default: one at a time in this process,
    none kept); ``source`` where data sets are found (default: the environment's cache). ``announce`` is given,
    before training, how long a large grid is expected to take (:mod:`rnnbench.driver.estimate`).
    """
    started = time.perf_counter()
    execution = execution or ExecutionConfig()
    driver = Driver(store_path, execution, display, source)
    prepared = driver.prepare(spec)
    runs = spec.runs(_matcher(prepared))
    driver.check_sizes(runs, prepared)
    with driver.session(spec, prepared) as session:
        todo = session.to_train(runs, force)
        if announce is not None and len(todo) >= ANNOUNCED_FROM:
            history = [run.result for run in session.store.runs() if run.result is not None]
            announce(plan_text(history, todo, execution.jobs, session.store.path))
        session.train(runs, todo)
        records = gather(session.store, Selection(run_keys=tuple(run.key() for run in runs)))
        session.keep_best_models(records)
        kept, not_kept = _kept_models(session.store, records, execution.save_models)
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


def _kept_models(store: Store, records: PanelSet, save_models: str) -> tuple[tuple[Path, ...], int]:
    """The model files kept for the grid's runs, and how many that ``save_models`` asks for are missing."""
    kept = store.models()
    paths, missing = [], 0
    for panel in records.panels:
        finished = [run for run in panel.runs if run.result is not None and run.result.status == RunStatus.FINISHED]
        paths += [kept[run.run_key] for run in finished if run.run_key in kept]
        if save_models == "all":
            missing += sum(run.run_key not in kept for run in finished)
        elif save_models == "best":
            labels = {panel.label(run.spec) for run in finished}
            missing += sum(panel.best_run(label, among=kept) is None for label in labels)
    return tuple(paths), missing


def _matcher(prepared: dict[DataSpec, SequenceData]) -> Callable[[DataSpec, ModelSpec, int], ModelSpec]:
    """Chooses widths for parameter budgets on the shapes of the prepared data (each answer computed once)."""

    @functools.cache
    def match(data: DataSpec, model: ModelSpec, budget: int) -> ModelSpec:
        sequences = prepared[data]
        return match_units(model, budget, sequences.steps, sequences.features, sequences.classes)

    return match
