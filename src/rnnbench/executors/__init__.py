"""Where runs execute, behind one interface (:class:`Executor`), chosen by name.

``inline`` trains in this process, ``local`` in worker processes on this machine (``--jobs N``), ``ray`` as tasks on a
Ray cluster (``rnnbench[ray]``). It imports the engine, data and the specs; never the driver, search, report or CLI.
"""

from __future__ import annotations

from rnnbench.errors import UnknownNameError
from rnnbench.executors.base import ExecutionContext, ExecutionObserver, Executor
from rnnbench.executors.inline import InlineExecutor
from rnnbench.executors.local import LocalExecutor
from rnnbench.executors.ray_cluster import RayExecutor
from rnnbench.spec import ClusterOptions

EXECUTORS: dict[str, type[Executor]] = {
    InlineExecutor.name: InlineExecutor,
    LocalExecutor.name: LocalExecutor,
    RayExecutor.name: RayExecutor,
}


def executor_class(name: str) -> type[Executor]:
    if name not in EXECUTORS:
        raise UnknownNameError("executor", name, list(EXECUTORS))
    return EXECUTORS[name]


def make_executor(name: str, context: ExecutionContext) -> Executor:
    return executor_class(name)(context)


__all__ = [
    "EXECUTORS",
    "ClusterOptions",
    "ExecutionContext",
    "ExecutionObserver",
    "Executor",
    "executor_class",
    "make_executor",
]
