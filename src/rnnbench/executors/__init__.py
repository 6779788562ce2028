"""Where runs execute, behind one interface (:class:`Executor`), chosen by name.

``inline`` trains in this process, ``local`` in worker processes on this machine (``--jobs N``).
"""

from __future__ import annotations

from collections.abc import Callable

from rnnbench.errors import UnknownNameError
from rnnbench.executors.base import ExecutionContext, ExecutionObserver, Executor
from rnnbench.executors.inline import InlineExecutor
from rnnbench.executors.local import LocalExecutor

EXECUTORS: dict[str, Callable[[ExecutionContext], Executor]] = {
    InlineExecutor.name: InlineExecutor,
    LocalExecutor.name: LocalExecutor,
}


def make_executor(name: str, context: ExecutionContext) -> Executor:
    if name not in EXECUTORS:
        raise UnknownNameError("executor", name, list(EXECUTORS))
    return EXECUTORS[name](context)


__all__ = ["EXECUTORS", "ExecutionContext", "ExecutionObserver", "Executor", "make_executor"]
