"""Training speed and memory of Mamba on long sequences, by each route of its selective scan, against the LSTM.

The workload of DESIGN.md's long-sequence figures: 784 steps x 1 feature (pixel by pixel), 64 units, batch 64, plain
SGD, the registered models (recurrent layer, BatchNormalization, Dense logits) trained by the engine's compiled
epochs, one process per line pinned to one core; random pixels, since speed does not depend on them. Each line is
seconds per 1,000 training samples, the median of ``--repeats`` passes over ``--samples`` samples after one pass that
compiles, and the peak resident memory of its process.

- ``lstm``: the registered LSTM, on JAX on the CPU the compiled FastLSTM;
- ``mamba (<route>)``: Mamba at its defaults (state size 16, expansion 2, convolution width 4), its selective scan
  forced onto each route of :mod:`rnnbench.models.linear_scan`: ``kernel`` (the default with JAX on the CPU),
  ``loop`` (``lax.scan``, the fallback without a compiler) and ``parallel`` (the associative scan, the form for
  TensorFlow, torch and accelerators, which holds several (batch, steps, 2 units, 16) arrays: gigabytes here).

    python benchmarks/mamba_scan.py                       # lstm and mamba by kernel and loop, 256 samples
    python benchmarks/mamba_scan.py --routes kernel,loop,parallel --samples 128
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable

import numpy as np
from timing import per_thousand  # benchmarks/timing.py

STEPS, FEATURES, UNITS, BATCH, CLASSES = 784, 1, 64, 64, 10


def training_pass(model_name: str, route: str | None, samples: int) -> Callable[[], None]:
    """One epoch of the engine's compiled training of ``model_name`` over random pixels, Mamba's scan taking
    ``route`` (None: the model's own)."""
    import keras

    from rnnbench.engine.compiled_epochs import CompiledEpochs
    from rnnbench.models import linear_scan
    from rnnbench.models.builder import build_model
    from rnnbench.spec import ModelSpec

    if route is not None:
        linear_scan.scan_route = lambda dtype="float32": route  # read when the programs are traced, below
    rng = np.random.default_rng(0)
    x = rng.random((samples, STEPS, FEATURES), dtype=np.float32)
    y = (np.arange(samples) % CLASSES).astype(np.int32)
    from rnnbench.backend import seed_everything

    seed_everything(0)  # as a run seeds: Keras' own seeding imports an installed TensorFlow, memory and all
    model = build_model(ModelSpec(model_name, UNITS), STEPS, FEATURES, CLASSES)
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss=keras.losses.SparseCategoricalCrossentropy(True))
    training = CompiledEpochs(model, x, y, BATCH)
    order = np.arange(samples)
    return lambda: training.train_epoch(order, lambda done: None)


def measure_one(line: str, samples: int, repeats: int) -> dict[str, float]:
    """Seconds per 1,000 samples and peak RSS (MiB) of one line, ``lstm`` or ``mamba:<route>``, in this process."""
    from rnnbench.backend import select_backend

    select_backend("jax")
    model_name, _, route = line.partition(":")
    seconds = per_thousand(training_pass(model_name, route or None, samples), samples, repeats)
    return {"seconds": seconds, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def measure_apart(line: str, args: argparse.Namespace) -> dict[str, float] | str:
    """:func:`measure_one` in a process of its own, pinned to ``args.core``, so that each peak RSS is its line's; the
    last lines of its error output where it fails."""
    command = [sys.executable, __file__, "--one", line, "--samples", str(args.samples), "--repeats",
               str(args.repeats), "--core", str(args.core)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return "failed: " + " | ".join(done.stderr.strip().splitlines()[-3:])
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=256, help="samples a pass (whole batches of 64)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--routes", default="kernel,loop", help="Mamba's scan routes to time: kernel, loop, parallel")
    parser.add_argument("--core", type=int, default=max(os.sched_getaffinity(0)), help="the CPU to pin to")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a child process's line
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.core})
    args.samples = args.samples // BATCH * BATCH
    if args.one:
        print(json.dumps(measure_one(args.one, args.samples, args.repeats)))
        return 0
    print(f"{STEPS} steps x {FEATURES} feature, {UNITS} units, batch {BATCH}, {args.samples} samples a pass, median "
          f"of {args.repeats}, core {args.core}: seconds per 1,000 training samples, peak RSS")  # fmt: skip
    lines = ["lstm"] + [f"mamba:{route}" for route in args.routes.split(",")]
    baseline = None
    for line in lines:
        result = measure_apart(line, args)
        label = line if line == "lstm" else f"mamba ({line.partition(':')[2]})"
        if isinstance(result, str):
            print(f"  {label:18s} {result}")
            continue
        baseline = baseline or result["seconds"]
        ratio = baseline / result["seconds"]
        print(f"  {label:18s} {result['seconds']:7.3f} s  ({ratio:.2f}x lstm)  {result['peak_rss_mib']:7.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
