"""Training speed of coRNN and LEM on long sequences: their compiled kernels against Keras' own loop over their
cells, and the LSTM kernel for scale, in one run.

The workload of DESIGN.md's long-sequence figures: 784 steps x 1 feature (pixel by pixel), 64 units, batch 64, plain
SGD, one process pinned to one core; random pixels, since speed does not depend on them. Each line is seconds per
1,000 training samples, wall-clock and CPU time, of the registered model (recurrent layer, BatchNormalization, Dense
logits) trained by the engine's compiled epochs, the median of ``--repeats`` passes over ``--samples`` samples after
one pass that compiles:

- ``kernel``: the default with JAX on the CPU, the recurrence one compiled call (:mod:`rnnbench.kernels`);
- ``keras loop``: Keras' own loop over the cell, as inside :func:`rnnbench.models.fast.stock_recurrence` or under
  ``RNNBENCH_FAST_LAYERS=0`` (the route without a compiler, and the reference);
- ``lstm kernel``: rnnbench's LSTM (FastLSTM) on its compiled kernel, the yardstick of the ratios ("x lstm").

    taskset -c 0 python benchmarks/oscillator_kernels.py          # 256 samples, 5 repeats
    taskset -c 0 python benchmarks/oscillator_kernels.py --samples 640 --cells lem

Figures: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable

import numpy as np
from timing import wall_and_cpu_per_thousand as per_thousand  # benchmarks/timing.py

STEPS, FEATURES, UNITS, BATCH, CLASSES = 784, 1, 64, 64, 10
CELLS = ("cornn", "lem")


def report(label: str, seconds: tuple[float, float], lstm: tuple[float, float], note: str = "") -> None:
    """One line: wall-clock and CPU seconds per 1,000 samples, each with its ratio to the LSTM kernel's."""
    wall, cpu = seconds
    print(
        f"  {label:18} wall {wall:6.3f} ({wall / lstm[0]:.2f}x lstm)  cpu {cpu:6.3f} ({cpu / lstm[1]:.2f}x lstm){note}"
    )


def rnnbench_pass(model_name: str, stock: bool, x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    """One epoch of the engine's compiled training of ``model_name`` over (x, y); with ``stock``, traced in Keras' own
    loop."""
    import keras

    from rnnbench.backend import seed_everything
    from rnnbench.engine.compiled_epochs import CompiledEpochs
    from rnnbench.models import fast
    from rnnbench.models.builder import build_model
    from rnnbench.spec import ModelSpec

    seed_everything(0)  # as a run seeds: Keras' own seeding imports an installed TensorFlow, memory and all
    model = build_model(ModelSpec(model_name, UNITS), STEPS, FEATURES, CLASSES)
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss=keras.losses.SparseCategoricalCrossentropy(True))
    training = CompiledEpochs(model, x, y, BATCH)
    order = np.arange(len(x))

    def train_pass() -> None:
        # The route is chosen when the programs are traced, in the first pass.
        with fast.stock_recurrence() if stock else contextlib.nullcontext():
            training.train_epoch(order, lambda done: None)

    return train_pass


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=256, help="samples a pass (whole batches of 64)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cells", default=",".join(CELLS), help="comma-separated, of " + ", ".join(CELLS))
    parser.add_argument("--no-loop", action="store_true", help="skip Keras' loop (minutes a cell)")
    parser.add_argument("--core", type=int, default=min(os.sched_getaffinity(0)), help="the CPU to pin to")
    return parser.parse_args()


def main() -> int:
    args = parse_arguments()
    cells = [cell for cell in args.cells.split(",") if cell]
    if not set(cells) <= set(CELLS):
        print(f"--cells: choose among {', '.join(CELLS)}")
        return 2
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
    lstm = per_thousand(rnnbench_pass("lstm", False, x, y), samples, args.repeats)
    report("lstm kernel", lstm, lstm)
    for cell in cells:
        kernel = per_thousand(rnnbench_pass(cell, False, x, y), samples, args.repeats)
        report(f"{cell} kernel", kernel, lstm)
        if not args.no_loop:
            loop = per_thousand(rnnbench_pass(cell, True, x, y), samples, args.repeats)
            report(f"{cell} keras loop", loop, lstm, f"; the kernel {loop[1] / kernel[1]:.1f}x faster (cpu)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
