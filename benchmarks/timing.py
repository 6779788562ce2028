"""How the long-sequence benchmarks time a training pass: the median over repeats, after one pass that compiles, as
seconds per 1,000 samples, by the wall clock and by the process's CPU time.

On a shared machine a process pinned to one core also waits for it; the wall clock counts the wait and the CPU time
does not, so the benchmarks report both (on an idle core they agree).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def wall_and_cpu_per_thousand(train_pass: Callable[[], None], samples: int, repeats: int) -> tuple[float, float]:
    """Median seconds per 1,000 samples of ``train_pass`` (one pass over ``samples``), after one that compiles: of
    wall-clock time, and of the process's CPU time (all its threads)."""
    train_pass()
    wall, cpu = [], []
    for _ in range(repeats):
        began, began_cpu = time.perf_counter(), time.process_time()
        train_pass()
        wall.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    return statistics.median(wall) / samples * 1000, statistics.median(cpu) / samples * 1000


def per_thousand(train_pass: Callable[[], None], samples: int, repeats: int, clock: str = "wall") -> float:
    """The same by one ``clock`` (a key of :data:`CLOCKS`)."""
    wall, cpu = wall_and_cpu_per_thousand(train_pass, samples, repeats)
    return {"wall": wall, "cpu": cpu}[clock]
