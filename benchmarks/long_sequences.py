"""Every cell on long sequences: training speed and memory at 784 steps, against its own step-by-step loop and the
peers.

The workload: pixel by pixel (784 steps x 1 feature), 64 units, batch 64, plain SGD 0.01, one process pinned to one
core; random pixels, since speed does not depend on them. Each measurement runs in a process of its own, so that
its peak memory (the process's maximum resident set) is its own, and gives seconds per 1,000 training samples: the
median of ``--repeats`` passes over ``--samples`` samples, after one pass that compiles, in CPU time (the tables and
their ratios; on a shared machine it is what the wall clock would be on an idle core) and in wall-clock time (the
lines as they are measured, and ``--json``).

- ``rnnbench``: the registered model (recurrent layer, BatchNormalization, Dense logits) trained by the engine's
  compiled epochs, as a run of ``rnnbench compare`` trains it: each cell on its fast path where it has one;
- ``step by step``: the same model with its recurrent layer replaced by Keras' ``keras.layers.RNN`` over the same
  cell, one step after another: the reference form of every cell, and what each ran as before its fast path;
- peers: PyTorch's ``nn.LSTM`` and ``nn.GRU`` on one thread; Keras on JAX with its stock ``LSTM`` and ``GRU``
  layers and ``model.fit``; minGRU and minLSTM written by hand in JAX as ``lax.scan`` loops
  (benchmarks/linear_scan.py).

    python benchmarks/long_sequences.py                       # every registered cell and the peers, ~15 min
    python benchmarks/long_sequences.py --cells lstm,mingru --no-peers --json speed.json

The accuracy half of the long-sequence figures is a comparison run by the CLI itself (its command is in
benchmarks/README.md); ``--accuracy SUMMARY.json`` prints the table of its summary (``rnnbench compare --json``) with
the published figures of a protocol beside it, in a column of their own:

    python benchmarks/long_sequences.py --accuracy psfmnist.json --published psmnist
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from timing import wall_and_cpu_per_thousand  # benchmarks/timing.py

STEPS, FEATURES, UNITS, BATCH, CLASSES = 784, 1, 64, 64, 10
PEERS = ("torch-lstm", "torch-gru", "keras-jax-lstm", "keras-jax-gru", "jax-scan-mingru", "jax-scan-minlstm")
HERE = Path(__file__).resolve().parent


def workload(samples: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.random((samples, STEPS, FEATURES), dtype=np.float32)
    return x, (np.arange(samples) % CLASSES).astype(np.int32)


def step_by_step(model: Any) -> Any:
    """``model`` with its recurrent layer replaced by ``keras.layers.RNN`` over a fresh copy of the same cell."""
    import keras

    layers = [keras.Input((STEPS, FEATURES))]
    for layer in model.layers:
        if layer.name == "recurrent":
            cell = type(layer.cell).from_config(layer.cell.get_config())
            layer = keras.layers.RNN(cell, name="recurrent")
        else:
            layer = type(layer).from_config(layer.get_config())
        layers.append(layer)
    return keras.Sequential(layers)


def rnnbench_pass(cell: str, path: str, x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    """One epoch of the engine's compiled training over (x, y), the model on ``path`` (rnnbench or step-by-step)."""
    import keras

    from rnnbench.backend import seed_everything
    from rnnbench.engine.compiled_epochs import CompiledEpochs
    from rnnbench.models.builder import build_model
    from rnnbench.spec import ModelSpec

    seed_everything(0)  # as a run seeds: Keras' own seeding imports an installed TensorFlow, memory and all
    model = build_model(ModelSpec(cell, UNITS), STEPS, FEATURES, CLASSES)
    if path == "step":
        model = step_by_step(model)
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss=keras.losses.SparseCategoricalCrossentropy(True))
    training = CompiledEpochs(model, x, y, BATCH)
    order = np.arange(len(x))

    def train_pass() -> None:
        training.train_epoch(order, lambda done: None)

    return train_pass


