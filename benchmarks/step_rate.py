"""Training rate of one model in one process on one core, against that core's GEMM rate.

The speed target for LSTM-64 is "at least 60 % of the sgemm rate measured on one core" for training in one worker.
`speed.py` derives a worker's rate from whole epochs of the workload (test evaluation included, two workers side by
side); this script measures the training step alone: rnnbench's JAX training path (fast layers unless
RNNBENCH_FAST_LAYERS=0) on the workload's data, batch 64, SGD, the process pinned to one core, time per batch over
chunks of 50 batches (median and best), FLOPs per batch from the cell formulas (forward and backward matrix
products), and NumPy's one-thread float32 GEMM rate measured on the same core in the same run: before the first chunk
and after every fifth, so that both rates see the machine in the same states (its speed drifts by 10-30 % over
minutes on a shared host). The fraction is the median step's rate over the median GEMM rate; the best chunk is
compared with the best GEMM rate.

    python benchmarks/step_rate.py                      # lstm, 1,000 batches
    python benchmarks/step_rate.py --model gru --batches 500
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from speed import FEATURES, GATES, STEPS, UNITS, gemm_rate, workload_data

BATCH = 64
CHUNK = 50
GEMM_EVERY = 5  # chunks between GEMM measurements


def flops_per_batch(model: str) -> float:
    """Forward 2(F + H)G and backward (2F + 4H)G per sample and step, G = gates x units (as in speed.py)."""
    width = GATES[model] * UNITS
    return (2 * (FEATURES + UNITS) + 2 * FEATURES + 4 * UNITS) * width * STEPS * BATCH


def step_seconds(model_name: str, data: Path, batches: int) -> tuple[list[float], list[float]]:
    """Seconds per batch of each chunk of CHUNK batches after one warm-up chunk, and the GEMM rates measured
    between chunks."""
    from rnnbench.backend import select_backend

    select_backend("jax")
    import keras

    from rnnbench.engine.compiled_epochs import CompiledEpochs
    from rnnbench.models.builder import build_model
    from rnnbench.spec import ModelSpec

    arrays = np.load(data)
    x = (arrays["x_train"] / 255.0).astype(np.float32)
    y = arrays["y_train"].astype(np.int64)
    model = build_model(ModelSpec(name=model_name), STEPS, FEATURES, 10)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss=loss)
    training = CompiledEpochs(model, x, y, BATCH)
    order = np.random.default_rng(0).permutation(len(x))
    chunks: list[float] = []
    gemm: list[float] = []
    for chunk in range(batches // CHUNK + 1):
        if chunk % GEMM_EVERY == 1 or chunk == batches // CHUNK:
            gemm.append(gemm_rate(1))
        start = (chunk * CHUNK * BATCH) % (len(x) - CHUNK * BATCH)
        began = time.perf_counter()
        training.train_epoch(order[start : start + CHUNK * BATCH], lambda done: None)
        if chunk:  # the first chunk compiles
            chunks.append((time.perf_counter() - began) / CHUNK)
    return chunks, gemm


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="lstm", choices=sorted(GATES))
    parser.add_argument("--batches", type=int, default=1000)
    parser.add_argument("--core", type=int, default=max(os.sched_getaffinity(0)), help="the CPU to pin to")
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.core})
    with tempfile.TemporaryDirectory() as directory:
        data, source = workload_data(Path(directory), 60000)
        chunks, gemm = step_seconds(args.model, data, args.batches)
    flops = flops_per_batch(args.model)
    print(f"{args.model}-{UNITS}, batch {BATCH}, data {source}, core {args.core}: "
          f"{len(chunks)} chunks of {CHUNK} batches; GEMM rate between chunks "
          f"{', '.join(f'{rate:.0f}' for rate in gemm)} GFLOP/s")  # fmt: skip
    for label, seconds, peak in (("median", statistics.median(chunks), statistics.median(gemm)),
                                 ("best", min(chunks), max(gemm))):  # fmt: skip
        rate = flops / seconds / 1e9
        print(f"  {label:6s} {seconds * 1e3:6.2f} ms a batch = {rate:5.1f} GFLOP/s = {rate / peak:.0%} of one core's "
              f"GEMM rate ({label} {peak:.0f} GFLOP/s)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
