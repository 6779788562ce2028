"""Worker processes: the same numbers as training inline, and a killed worker fails only its own run."""

from __future__ import annotations

import multiprocessing
import os
import signal
from contextlib import closing

import pytest

from rnnbench.data import DataSource, prepare_data
from rnnbench.errors import RnnbenchError
from rnnbench.executors import EXECUTORS, ExecutionContext, make_executor
from rnnbench.executors.base import longest_first
from rnnbench.models import list_models
from rnnbench.models.cost import estimated_cost
from rnnbench.results.run_result import RunStatus
from rnnbench.spec import DataSpec, ModelSpec, RunSpec, TrainSpec

DATA = DataSpec("digits", limit_train=300, limit_test=60)


def _executor(name: str, jobs: int = 1):
    data = prepare_data(DATA)
    return make_executor(name, ExecutionContext(jobs, None, DataSource.from_settings(), lambda spec: data))


def _runs(*models: str, epochs: int = 2) -> list[RunSpec]:
    return [RunSpec(DATA, ModelSpec(model, 8), TrainSpec(batch_size=32, epochs=epochs)) for model in models]


class Collect:
    def __init__(self, on_epoch=None) -> None:
        self.results, self.failures, self.epochs, self.on_epoch = {}, {}, [], on_epoch

    def run_started(self, spec, epochs, batches, environment): ...
    def run_resumed(self, spec, epoch): ...
    def batch_ended(self, spec, batch): ...

    def epoch_ended(self, spec, metrics):
        self.epochs.append((spec.model.name, metrics.epoch))
        if self.on_epoch:
            self.on_epoch(spec, metrics)

    def run_ended(self, result, confusion):
        self.results[result.spec.model.name] = result

    def run_failed(self, spec, reason):
        self.failures[spec.model.name] = reason


def test_longest_runs_go_first():
    runs = _runs("simplernn", "lstm", "gru")
    assert [run.model.name for run in longest_first(runs)] == ["lstm", "gru", "simplernn"]
    assert estimated_cost(runs[1]) > estimated_cost(runs[2]) > estimated_cost(runs[0])


def test_every_registered_cell_has_a_cost_and_wider_costs_more():
    for info in list_models():
        narrow, wide = (RunSpec(DATA, ModelSpec(info.name, units), TrainSpec()) for units in (8, 64))
        assert 0 < estimated_cost(narrow) < estimated_cost(wide), info.name


def test_executors_are_chosen_by_name():
    assert set(EXECUTORS) == {"inline", "local", "ray"}
    with pytest.raises(RnnbenchError, match="unknown executor 'cluster'; known: inline, local, ray"):
        _executor("cluster")


def test_workers_give_the_numbers_of_inline_training():
    runs = _runs("simplernn", "gru")
    parallel, inline = Collect(), Collect()
    with closing(_executor("local", jobs=2)) as executor:
        executor.run(runs, parallel)
    _executor("inline").run(runs, inline)
    assert not parallel.failures and set(parallel.results) == {"simplernn", "gru"}
    for name, result in inline.results.items():
        other = parallel.results[name]
        assert [e.train_loss for e in other.epochs] == [e.train_loss for e in result.epochs]
        assert (other.test_accuracy, other.best_epoch) == (result.test_accuracy, result.best_epoch)


def test_workers_serve_every_call_until_closed():
    executor = _executor("local", jobs=2)
    first, second = Collect(), Collect()
    executor.run(_runs("simplernn", "gru", epochs=1), first)
    pids = sorted(worker.process.pid for worker in executor.workers)
    executor.run(_runs("lstm", "simplernn", epochs=1), second)
    assert sorted(worker.process.pid for worker in executor.workers) == pids  # no new processes
    assert set(first.results) == {"simplernn", "gru"} and set(second.results) == {"lstm", "simplernn"}
    processes = [worker.process for worker in executor.workers]
    executor.close()
    assert executor.workers == [] and not any(process.is_alive() for process in processes)


def test_a_killed_worker_fails_its_run_and_the_others_go_on():
    def kill_workers(spec, metrics):
        if spec.model.name == "lstm" and metrics.epoch == 1:
            for child in multiprocessing.active_children():
                os.kill(child.pid, signal.SIGKILL)

    observer = Collect(on_epoch=kill_workers)
    with closing(_executor("local", jobs=1)) as executor:
        executor.run(_runs("lstm", "simplernn", "gru", epochs=3), observer)
    assert observer.failures == {"lstm": "worker process killed by SIGKILL"}
    assert set(observer.results) == {"simplernn", "gru"}
    assert all(result.status == RunStatus.FINISHED for result in observer.results.values())
