"""Runs as Ray tasks on a cluster (``--executor ray``), each with the resources it declares, on any node.

The driver alone writes the store. Each run is a streaming generator task: the worker trains in a thread and yields
every training event as it happens, each end-of-epoch checkpoint's bytes with it, so progress, the store and the
checkpoints kept beside it look as with the local executor, with no storage shared between nodes. A run whose worker
process or node is lost is submitted again (at most ``max_retries`` times) with the last checkpoint the driver
received and resumes from it on whichever node Ray gives it. Registered data sets are prepared by each worker through
the data layer on its own node; a data set given by path exists on the driver's disk alone, so its prepared arrays
travel through Ray's object store, once per data set.
"""

from __future__ import annotations

import logging
import math
import os
import queue
import socket
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from rnnbench.data.prepare import SequenceData
from rnnbench.data.registry import is_registered
from rnnbench.data.source import DataSource
from rnnbench.engine.checkpoint import save_checkpoint_bytes
from rnnbench.errors import RnnbenchError
from rnnbench.executors.base import (
    ClusterOptions,
    ExecutionContext,
    ExecutionObserver,
    Executor,
    checkpoint_name,
    checkpoint_path,
    longest_first,
)
from rnnbench.executors.worker import Event, EventForwarder, prepare_worker_process, prepared_here, train_and_report
from rnnbench.spec import DataSpec, RunSpec
from rnnbench.terminal import stderr_silenced
from rnnbench.version import __version__

RAY_EXTRA = "rnnbench[ray]"
# How long an unreachable --address may take to say so.
CONNECT_TIMEOUT = 5.0
# How often the driver looks up from waiting (Ctrl-C is seen within this).
WAIT_INTERVAL = 0.5
# Epochs on small data take milliseconds; shipping every one's checkpoint (100-300 kB through the object store) would
# cost a quarter of the training time on a busy machine. A lost run loses at most this much work.
CHECKPOINT_INTERVAL = 1.0
# Each event is an object in Ray's object store: progress within an epoch is sent less often than over a local pipe.
RAY_BATCH_EVENT_INTERVAL = 1.0


def import_ray() -> ModuleType:
    try:
        import ray
    except ImportError:
        raise RnnbenchError(f"--executor ray needs Ray; install it with: pip install '{RAY_EXTRA}'") from None
    return ray


def check_reachable(address: str) -> None:
    """Fail in seconds, not minutes, when nothing listens at ``address`` (HOST:PORT of the head's GCS)."""
    forms = ("--address takes auto or HOST:PORT, the head node's address and its port (6379 unless 'ray start --head "
             "--port' said otherwise), e.g. 192.168.1.5:6379")  # fmt: skip
    if "://" in address:
        raise RnnbenchError(f"--address '{address}' is a URL; {forms} (Ray Client ray:// and dashboard http:// "
                            "addresses are not accepted)")  # fmt: skip
    host, _, port = address.rpartition(":")
    if not host or not (port.isascii() and port.isdigit()):
        raise RnnbenchError(f"--address '{address}' is not auto or HOST:PORT; {forms}")
    if not 1 <= int(port) <= 65535:
        raise RnnbenchError(f"--address '{address}': port {port} is out of range (1 to 65535); {forms}")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as error:
        raise RnnbenchError(
            f"no Ray cluster answers at {address} ({error.strerror or error}); start one with 'ray start --head' "
            "or give the address that command printed"
        ) from None


@contextmanager
def connected(ray: ModuleType, options: ClusterOptions, jobs: int) -> Iterator[None]:
    """Connected to the cluster at ``options.address``, or to a Ray instance started here for the command (``jobs``
    runs at once). A driver that is already connected (``ray.init`` called by a library user) stays so."""
    if ray.is_initialized():
        yield
        return
    if options.address not in (None, "auto"):
        check_reachable(options.address)
    # Ray's own warnings would interleave with the progress lines; what they warn of that matters here (a run no node
    # can hold, a lost node) rnnbench says itself.
    settings: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
    if options.address is None:
        settings.update(num_cpus=max(jobs * math.ceil(options.cpus_per_run), 1), include_dashboard=False)
    try:
        # "local": a new instance even where RAY_ADDRESS names a cluster (--address says which cluster to join). A
        # new instance's processes inherit stderr, so only joining one is silenced.
        # Ray's core writes each failed attempt to join to stderr; rnnbench says it in one line.
        with stderr_silenced() if options.address is not None else nullcontext():
            ray.init(address=options.address or "local", **settings)
    except (ConnectionError, RuntimeError, ValueError) as error:
        where = {None: "started here", "auto": "on this machine (--address auto)"}.get(
            options.address, f"at {options.address}"
        )
        hint = ""
        if options.address not in (None, "auto") and os.environ.get("RAY_AUTH_MODE") != "token":
            hint = ("; if the cluster requires its token (clusters started by 'ray start' do), set RAY_AUTH_MODE=token "
                    "and RAY_AUTH_TOKEN to what 'ray get-auth-token' prints on the head")  # fmt: skip
        raise RnnbenchError(f"could not connect to a Ray cluster {where}: {str(error).splitlines()[0]}{hint}") from None
    try:
        check_resources(ray, options)
        yield
    finally:
        ray.shutdown()


