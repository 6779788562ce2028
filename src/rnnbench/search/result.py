"""What a search gives: each architecture's trials and best one, and the tuned comparison of their best."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from rnnbench.results.panels import PanelSet
from rnnbench.results.store import StoredTrial, TrialState
from rnnbench.spec import ExperimentSpec
from rnnbench.spec.search import SearchOptions


@dataclass(frozen=True)
class ArchitectureSearch:
    """One architecture's search: its trials (as stored) and its best one on validation accuracy."""

    model: str
    trials: tuple[StoredTrial, ...]
    best: StoredTrial | None
    importance: dict[str, float]

    @property
    def finished(self) -> int:
        return sum(trial.state == TrialState.COMPLETE for trial in self.trials)

    @property
    def pruned(self) -> int:
        return sum(trial.state == TrialState.PRUNED for trial in self.trials)

    @property
    def epochs(self) -> int:
        return sum(trial.epochs for trial in self.trials)

    @property
    def seconds(self) -> float:
        return sum(trial.seconds for trial in self.trials)

    def to_dict(self) -> dict[str, Any]:
        best = self.best
        return {
            "model": self.model,
            "trials_finished": self.finished,
            "trials_pruned": self.pruned,
            "trials_failed": sum(trial.state == TrialState.FAILED for trial in self.trials),
            "epochs": self.epochs,
            "seconds": self.seconds,
            "best_trial": best.number if best else None,
            "best_val_accuracy": best.value if best else None,
            "best_params": best.params if best else None,
            "importance": self.importance,
            "trials": [dataclasses.asdict(trial) for trial in self.trials],
        }


@dataclass(frozen=True)
class SearchResult:
    """Every architecture's search and the tuned comparison (its final runs, in panels)."""

    name: str
    spec: ExperimentSpec
    options: SearchOptions
    searches: tuple[ArchitectureSearch, ...]
    records: PanelSet
    wall_seconds: float
    trained: int

    def summary_fields(self) -> dict[str, Any]:
        """The summary JSON's fields about the search (its final panels come from :mod:`rnnbench.report.summary`)."""
        return {
            "experiment": self.spec.name,
            "search": self.name,
            "options": self.options.to_dict(),
            "backend": self.spec.backend,
            "wall_seconds": self.wall_seconds,
            "trained_now": self.trained,
            "architectures": [search.to_dict() for search in self.searches],
        }
