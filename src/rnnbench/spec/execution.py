"""Where results go and where runs execute: default paths, the execution config and the cluster options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rnnbench.errors import RnnbenchError
from rnnbench.spec.checks import require_in_range

# Where results go unless the user says otherwise.
DEFAULT_STORE = Path("rnnbench.db")
DEFAULT_REPORT_DIR = Path("rnnbench-report")
# What a run may reserve on a Ray node.
MAX_CPUS_PER_RUN = 1024.0
MAX_GPUS_PER_RUN = 64.0


@dataclass(frozen=True)
class ClusterOptions:
    """Where and how runs train on a Ray cluster (``--executor ray``).

    ``address``: None starts a Ray instance on this machine for the command; ``auto`` or ``HOST:PORT`` joins a
    running cluster. ``cpus_per_run`` and ``gpus_per_run`` are the resources Ray reserves for each run (fractions
    share a GPU between runs); ``max_retries`` bounds how often a run whose worker or node is lost trains again.
    """

    address: str | None = None
    cpus_per_run: float = 1.0
    gpus_per_run: float = 0.0
    max_retries: int = 2

    def __post_init__(self) -> None:
        require_in_range("--cpus-per-run", self.cpus_per_run, 0.0, MAX_CPUS_PER_RUN, low_open=True)
        require_in_range("--gpus-per-run", self.gpus_per_run, 0.0, MAX_GPUS_PER_RUN)
        if self.gpus_per_run > 1 and self.gpus_per_run != int(self.gpus_per_run):
            raise RnnbenchError(f"--gpus-per-run above 1 must be a whole number, got {self.gpus_per_run:g}")
        if self.max_retries < 0:
            raise RnnbenchError(f"--max-retries must be 0 or more, got {self.max_retries}")


# Which trained models a command keeps as files beside the store: none, the best of each model per panel, or all.
SAVE_MODELS = ("best", "all", "none")


@dataclass(frozen=True)
class ExecutionConfig:
    """Where and how the runs of a command execute, whatever the command (a comparison or a search).

    ``executor`` names where runs train (``inline``, ``local`` or ``ray``); None chooses worker processes when
    ``jobs`` > 1 and the first runs to train are more than one, else this process. ``jobs`` is how many runs train at
    once; ``cluster`` the Ray cluster and each run's resources there; ``save_models`` which trained models to keep as
    files beside the store (one of :data:`SAVE_MODELS`; ``best``: per model of each panel, on validation accuracy).
    """

    executor: str | None = None
    jobs: int = 1
    cluster: ClusterOptions = ClusterOptions()
    save_models: str = "none"

    def __post_init__(self) -> None:
        if self.jobs < 1:
            raise RnnbenchError(f"jobs must be at least 1, got {self.jobs}")
        if self.executor == "inline" and self.jobs > 1:
            raise RnnbenchError(f"--executor inline trains one run at a time; --jobs {self.jobs} needs --executor "
                                "local or ray")  # fmt: skip
        if self.save_models not in SAVE_MODELS:
            raise RnnbenchError(f"save_models must be one of {', '.join(SAVE_MODELS)}, not {self.save_models!r}")

    def executor_for(self, runs_to_train: int) -> str:
        """The executor's name for a command whose first runs to train are ``runs_to_train``."""
        return self.executor or ("local" if self.jobs > 1 and runs_to_train > 1 else "inline")