def check_resources(ray: ModuleType, options: ClusterOptions) -> None:
    """Refuse runs that no node can hold: Ray would wait for such a node forever."""
    nodes = [node["Resources"] for node in ray.nodes() if node["Alive"]]
    if any(
        resources.get("CPU", 0) >= options.cpus_per_run and resources.get("GPU", 0) >= options.gpus_per_run
        for resources in nodes
    ):
        return
    have = "; ".join(f"{resources.get('CPU', 0):g} CPUs and {resources.get('GPU', 0):g} GPUs" for resources in nodes)
    raise RnnbenchError(
        f"no node of the Ray cluster can hold a run of {options.cpus_per_run:g} CPUs and {options.gpus_per_run:g} "
        f"GPUs (its nodes have {have}); lower --cpus-per-run or --gpus-per-run, or add such a node"
    )


@dataclass(frozen=True)
class _Task:
    """What a run's task needs besides its data: the checkpoint to resume from (None: none yet), whether to keep
    checkpoints and to send the model file, and where the driver runs (its data folder serves workers on its own
    machine)."""

    spec: RunSpec
    checkpoint: bytes | None
    keep_checkpoints: bool
    keep_model: bool
    source: DataSource
    driver_host: str
    driver_version: str


class _CheckpointForwarder(EventForwarder):
    """Sends the end-of-epoch checkpoint's bytes just before the epoch's metrics: the first epoch's, then at most one
    every CHECKPOINT_INTERVAL seconds."""

    def __init__(self, send: Any, checkpoint: Path | None) -> None:
        super().__init__(send, RAY_BATCH_EVENT_INTERVAL)
        self.checkpoint = checkpoint
        self.last_sent: float | None = None

    def epoch_ended(self, spec: RunSpec, metrics: Any) -> None:
        now = time.monotonic()
        due = self.last_sent is None or now - self.last_sent >= CHECKPOINT_INTERVAL
        if due and self.checkpoint is not None and self.checkpoint.is_file():
            self.last_sent = now
            self.send(("checkpoint", spec, self.checkpoint.read_bytes()))
        super().epoch_ended(spec, metrics)


def train_events(task: _Task, data: SequenceData | None) -> Iterator[Event]:
    """The Ray task of one run: its events, as they happen. ``data`` is None for a registered data set."""
    if task.driver_version != __version__:
        reason = (f"{socket.gethostname()} has rnnbench {__version__} and the driver {task.driver_version}; install "
                  "the same version on every node")  # fmt: skip
        yield ("run_failed", task.spec, reason)
        return
    prepare_worker_process(task.spec.backend)
    source = task.source
    if socket.gethostname() != task.driver_host:
        source = DataSource.from_settings(offline=source.offline)  # this node's own cache
    events: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
    trainer = threading.Thread(target=_train, args=(task, data, source, events), daemon=True)
    trainer.start()
    while (event := events.get()) is not None:
        yield event


def _train(task: _Task, data: SequenceData | None, source: DataSource, events: queue.SimpleQueue[Event | None]) -> None:
    spec = task.spec
    try:
        with tempfile.TemporaryDirectory(prefix="rnnbench-") as folder:
            checkpoint = Path(folder) / checkpoint_name(spec) if task.keep_checkpoints else None
            if checkpoint is not None and task.checkpoint is not None:
                checkpoint.write_bytes(task.checkpoint)
            forwarder = _CheckpointForwarder(events.put, checkpoint)
            train_and_report(spec, lambda: data if data is not None else prepared_here(spec.data, source),
                             forwarder, checkpoint, task.keep_model)  # fmt: skip
    finally:
        events.put(None)


@dataclass
class _Attempt:
    spec: RunSpec
    number: int
    ended: bool = False


