"""What every process that trains for a driver does, whichever executor started it (``local`` or ``ray``).

It sets its Keras backend and limits its math libraries to one thread before importing anything heavy, so N workers
use N cores without fighting over them; it prepares each data set once; it trains a run and forwards each training
event to the driver, which alone records them. A run's failure is an event too, never an exception.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rnnbench.backend import xla_flags
from rnnbench.data.prepare import SequenceData
from rnnbench.data.source import DataSource
from rnnbench.spec import DataSpec, RunSpec

SINGLE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
}
BATCH_EVENT_INTERVAL = 0.25

Event = tuple[Any, ...]


class EventForwarder:
    """Sends a run's training events to the driver as ``(kind, *arguments)``; batch events (progress within an epoch)
    at most every ``batch_interval`` seconds."""

    def __init__(self, send: Callable[[Event], None], batch_interval: float = BATCH_EVENT_INTERVAL) -> None:
        self.send = send
        self.batch_interval = batch_interval
        self.last_batch_event = 0.0

    def run_started(self, spec: RunSpec, epochs: int, batches_per_epoch: int, environment: dict[str, str]) -> None:
        self.send(("run_started", spec, epochs, batches_per_epoch, environment))

    def run_resumed(self, spec: RunSpec, epoch: int) -> None:
        self.send(("run_resumed", spec, epoch))

    def batch_ended(self, spec: RunSpec, batch: int) -> None:
        now = time.monotonic()
        if now - self.last_batch_event >= self.batch_interval:
            self.last_batch_event = now
            self.send(("batch_ended", spec, batch))

    def epoch_ended(self, spec: RunSpec, metrics: Any) -> None:
        self.send(("epoch_ended", spec, metrics))

    def model_saved(self, spec: RunSpec, model_file: bytes) -> None:
        self.send(("model_saved", spec, model_file))

    def run_ended(self, result: Any, confusion: Any) -> None:
        self.send(("run_ended", result, confusion))


def prepare_worker_process(backend: str) -> None:
    """One thread of math and ``backend`` for this process; the environment is set only before Keras is imported
    (a reused worker keeps what its first run set)."""
    if "keras" not in sys.modules:
        os.environ.update(SINGLE_THREAD)
        os.environ["XLA_FLAGS"] = xla_flags(os.environ.get("XLA_FLAGS", ""))  # the user's, and one thread
    from rnnbench.backend import import_keras_without_extras, select_backend, use_one_thread

    select_backend(backend)
    import_keras_without_extras()
    use_one_thread()


# The data set this process prepared last: a worker trains the runs of one data set after another, so one is enough.
_prepared: dict[DataSpec, SequenceData] = {}


def prepared_here(spec: DataSpec, source: DataSource) -> SequenceData:
    """``spec``'s data, prepared in this process through the data layer (cache, system copy or download)."""
    from rnnbench.data.prepare import prepare_data

    if spec not in _prepared:
        _prepared.clear()
        _prepared[spec] = prepare_data(spec, source=source)
    return _prepared[spec]


def train_and_report(
    spec: RunSpec,
    data: Callable[[], SequenceData],
    forwarder: EventForwarder,
    checkpoint: Path | None,
    keep_model: bool = False,
) -> None:
    """Train ``spec`` on ``data()`` (and send its model file with ``keep_model``); a failure (bad data, a crash in
    training) is sent as a ``run_failed`` event."""
    from rnnbench.engine.training import train
    from rnnbench.errors import failure_reason

    try:
        train(spec, data(), forwarder, checkpoint, keep_model)
    except Exception as error:  # noqa: BLE001 (reported to the driver, which goes on)
        forwarder.send(("run_failed", spec, failure_reason(error)))
