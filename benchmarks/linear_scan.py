"""Training speed of minGRU and minLSTM on long sequences: rnnbench's layers against a hand-written ``lax.scan`` loop.

The workload of DESIGN.md's long-sequence figures: 784 steps x 1 feature (pixel by pixel), 64 units, batch 64, plain
SGD, one process pinned to one core; random pixels, since speed does not depend on them. Each line is seconds per
1,000 training samples, the median of ``--repeats`` passes over ``--samples`` samples after one pass that compiles.

- ``rnnbench (<route>)``: the registered model (recurrent layer, BatchNormalization, Dense logits) trained by the
  engine's compiled epochs, its scan forced onto each route of :mod:`rnnbench.models.linear_scan`: ``kernel`` (the
  default with JAX on the CPU), ``loop`` (``lax.scan``, the fallback without a compiler) and ``parallel`` (the
  associative scan in log space, the paper's training form);
- ``lax.scan by hand``: the same recurrence written directly in JAX (input projection for all steps at once, the
  gates and the update one step at a time in ``lax.scan``), a Dense head, SGD.

    python benchmarks/linear_scan.py                     # both cells, 256 samples, 5 repeats
    python benchmarks/linear_scan.py --cells mingru --samples 640
    python benchmarks/linear_scan.py --clock cpu        # the process's CPU time, on a machine shared with others

Latest figures (2026-12-06, 2-core AMD EPYC shared with other work, Keras 3.15.1, JAX 0.10.2 on the CPU,
``--clock cpu``; seconds per 1,000 samples, and how many times faster than the loop by hand):

| cell | lax.scan by hand | kernel | loop | parallel (log space) |
|---|---|---|---|---|
| mingru | 1.404 | 0.070 (20.2x) | 0.620 (2.3x) | 10.74 (0.13x) |
| minlstm | 2.074 | 0.106 (19.6x) | 0.888 (2.3x) | 13.19 (0.16x) |

The kernel's forward and backward calls compute the input projection, its gradient and the gates themselves, in
512-bit vectors where the processor has them (benchmarks/README.md says how the figures came down from 0.39 s).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
from timing import CLOCKS, per_thousand  # benchmarks/timing.py

STEPS, FEATURES, UNITS, BATCH, CLASSES = 784, 1, 64, 64, 10
GATES = {"mingru": 2, "minlstm": 3}


def rnnbench_pass(cell: str, route: str, x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    """One epoch of the engine's compiled training over (x, y), the cell's scan taking ``route``."""
    import keras

    from rnnbench.engine.compiled_epochs import CompiledEpochs
    from rnnbench.models import linear_scan
    from rnnbench.models.builder import build_model
    from rnnbench.spec import ModelSpec

    linear_scan.scan_route = lambda dtype="float32": route  # read when the programs are traced, below
    from rnnbench.backend import seed_everything

    seed_everything(0)  # as a run seeds: Keras' own seeding imports an installed TensorFlow, memory and all
    model = build_model(ModelSpec(cell, UNITS), STEPS, FEATURES, CLASSES)
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss=keras.losses.SparseCategoricalCrossentropy(True))
    training = CompiledEpochs(model, x, y, BATCH)
    order = np.arange(len(x))
    return lambda: training.train_epoch(order, lambda done: None)


def hand_written_step(cell: str) -> Callable[..., Any]:
    """A jitted SGD step of the cell written directly in JAX, the recurrence a ``lax.scan`` over the steps."""
    import jax
    import jax.numpy as jnp

    def g(v: Any) -> Any:
        return jnp.where(v >= 0, v + 0.5, jax.nn.sigmoid(v))

    def update(h: Any, pre: Any) -> tuple[Any, None]:
        if cell == "mingru":
            k, candidate = jnp.split(pre, 2, axis=-1)
            z = jax.nn.sigmoid(k)
            return (1 - z) * h + z * g(candidate), None
        k_f, k_i, candidate = jnp.split(pre, 3, axis=-1)
        f, i = jax.nn.sigmoid(k_f), jax.nn.sigmoid(k_i)
        return (f * h + i * g(candidate)) / (f + i), None

    def loss(params: dict[str, Any], x: Any, y: Any) -> Any:
        pre = jnp.einsum("btf,fg->tbg", x, params["w"]) + params["b"]  # time-major for lax.scan
        h, _ = jax.lax.scan(update, jnp.zeros((x.shape[0], UNITS)), pre)
        logits = h @ params["dense"] + params["dense_bias"]
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1))

    @jax.jit
    def step(params: dict[str, Any], x: Any, y: Any) -> dict[str, Any]:
        grads = jax.grad(loss)(params, x, y)
        return jax.tree.map(lambda p, d: p - 0.01 * d, params, grads)

    return step


def hand_written_pass(cell: str, x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(0)
    width = GATES[cell] * UNITS
    params = {
        "w": jnp.asarray(rng.uniform(-1, 1, (FEATURES, width)), jnp.float32),
        "b": jnp.asarray(rng.uniform(-1, 1, width), jnp.float32),
        "dense": jnp.asarray(rng.normal(0, UNITS**-0.5, (UNITS, CLASSES)), jnp.float32),
        "dense_bias": jnp.zeros(CLASSES, jnp.float32),
    }
    step = hand_written_step(cell)
    batches = [(jnp.asarray(x[i : i + BATCH]), jnp.asarray(y[i : i + BATCH])) for i in range(0, len(x), BATCH)]

    def train_pass() -> None:
        nonlocal params
        for xb, yb in batches:
            params = step(params, xb, yb)
        jax.block_until_ready(params)

    return train_pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", default="mingru,minlstm", help="comma-separated: mingru, minlstm")
    parser.add_argument("--samples", type=int, default=256, help="samples a pass (whole batches of 64)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--routes", default="kernel,loop,parallel", help="rnnbench's scan routes to time")
    parser.add_argument("--core", type=int, default=max(os.sched_getaffinity(0)), help="the CPU to pin to")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="wall time, or the process's CPU time (on a machine shared with other work)")  # fmt: skip
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.core})
    from rnnbench.backend import select_backend

    select_backend("jax")
    samples = args.samples // BATCH * BATCH
    rng = np.random.default_rng(0)
    x = rng.random((samples, STEPS, FEATURES), dtype=np.float32)
    y = (np.arange(samples) % CLASSES).astype(np.int32)
    print(f"{STEPS} steps x {FEATURES} feature, {UNITS} units, batch {BATCH}, {samples} samples a pass, median of "
          f"{args.repeats}, core {args.core}: {args.clock} seconds per 1,000 training samples")  # fmt: skip
    for cell in args.cells.split(","):
        baseline = per_thousand(hand_written_pass(cell, x, y), samples, args.repeats, args.clock)
        print(f"  {cell:8s} lax.scan by hand      {baseline:6.3f}")
        for route in args.routes.split(","):
            seconds = per_thousand(rnnbench_pass(cell, route, x, y), samples, args.repeats, args.clock)
            print(f"  {cell:8s} rnnbench ({route:8s})  {seconds:6.3f}  ({baseline / seconds:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
