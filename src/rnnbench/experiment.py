"""A comparison end to end: spec -> data -> grid of runs -> executor -> results -> statistics."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rnnbench.backend import device_kind, select_backend
from rnnbench.config import ExperimentSpec
from rnnbench.data.dataset import ImageDataset
from rnnbench.data.prepare import prepare_data
from rnnbench.data.views import get_view
from rnnbench.executors import run_inline
from rnnbench.models.registry import model_info
from rnnbench.results import RunResult
from rnnbench.stats import ModelSummary, summarize
from rnnbench.training import TrainingObserver


@dataclass(frozen=True)
class ExperimentResult:
    spec: ExperimentSpec
    dataset: dict[str, object]
    results: tuple[RunResult, ...]
    summary: tuple[ModelSummary, ...]
    backend: str
    device: str
    wall_seconds: float


def check_names(spec: ExperimentSpec) -> None:
    """Fail on an unknown model or view before any data is loaded or model trained."""
    for name in spec.models:
        model_info(name)
    get_view(spec.data.view)


def compare(
    spec: ExperimentSpec, observer: TrainingObserver | None = None, dataset: ImageDataset | None = None
) -> ExperimentResult:
    """Train every model of ``spec`` once per seed and summarise; ``dataset`` overrides loading ``spec.data.name``."""
    started = time.perf_counter()
    check_names(spec)
    select_backend(spec.backend)
    data = prepare_data(spec.data, dataset)
    results = run_inline(spec.runs(), data, observer)
    return ExperimentResult(
        spec=spec,
        dataset=data.describe(),
        results=tuple(results),
        summary=tuple(summarize(results)),
        backend=spec.backend,
        device=device_kind(),
        wall_seconds=time.perf_counter() - started,
    )