def keras_stock_pass(cell: str, x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    """Keras on JAX as its users write it: the stock layer, BatchNormalization, Dense, ``model.fit``."""
    import keras

    stock = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[cell]
    from rnnbench.backend import seed_everything

    seed_everything(0)  # as a run seeds: Keras' own seeding imports an installed TensorFlow, memory and all
    model = keras.Sequential(
        [keras.Input((STEPS, FEATURES)), stock(UNITS), keras.layers.BatchNormalization(), keras.layers.Dense(CLASSES)]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss=keras.losses.SparseCategoricalCrossentropy(True))

    def train_pass() -> None:
        model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)

    return train_pass


def torch_pass(cell: str, x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    """PyTorch eager on one thread: ``nn.LSTM``/``nn.GRU``, BatchNorm1d, Linear, SGD."""
    import torch
    from torch import nn

    torch.set_num_threads(1)
    torch.manual_seed(0)
    recurrent = {"lstm": nn.LSTM, "gru": nn.GRU}[cell](FEATURES, UNITS, batch_first=True)
    norm, head = nn.BatchNorm1d(UNITS), nn.Linear(UNITS, CLASSES)
    parameters = [*recurrent.parameters(), *norm.parameters(), *head.parameters()]
    optimizer = torch.optim.SGD(parameters, lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    batches = [(torch.from_numpy(x[i : i + BATCH]), torch.from_numpy(y[i : i + BATCH]).long())
               for i in range(0, len(x), BATCH)]  # fmt: skip

    def train_pass() -> None:
        for xb, yb in batches:
            optimizer.zero_grad()
            outputs, _ = recurrent(xb)
            loss_fn(head(norm(outputs[:, -1])), yb).backward()
            optimizer.step()

    return train_pass


def measure_here(kind: str, name: str, samples: int, repeats: int) -> dict[str, Any]:
    """One measurement in this process (pinned to one core already): seconds per 1,000 samples and peak memory."""
    x, y = workload(samples)
    if kind == "peer" and name.startswith("torch-"):
        train_pass = torch_pass(name.removeprefix("torch-"), x, y)
    else:
        from rnnbench.backend import select_backend

        select_backend("jax")
        if kind == "peer" and name.startswith("keras-jax-"):
            train_pass = keras_stock_pass(name.removeprefix("keras-jax-"), x, y)
        elif kind == "peer":
            sys.path.insert(0, str(HERE))
            import linear_scan

            train_pass = linear_scan.hand_written_pass(name.removeprefix("jax-scan-"), x, y)
        else:
            train_pass = rnnbench_pass(name, kind, x, y)
    wall, cpu = wall_and_cpu_per_thousand(train_pass, samples, repeats)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    return {"kind": kind, "name": name, "seconds_per_1000": cpu, "wall_seconds_per_1000": wall, "peak_mib": peak_mib}


def measure(kind: str, name: str, args: argparse.Namespace) -> dict[str, Any]:
    """One measurement in a fresh process, so that its peak memory and its compiled programs are its own."""
    command = [sys.executable, __file__, "--one", kind, name, "--samples", str(args.samples),
               "--repeats", str(args.repeats), "--core", str(args.core)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["exit status " + str(done.returncode)])[-1]
        return {"kind": kind, "name": name, "error": reason[:300]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def print_cells(results: dict[tuple[str, str], dict[str, Any]], cells: list[str]) -> None:
    lstm = results.get(("rnnbench", "lstm"), {}).get("seconds_per_1000")
    print(
        f"\n| cell | rnnbench s/1000 | step by step s/1000 | speed-up | x LSTM's time | peak MiB (rnnbench, step by "
        f"step) |\n|{'---|' * 6}"
    )
    for cell in cells:
        fast, step = results[("rnnbench", cell)], results.get(("step", cell), {})
        if "error" in fast:
            print(f"| {cell} | failed: {fast['error']} | | | | |")
            continue
        seconds, before = fast["seconds_per_1000"], step.get("seconds_per_1000")
        speedup = f"{before / seconds:.1f}x" if before else step.get("error", "")
        versus_lstm = f"{seconds / lstm:.2f}x" if lstm else ""
        peaks = f"{fast['peak_mib']:,.0f}, {step['peak_mib']:,.0f}" if before else f"{fast['peak_mib']:,.0f}"
        print(f"| {cell} | {seconds:.3f} | {before or float('nan'):.3f} | {speedup} | {versus_lstm} | {peaks} |")


def print_peers(results: dict[tuple[str, str], dict[str, Any]]) -> None:
    print(f"\n| peer | s/1000 | peak MiB | rnnbench's same cell faster by |\n|{'---|' * 4}")
    for peer in PEERS:
        result = results.get(("peer", peer))
        if result is None:
            continue
        if "error" in result:
            print(f"| {peer} | failed: {result['error']} | | |")
            continue
        ours = results.get(("rnnbench", peer.rsplit("-", 1)[-1]), {}).get("seconds_per_1000")
        ratio = f"{result['seconds_per_1000'] / ours:.2f}x" if ours else ""
        print(f"| {peer} | {result['seconds_per_1000']:.3f} | {result['peak_mib']:,.0f} | {ratio} |")


def print_accuracy(summary: Path, protocol: str) -> None:
    """The table of a comparison's summary JSON, with ``protocol``'s published figures in a column of their own."""
    from rnnbench.spec.protocols import get_protocol

    chosen = get_protocol(protocol)
    # No time per epoch: a store may hold runs trained before a cell had its fast path; the speed table measures it.
    print(f"| cell | params | test acc % (mean +- 95 % CI) | seeds | published on {protocol} % (variant) |")
    print(f"|{'---|' * 5}")
    for row in json.loads(summary.read_text())["summary"]:
        mean, (low, high) = row["test_accuracy_mean"], row["ci95"]
        figure = chosen.figure_for(row["model"])
        published = f"{figure.test_accuracy:g} ({figure.variant})" if figure else ""
        print(f"| {row['model']} | {row['params']:,} | {100 * mean:.2f} +- {100 * (high - low) / 2:.2f} | {row['n']} | "
              f"{published} |")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", default="", help="comma-separated registered cells (default: every one)")
    parser.add_argument("--samples", type=int, default=256, help="samples a pass (whole batches of 64)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--core", type=int, default=min(os.sched_getaffinity(0)), help="the CPU to pin to")
    parser.add_argument("--no-peers", action="store_true", help="leave out PyTorch, stock Keras and JAX by hand")
    parser.add_argument("--json", type=Path, help="also write every measurement to this file")
    parser.add_argument("--accuracy", type=Path, help="print the table of this comparison summary JSON and stop")
    parser.add_argument("--published", default="psmnist", help="the protocol whose published figures --accuracy shows")
    parser.add_argument("--one", nargs=2, metavar=("KIND", "NAME"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.accuracy:
        print_accuracy(args.accuracy, args.published)
        return 0
    args.samples = max(BATCH, args.samples // BATCH * BATCH)
    os.sched_setaffinity(0, {args.core})
    if args.one:
        print(json.dumps(measure_here(*args.one, args.samples, args.repeats)))
        return 0
    from rnnbench.models import list_models

    cells = args.cells.split(",") if args.cells else [info.name for info in list_models()]
    print(f"{STEPS} steps x {FEATURES} feature, {UNITS} units, batch {BATCH}, {args.samples} samples a pass, median "
          f"of {args.repeats}, core {args.core}: seconds per 1,000 training samples", flush=True)  # fmt: skip
    jobs = [(kind, cell) for cell in cells for kind in ("rnnbench", "step")]
    jobs += [] if args.no_peers else [("peer", peer) for peer in PEERS]
    results = {}
    for kind, name in jobs:
        results[(kind, name)] = result = measure(kind, name, args)
        shown = result.get("error") or (
            f"{result['seconds_per_1000']:.3f} s CPU, "
            f"{result['wall_seconds_per_1000']:.3f} s wall, {result['peak_mib']:,.0f} MiB"
        )
        print(f"  {kind:8s} {name:16s} {shown}", flush=True)
    print_cells(results, cells)
    if not args.no_peers:
        print_peers(results)
    if args.json:
        args.json.write_text(json.dumps(list(results.values()), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
