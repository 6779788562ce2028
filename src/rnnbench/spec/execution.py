"""Where results go and where runs execute: default paths and the cluster options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rnnbench.errors import RnnbenchError

# Where results go unless the user says otherwise.
DEFAULT_STORE = Path("rnnbench.db")
DEFAULT_REPORT_DIR = Path("rnnbench-report")


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
        if not self.cpus_per_run > 0:
            raise RnnbenchError(f"--cpus-per-run must be above 0, got {self.cpus_per_run:g}")
        if self.gpus_per_run < 0:
            raise RnnbenchError(f"--gpus-per-run must be 0 or more, got {self.gpus_per_run:g}")
        if self.gpus_per_run > 1 and self.gpus_per_run != int(self.gpus_per_run):
            raise RnnbenchError(f"--gpus-per-run above 1 must be a whole number, got {self.gpus_per_run:g}")
        if self.max_retries < 0:
            raise RnnbenchError(f"--max-retries must be 0 or more, got {self.max_retries}")
