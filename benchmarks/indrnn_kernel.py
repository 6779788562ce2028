"""Training speed of IndRNN on long sequences: its compiled kernel against Keras' own loop over the cell.

The workload of DESIGN.md's long-sequence figures: 784 steps x 1 feature (pixel by pixel), 64 units, batch 64, plain
SGD, one process pinned to one core; random pixels, since speed does not depend on them. Each line is seconds per
1,000 training samples of the registered model (recurrent layer, BatchNormalization, Dense logits) trained by the
engine's compiled epochs, the median of ``--repeats`` passes over ``--samples`` samples after one pass that compiles:

- ``kernel``: the default with JAX on the CPU, the recurrence one compiled call (:mod:`rnnbench.kernels`);
- ``keras loop``: Keras' own loop over the cell, as inside :func:`rnnbench.models.fast.stock_recurrence` or under
  ``RNNBENCH_FAST_LAYERS=0`` (the route without a compiler, and the reference).

    taskset -c 0 python benchmarks/indrnn_kernel.py          # 256 samples, 5 repeats
    taskset -c 0 python benchmarks/indrnn_kernel.py --samples 1280

Latest figures (2026-12-06, 2-core AMD EPYC shared with other work, Keras 3.15.1, JAX 0.10.2 on the CPU, core 0;
seconds per 1,000 samples, each row one run of the command with ``--samples`` as given):

| samples a pass | keras loop | kernel |
|---|---|---|
| 256 | 0.141 | 0.037 (3.8x) |
| 640 | 0.105 | 0.035 (3.0x) |
| 1280 | 0.115 | 0.036 (3.2x) |

On the kernel route a batch takes about 2.3 ms, all of it the recurrence and its gradient (measured apart: the
compiled forward call with XLA's projection about 0.7 ms, the backward call about 0.7 ms, XLA's dW = x^T dL/dp about
0.25 ms). Each pass reads or writes (batch, steps, units) arrays of 12.8 MB, so the route is bound by memory; the
Keras loop's time is mostly its per-step cost.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable

import numpy as np
from timing import per_thousand  # benchmarks/timing.py

STEPS, FEATURES, UNITS, BATCH, CLASSES = 784, 1, 64, 64, 10


def rnnbench_pass(stock: bool, x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    """One epoch of the engine's compiled training over (x, y); with ``stock``, traced in Keras' own loop."""
    import keras

    from rnnbench.backend import seed_everything
    from rnnbench.engine.compiled_epochs import CompiledEpochs
    from rnnbench.models import fast
    from rnnbench.models.builder import build_model
    from rnnbench.spec import ModelSpec

    seed_everything(0)  # as a run seeds: Keras' own seeding imports an installed TensorFlow, memory and all
    model = build_model(ModelSpec("indrnn", UNITS), STEPS, FEATURES, CLASSES)
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss=keras.losses.SparseCategoricalCrossentropy(True))
    training = CompiledEpochs(model, x, y, BATCH)
    order = np.arange(len(x))

    def train_pass() -> None:
        # The route is chosen when the programs are traced, in the first pass.
        with fast.stock_recurrence() if stock else contextlib.nullcontext():
            training.train_epoch(order, lambda done: None)

    return train_pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=256, help="samples a pass (whole batches of 64)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--core", type=int, default=min(os.sched_getaffinity(0)), help="the CPU to pin to")
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.core})
    from rnnbench.backend import select_backend

    select_backend("jax")
    from rnnbench.kernels.build import kernel_status

    if not kernel_status().available:
        print(f"the compiled kernels are not available: {kernel_status().reason}")
        return 1
    samples = args.samples // BATCH * BATCH
    rng = np.random.default_rng(0)
    x = rng.random((samples, STEPS, FEATURES), dtype=np.float32)
    y = (np.arange(samples) % CLASSES).astype(np.int32)
    print(f"{STEPS} steps x {FEATURES} feature, {UNITS} units, batch {BATCH}, {samples} samples a pass, median of "
          f"{args.repeats}, core {args.core}: seconds per 1,000 training samples")  # fmt: skip
    loop = per_thousand(rnnbench_pass(True, x, y), samples, args.repeats)
    print(f"  keras loop  {loop:6.3f}")
    kernel = per_thousand(rnnbench_pass(False, x, y), samples, args.repeats)
    print(f"  kernel      {kernel:6.3f}  ({loop / kernel:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
