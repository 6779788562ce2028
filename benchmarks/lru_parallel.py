"""Training speed of LRU on long sequences: each route of its whole-sequence layer against Keras' own loop over the
cell.

The workload of DESIGN.md's long-sequence figures: 784 steps x 1 feature (pixel by pixel), 64 units, batch 64, plain
SGD, one process pinned to one core; random pixels, since speed does not depend on them. Each line is seconds per
1,000 training samples of the registered model (recurrent layer, BatchNormalization, Dense logits) trained by the
engine's compiled epochs, the median of ``--repeats`` passes over ``--samples`` samples after one pass that compiles:

- ``keras loop``: the same model with the cell in ``keras.layers.RNN``, one XLA loop iteration a step (the cell's
  matrix products inside the loop); the reference, and what a masked input runs;
- ``kernel``: the default with JAX on the CPU, the recurrence one compiled call (:mod:`rnnbench.kernels`);
- ``loop``: the recurrence alone in ``lax.scan`` (no compiler, ``RNNBENCH_FAST_LAYERS=0``, an export, not float32);
- ``parallel``: the associative scan, the route of TensorFlow, torch and GPUs, here on the CPU.

The input term and the outputs are matrix products over the whole sequence on every route but the Keras loop.

    taskset -c 0 python benchmarks/lru_parallel.py           # 256 samples, 5 repeats
    taskset -c 0 python benchmarks/lru_parallel.py --samples 640 --routes kernel,loop

Latest figures (2026-12-06, 2-core AMD EPYC heavily shared with other work, Keras 3.15.1, JAX 0.10.2 on the CPU,
core 0; seconds per 1,000 samples, each row one run of the command with ``--samples`` as given):

| samples a pass | keras loop | kernel | loop | parallel |
|---|---|---|---|---|
| 256 | 2.297 | 0.237 (9.7x) | 2.067 (1.1x) | 14.23 (0.16x) |
| 640 | 1.954 | 0.194 (10.1x) | 1.493 (1.3x) | |
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
from timing import per_thousand  # benchmarks/timing.py

STEPS, FEATURES, UNITS, BATCH, CLASSES = 784, 1, 64, 64, 10


def keras_loop_model() -> Any:
    """The registered model's layers with the LRU cell in ``keras.layers.RNN``, Keras' step-by-step loop."""
    import keras

    from rnnbench.models import lru

    cell, _ = lru.keras_classes()
    return keras.Sequential([
        keras.Input((STEPS, FEATURES), name="sequence"),
        keras.layers.RNN(cell(UNITS), name="recurrent"),
        keras.layers.BatchNormalization(name="norm"),
        keras.layers.Dense(CLASSES, name="logits"),
    ])  # fmt: skip


def rnnbench_pass(route: str, x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    """One epoch of the engine's compiled training over (x, y), the recurrence taking ``route`` (or Keras' loop)."""
    import keras

    from rnnbench.engine.compiled_epochs import CompiledEpochs
    from rnnbench.models import linear_scan
    from rnnbench.models.builder import build_model
    from rnnbench.spec import ModelSpec

    linear_scan.scan_route = lambda dtype="float32": route  # read when the programs are traced, below
    from rnnbench.backend import seed_everything

    seed_everything(0)  # as a run seeds: Keras' own seeding imports an installed TensorFlow, memory and all
    model = (
        keras_loop_model() if route == "keras loop" else build_model(ModelSpec("lru", UNITS), STEPS, FEATURES, CLASSES)
    )
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss=keras.losses.SparseCategoricalCrossentropy(True))
    training = CompiledEpochs(model, x, y, BATCH)
    order = np.arange(len(x))
    return lambda: training.train_epoch(order, lambda done: None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=256, help="samples a pass (whole batches of 64)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--routes", default="kernel,loop,parallel", help="the layer's routes to time")
    parser.add_argument("--core", type=int, default=min(os.sched_getaffinity(0)), help="the CPU to pin to")
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.core})
    from rnnbench.backend import select_backend

    select_backend("jax")
    from rnnbench.kernels.build import kernel_status

    routes = args.routes.split(",")
    if "kernel" in routes and not kernel_status().available:
        print(f"the compiled kernels are not available: {kernel_status().reason}")
        return 1
    samples = args.samples // BATCH * BATCH
    rng = np.random.default_rng(0)
    x = rng.random((samples, STEPS, FEATURES), dtype=np.float32)
    y = (np.arange(samples) % CLASSES).astype(np.int32)
    print(f"{STEPS} steps x {FEATURES} feature, {UNITS} units, batch {BATCH}, {samples} samples a pass, median of "
          f"{args.repeats}, core {args.core}: seconds per 1,000 training samples")  # fmt: skip
    loop = per_thousand(rnnbench_pass("keras loop", x, y), samples, args.repeats)
    print(f"  keras loop  {loop:6.3f}")
    for route in routes:
        seconds = per_thousand(rnnbench_pass(route, x, y), samples, args.repeats)
        print(f"  {route:10s}  {seconds:6.3f}  ({loop / seconds:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
