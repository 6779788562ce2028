"""Runs one after another in this process (``--jobs 1``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from rnnbench.config import DataSpec, RunSpec
from rnnbench.data.prepare import SequenceData
from rnnbench.errors import RnnbenchError
from rnnbench.executors.base import ExecutionObserver, checkpoint_name
from rnnbench.training import train


def run_inline(
    runs: Sequence[RunSpec],
    data_for: Callable[[DataSpec], SequenceData],
    observer: ExecutionObserver,
    checkpoint_dir: Path | None = None,
) -> None:
    """Train each run in turn; a run that raises is reported failed and the others go on."""
    for spec in runs:
        checkpoint = checkpoint_dir / checkpoint_name(spec) if checkpoint_dir is not None else None
        try:
            train(spec, data_for(spec.data), observer, checkpoint)
        except RnnbenchError as error:
            observer.run_failed(spec, str(error))
        except Exception as error:  # noqa: BLE001 (one failing run must not end the sweep)
            observer.run_failed(spec, f"{type(error).__name__}: {error}")
