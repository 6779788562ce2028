"""Runs one after another in this process (``--executor inline``, the default with ``--jobs 1``)."""

from __future__ import annotations

from collections.abc import Sequence

from rnnbench.engine.training import train
from rnnbench.errors import failure_reason
from rnnbench.executors.base import ExecutionObserver, Executor, checkpoint_path
from rnnbench.spec import RunSpec


class InlineExecutor(Executor):
    """Trains each run in turn on the data the driver prepared; a run that raises is reported failed."""

    name = "inline"

    def run(self, runs: Sequence[RunSpec], observer: ExecutionObserver) -> None:
        for spec in runs:
            try:
                train(spec, self.context.prepared(spec.data), observer,
                      checkpoint_path(self.context.checkpoint_dir, spec), self.context.keep_models)  # fmt: skip
            except Exception as error:  # noqa: BLE001 (one failing run must not end the sweep)
                observer.run_failed(spec, failure_reason(error))