class RayExecutor(Executor):
    """Trains each run as a Ray task, longest first, with ``context.cluster``'s resources and retries."""

    name = "ray"
    on_this_machine = False  # a cluster's nodes have memory of their own

    @classmethod
    def check(cls, cluster: ClusterOptions) -> None:
        """A missing extra or a wrong address is said in one line before any data set is loaded or store opened."""
        if cluster.address not in (None, "auto"):
            check_reachable(cluster.address)
        ray = import_ray()
        if cluster.gpus_per_run > 0 or cluster.cpus_per_run > 1:
            with connected(ray, cluster, jobs=1):
                pass  # connecting checks that a node can hold a run: refused before the store is opened

    def run(self, runs: Sequence[RunSpec], observer: ExecutionObserver) -> None:
        if not runs:
            return
        ray = import_ray()
        with connected(ray, self.context.cluster, self.context.jobs):
            _Driver(ray, self.context, observer).run(longest_first(runs))


class _Driver:
    """Submits the runs, turns their events into observer calls and their lost workers into retries."""

    def __init__(self, ray: ModuleType, context: ExecutionContext, observer: ExecutionObserver) -> None:
        self.ray = ray
        self.context = context
        self.observer = observer
        cluster = context.cluster
        self.remote = ray.remote(train_events).options(
            num_cpus=cluster.cpus_per_run, num_gpus=cluster.gpus_per_run, max_retries=0
        )
        self.shipped: dict[DataSpec, Any] = {}
        self.host = socket.gethostname()

    def run(self, runs: Sequence[RunSpec]) -> None:
        live = {self.submit(spec, 1): _Attempt(spec, 1) for spec in runs}
        try:
            while live:
                ready, _ = self.ray.wait(list(live), num_returns=1, timeout=WAIT_INTERVAL)
                if ready:  # and every other run with an event waiting
                    ready, _ = self.ray.wait(list(live), num_returns=len(live), timeout=0)
                for generator in ready:
                    attempt = live.pop(generator)
                    following = self.step(generator, attempt)
                    if following is not None:
                        live[following[0]] = following[1]
        finally:
            for generator in live:
                with suppress(Exception):
                    self.ray.cancel(generator, force=True)

    def submit(self, spec: RunSpec, number: int) -> Any:
        kept = checkpoint_path(self.context.checkpoint_dir, spec)
        task = _Task(
            spec=spec,
            checkpoint=kept.read_bytes() if kept is not None and kept.is_file() else None,
            keep_checkpoints=kept is not None,
            keep_model=self.context.keep_models,
            source=self.context.source,
            driver_host=self.host,
            driver_version=__version__,
        )
        return self.remote.remote(task, self.data(spec.data))

    def data(self, spec: DataSpec) -> Any:
        """None for a registered data set (each worker prepares it); else the driver's arrays, put in the object store
        once."""
        if is_registered(spec.name):
            return None
        if spec not in self.shipped:
            self.shipped[spec] = self.ray.put(self.context.prepared(spec))
        return self.shipped[spec]

    def step(self, generator: Any, attempt: _Attempt) -> tuple[Any, _Attempt] | None:
        """Handle the next event of ``attempt``; what to wait on next for this run (None: nothing, it is over)."""
        exceptions = self.ray.exceptions
        try:
            event = self.ray.get(next(generator))
        except StopIteration:
            if not attempt.ended:
                self.observer.run_failed(attempt.spec, "its Ray task ended without a result")
            return None
        except exceptions.RayTaskError as error:  # raised outside training, which reports its own failures
            self.observer.run_failed(attempt.spec, _first_line(getattr(error, "cause", None) or error))
            return None
        except exceptions.RayError as error:  # the worker process or its node was lost
            return self.retry(attempt, _lost(error))
        kind, *args = event
        if kind == "checkpoint":
            self.keep(*args)
        else:
            attempt.ended = attempt.ended or kind in ("run_ended", "run_failed")
            getattr(self.observer, kind)(*args)
        return generator, attempt

    def keep(self, spec: RunSpec, checkpoint: bytes) -> None:
        """The run's checkpoint, kept beside the store where a retry (or a later rerun) resumes from."""
        kept = checkpoint_path(self.context.checkpoint_dir, spec)
        if kept is not None:
            save_checkpoint_bytes(kept, checkpoint)

    def retry(self, attempt: _Attempt, reason: str) -> tuple[Any, _Attempt] | None:
        retries = self.context.cluster.max_retries
        if attempt.number > retries:
            self.observer.run_failed(attempt.spec, f"{reason}; given up after {attempt.number} attempts "
                                                   f"(--max-retries {retries})")  # fmt: skip
            return None
        self.observer.run_retried(attempt.spec, attempt.number + 1, reason)
        following = _Attempt(attempt.spec, attempt.number + 1)
        return self.submit(attempt.spec, following.number), following


def _lost(error: Exception) -> str:
    name = type(error).__name__
    if name == "NodeDiedError":
        return "its node was lost"
    if name == "WorkerCrashedError":
        return "its worker process died"
    return f"{name}: {_first_line(error)}"


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
