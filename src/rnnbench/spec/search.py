"""How to search: the options of an equal-budget search per architecture (``rnnbench tune``, ``[search]``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rnnbench.errors import RnnbenchError
from rnnbench.spec.run import SEED_LIMIT
from rnnbench.spec.search_space import DEFAULT_SPACE, SearchSpace

PRUNERS = ("asha", "none")
# A search is a few dozen trials per architecture, its comparison a few seeds: a million is a typo.
MAX_TRIALS = 10_000
MAX_FINAL_SEEDS = 1_000


@dataclass(frozen=True)
class SearchOptions:
    """How to search: trials per architecture, the sampler's seed, the space, the pruner, the final seeds."""

    trials: int = 20
    search_seed: int = 0
    space: SearchSpace = DEFAULT_SPACE
    pruner: str = "asha"
    final_seeds: int = 3

    def __post_init__(self) -> None:
        if not 1 <= self.trials <= MAX_TRIALS:
            raise RnnbenchError(f"--trials must be from 1 to {MAX_TRIALS:,} per architecture, got {self.trials:,}")
        if not 1 <= self.final_seeds <= MAX_FINAL_SEEDS:
            raise RnnbenchError(f"--final-seeds must be from 1 to {MAX_FINAL_SEEDS:,}, got {self.final_seeds:,}")
        if self.pruner not in PRUNERS:
            raise RnnbenchError(f"unknown pruner '{self.pruner}'; known: {', '.join(PRUNERS)}")
        if not 0 <= self.search_seed < SEED_LIMIT:
            raise RnnbenchError(f"--search-seed must be from 0 to {SEED_LIMIT - 1}, got {self.search_seed}")

    def to_dict(self) -> dict[str, Any]:
        return {"trials": self.trials, "search_seed": self.search_seed, "space": self.space.to_dict(),
                "pruner": self.pruner, "final_seeds": self.final_seeds}  # fmt: skip
