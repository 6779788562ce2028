"""What running on Ray costs: the same grid with ``--executor local --jobs N`` and ``--executor ray`` on this machine.

The grid (3 cells x 4 seeds = 12 short runs on digits by default) runs alternately with each executor, each time into
a fresh store, after one unmeasured warm-up run of each (which fills the JAX compilation cache both share). Ray runs
on a local cluster of N CPUs started once for the benchmark (``ray.cluster_utils.Cluster``, as ``ray start --head``
would), so the figures are the executor's cost per run, not Ray's start-up; a third row starts Ray inside the command
(no ``--address``) to show that start-up. Prints wall seconds per executor (median of the repeats), Ray's overhead
per run, and whether Ray is within 10 % of the local executor; exit status 1 if it is not.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Everything on 127.0.0.1; must be set before Ray is imported.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
TARGET = 1.10


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="simplernn,lstm,gru")
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--view", default="rows")
    parser.add_argument("--cpus", type=int, default=2, help="workers for local, CPUs of the Ray cluster")
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    from ray.cluster_utils import Cluster

    runs = len(options.models.split(",")) * options.seeds
    grid = ["--dataset", options.dataset, "--view", options.view, "--models", options.models, "--seeds",
            str(options.seeds), "--epochs", str(options.epochs), "--no-report", "--quiet"]  # fmt: skip
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": options.cpus})
    executors = {
        "local": ["--executor", "local", "--jobs", str(options.cpus)],
        "ray": ["--executor", "ray", "--address", cluster.address],
        "ray, started by the command": ["--executor", "ray", "--jobs", str(options.cpus)],
    }
    seconds: dict[str, list[float]] = {name: [] for name in executors}
    try:
        with tempfile.TemporaryDirectory(prefix="rnnbench-ray-overhead-") as folder:
            for repeat in range(options.repeats + 1):  # the first round warms the caches, unmeasured
                for name, flags in executors.items():
                    store = Path(folder) / f"{repeat}-{list(executors).index(name)}.db"
                    started = time.perf_counter()
                    process = subprocess.run([sys.executable, "-m", "rnnbench", "compare", *grid, *flags, "--store",
                                              str(store)], capture_output=True, text=True)  # fmt: skip
                    elapsed = time.perf_counter() - started
                    if process.returncode != 0:
                        print(process.stderr, file=sys.stderr)
                        return 2
                    if repeat:
                        seconds[name].append(elapsed)
                    print(f"round {repeat}{' (warm-up)' if not repeat else ''}: {name}: {elapsed:.1f} s", flush=True)
    finally:
        cluster.shutdown()
    local = statistics.median(seconds["local"])
    print(f"\n{runs} runs ({options.models} x {options.seeds} seeds, {options.epochs} epochs, {options.dataset} "
          f"{options.view}), {options.cpus} CPUs, median of {options.repeats}:")  # fmt: skip
    for name, values in seconds.items():
        median = statistics.median(values)
        print(f"  {name:28s} {median:6.1f} s  ({median / local:.2f}x local; overhead {(median - local) / runs:+.2f} "
              "s per run)")  # fmt: skip
    ratio = statistics.median(seconds["ray"]) / local
    verdict = "met" if ratio <= TARGET else "missed"
    print(f"target: Ray at most {TARGET - 1:.0%} slower than local on a running cluster: {verdict} ({ratio:.2f}x)")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
