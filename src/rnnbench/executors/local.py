"""Runs in worker processes on this machine (``--executor local``, ``--jobs N``), one run per worker at a time.

Each worker prepares itself as :mod:`rnnbench.executors.worker` describes and reports events over its pipe; the
driver process alone writes results. Each worker has a pipe of its own, so a worker that dies (killed, out of memory,
a crash in native code) mid-message breaks nothing shared: its run is marked failed with the reason, the worker is
replaced, the other runs go on.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import pickle
import signal
from collections import deque
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

from rnnbench.data.source import DataSource
from rnnbench.executors.base import ExecutionContext, ExecutionObserver, Executor, checkpoint_path, longest_first
from rnnbench.executors.worker import EventForwarder, prepare_worker_process, prepared_here, train_and_report
from rnnbench.spec import RunSpec


def _worker(connection: Connection, backend: str, source: DataSource) -> None:
    """A worker process: one thread of math, its own backend, its own data cache; trains what it is given."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver decides what an interrupt means
    prepare_worker_process(backend)
    forwarder = EventForwarder(connection.send)
    while (task := connection.recv()) is not None:
        spec, checkpoint, keep_model = task
        train_and_report(spec, functools.partial(prepared_here, spec.data, source), forwarder, checkpoint, keep_model)
    # Everything this process owes is in the pipe or in closed checkpoint files: skip the interpreter's teardown of
    # JAX/Keras (a second or two that the driver would wait for).
    connection.close()
    os._exit(0)


@dataclass
class _Worker:
    """A worker process and its own pipe: a worker killed mid-message can only garble its own channel."""

    process: BaseProcess
    connection: Connection
    run: RunSpec | None = None


def _exit_reason(process: BaseProcess) -> str:
    code = process.exitcode
    if code is not None and code < 0:
        try:
            return f"worker process killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"worker process killed by signal {-code}"
    return f"worker process exited with status {code}"


class LocalExecutor(Executor):
    """Trains runs on ``context.jobs`` worker processes, longest first. The workers stay up between calls of
    :meth:`run` (a search trains many small batches of runs) until :meth:`close`."""

    name = "local"

    def __init__(self, context: ExecutionContext) -> None:
        super().__init__(context)
        self.workers: list[_Worker] = []

    def run(self, runs: Sequence[RunSpec], observer: ExecutionObserver) -> None:
        if runs:
            _run_workers(runs, self.context, observer, self.workers)

    def close(self) -> None:
        """Let the workers finish and exit (they owe nothing: every event is in their pipes)."""
        for worker in self.workers:
            with suppress(OSError):
                worker.connection.send(None)
        for worker in self.workers:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()
        self.workers.clear()


def _run_workers(
    runs: Sequence[RunSpec], execution: ExecutionContext, observer: ExecutionObserver, workers: list[_Worker]
) -> None:
    jobs, checkpoint_dir, source = execution.jobs, execution.checkpoint_dir, execution.source
    context = multiprocessing.get_context("spawn")
    backend = runs[0].backend
    pending = deque(longest_first(runs))

    def start_worker() -> _Worker:
        ours, theirs = context.Pipe()
        process = context.Process(target=_worker, args=(theirs, backend, source), daemon=True)
        process.start()
        theirs.close()
        return _Worker(process, ours)

    def receive(worker: _Worker) -> bool:
        """Handle one event from ``worker``; False when its channel is broken (the worker died)."""
        try:
            kind, *args = worker.connection.recv()
        except (EOFError, OSError, pickle.UnpicklingError):
            return False
        if kind in ("run_ended", "run_failed"):
            worker.run = None
        getattr(observer, kind)(*args)
        return True

    def replace_dead(index: int, worker: _Worker) -> None:
        while worker.connection.poll() and receive(worker):  # what it said before it died comes first
            pass
        worker.process.join(timeout=5)
        if worker.run is not None:
            observer.run_failed(worker.run, _exit_reason(worker.process))
        worker.connection.close()
        workers[index] = start_worker()

    try:
        workers.extend(start_worker() for _ in range(min(jobs, len(runs)) - len(workers)))
        while pending or any(worker.run is not None for worker in workers):
            for worker in workers:
                if worker.run is None and pending:
                    worker.run = pending.popleft()
                    task = (worker.run, checkpoint_path(checkpoint_dir, worker.run), execution.keep_models)
                    worker.connection.send(task)
            ready = wait([worker.connection for worker in workers], timeout=0.5)
            for index, worker in enumerate(workers):
                alive = worker.connection not in ready or receive(worker)
                if not alive or not worker.process.is_alive():
                    replace_dead(index, worker)
    except BaseException:
        # Interrupted: stop at once rather than wait for runs to end; each keeps its last epoch's checkpoint, which
        # is replaced atomically, so nothing on disk is half written.
        for worker in workers:
            worker.process.kill()
        workers.clear()
        raise
