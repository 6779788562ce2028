"""How long a grid will take, said before it starts: from the finished runs of the store that trained like its runs.

A run's time is its fixed cost (building, compiling: its lower quartile, as only a worker's first run compiles from
scratch) plus its epochs. Runs of the same data, model, batch size and
backend give their median time per epoch and fixed cost directly; other models on the same data and batch size give
them scaled by the recurrent layers' relative cost. A grid with a run that nothing in the store resembles has no
estimate: a guess from nothing would be worse than saying so.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from rnnbench.models.cost import estimated_cost
from rnnbench.results.run_result import RunResult, RunStatus
from rnnbench.spec import RunSpec

# Grids with fewer runs to train start at once: their time shows after the first runs.
ANNOUNCED_FROM = 50


@dataclass(frozen=True)
class Estimate:
    """Expected wall-clock seconds for the runs to train, and how many finished runs it was drawn from."""

    seconds: float
    basis: int

    def describe(self) -> str:
        return f"about {duration_text(self.seconds)} (from {self.basis:,} similar runs in the store)"


def duration_text(seconds: float) -> str:
    """``40 s``, ``14 min``, ``2 h 10 min``, ``3 days 4 h``."""
    minutes = round(seconds / 60)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} h" if hours else f"{days} days"


def plan_text(history: Sequence[RunResult], todo: Sequence[RunSpec], workers: int, store: object) -> str:
    """What a large grid says before it starts."""
    at_once = max(1, min(workers, len(todo)))
    estimate = estimate_grid(history, todo, workers)
    expected = (
        estimate.describe()
        if estimate
        else (f"no finished runs in {store} are like them, so the time left shows once the first runs finish")
    )
    return f"{len(todo):,} runs to train, {at_once} at a time: {expected}"


def _kind(spec: RunSpec) -> tuple[object, ...]:
    """What a run's speed depends on besides its model: the data, the batch size, the backend."""
    return (spec.data, spec.train.batch_size, spec.backend)


def _per_epoch_cost(spec: RunSpec) -> float:
    return estimated_cost(spec) / spec.train.epochs


def estimate_grid(history: Sequence[RunResult], todo: Sequence[RunSpec], workers: int) -> Estimate | None:
    """The time to train ``todo`` on ``workers`` at once, from the finished runs of ``history``; None where a run
    resembles none of them."""
    finished = [result for result in history if result.status == RunStatus.FINISHED and result.epochs]
    if not todo or not finished:
        return None
    total, basis = 0.0, set[str]()
    for spec in todo:
        same_model = [r for r in finished if _kind(r.spec) == _kind(spec) and _same_model(r.spec, spec)]
        similar = same_model or [r for r in finished if _kind(r.spec) == _kind(spec)]
        if not similar:
            return None
        scale = 1.0
        if not same_model:
            scale = _per_epoch_cost(spec) / statistics.median(_per_epoch_cost(r.spec) for r in similar)
        epoch = statistics.median(r.seconds_per_epoch for r in similar) * scale
        setup = _typical_setup([r.setup_seconds or 0.0 for r in similar])
        total += setup + epoch * spec.train.epochs
        basis.update(r.spec.key() for r in similar)
    return Estimate(total / max(1, min(workers, len(todo))), len(basis))


def _typical_setup(seconds: list[float]) -> float:
    """The fixed cost of a run in a long grid: its lower quartile, since only the first run of each worker compiles
    from scratch; the others reuse what it compiled."""
    return statistics.quantiles(seconds, n=4)[0] if len(seconds) > 1 else seconds[0]


def _same_model(first: RunSpec, second: RunSpec) -> bool:
    """The same network to train, whatever its seed, epochs or recipe."""
    return dataclasses.replace(first.model, param_budget=None) == dataclasses.replace(second.model, param_budget=None)
