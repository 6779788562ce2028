"""Speed of the workload: rnnbench against the peer stacks, in one run on one machine.

The workload is the reference comparison: SimpleRNN, LSTM and GRU with 64 units, seed head, SGD 0.01, batch 64,
60,000 MNIST-shaped training samples (no validation split), test accuracy after every epoch, E epochs. Data: MNIST if
cached, else Fashion-MNIST (Debian's copy or a cached download), else synthetic. Every stack runs as its own process,
start-up included: rnnbench (`rnnbench compare --jobs auto --no-report`, fast layers, an empty compilation cache;
the peers write no report and compile everything in each process too), rnnbench with Keras' stock layers
(RNNBENCH_FAST_LAYERS=0), Keras 3 + TensorFlow, Keras 3 + JAX (stock layers), PyTorch eager. Peers that are not
installed are reported as skipped.

    python benchmarks/speed.py                       # 10 epochs, all stacks (about 20 minutes on 2 cores)
    python benchmarks/speed.py --epochs 2 --stacks rnnbench,keras-jax
    python benchmarks/speed.py --peer-python /path/to/venv/bin/python   # peers from another environment

Prints seconds per epoch per model (median of epochs 2..E), wall time, each stack's ratio to rnnbench, the largest
process's peak resident memory, and rnnbench's fraction of the arithmetic floor: FLOPs of the workload's matrix
products (from the cell formulas) divided by the single-precision GEMM rate measured in this run, on all cores.
Writes everything to benchmarks/results/speed-DATE.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
MODELS = ("simplernn", "lstm", "gru")
GATES = {"simplernn": 1, "lstm": 4, "gru": 3}
PEERS = ("keras-tensorflow", "keras-jax", "torch")
STACKS = ("rnnbench", "rnnbench-stock", *PEERS)
STEPS = FEATURES = 28
UNITS = 64


def workload_data(directory: Path, samples: int) -> tuple[Path, str]:
    """The workload's data as an npz (uint8 images), and where it came from."""
    from rnnbench.data.registry import dataset_info, load_dataset
    from rnnbench.data.source import DataSource

    data_source = DataSource.from_settings(offline=True)
    source = "synthetic"
    dataset = None
    for name in ("mnist", "fashion_mnist"):
        if dataset_info(name).cache_status(data_source) in {"cached", "system copy"}:
            dataset, source = load_dataset(name, source=data_source), name
            break
    path = directory / "workload.npz"
    if dataset is not None:
        # rnnbench holds images as float32 in [0, 1]; the workload file holds the original bytes.
        x_train = np.rint(dataset.x_train * 255).reshape(-1, STEPS, FEATURES)
        x_test = np.rint(dataset.x_test * 255).reshape(-1, STEPS, FEATURES)
        y_train, y_test = dataset.y_train, dataset.y_test
    else:
        rng = np.random.default_rng(0)
        y_train, y_test = rng.integers(0, 10, 60000), rng.integers(0, 10, 10000)
        x_train = rng.integers(0, 256, (60000, STEPS, FEATURES))
        x_test = rng.integers(0, 256, (10000, STEPS, FEATURES))
    np.savez(path, x_train=np.asarray(x_train[:samples], np.uint8), y_train=np.asarray(y_train[:samples], np.uint8),
             x_test=np.asarray(x_test, np.uint8), y_test=np.asarray(y_test, np.uint8))  # fmt: skip
    return path, source


def gemm_rate(threads: int) -> float:
    """GFLOP/s of a float32 2048x2048 matrix product in NumPy's BLAS with ``threads`` threads (best of 5)."""
    code = (
        "import numpy as np, time\n"
        "a = np.random.default_rng(0).random((2048, 2048), dtype=np.float32); b = a.T.copy(); a @ b\n"
        "best = min((lambda t: (a @ b, time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(5))\n"
        "print(2 * 2048 ** 3 / best / 1e9)\n"
    )
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    # This machine's settings of OPENBLAS_CORETYPE/L2_SIZE serve old builds and slow a current one: measure without.
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return float(result.stdout)


def workload_flops(model: str, train_samples: int, test_samples: int) -> float:
    """Matrix-product FLOPs of one epoch: training (forward and backward) plus the test set's forward pass.

    Per sample and step, with G = gates x units: forward 2(F + H)G; backward 2FG for the input kernel, 2HG for the
    recurrent kernel and 2HG for the gradient of the previous state."""
    width = GATES[model] * UNITS
    forward = 2 * (FEATURES + UNITS) * width * STEPS
    backward = (2 * FEATURES + 4 * UNITS) * width * STEPS
    return (forward + backward) * train_samples + forward * test_samples


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[int, float, float, str]:
    """(exit status, wall seconds, peak resident MiB of the largest process in its tree, stderr's tail)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stderr = process.stderr.read() if process.stderr else ""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    # Linux reports the largest resident set among the process and its waited-for descendants, in KiB.
    return process.returncode, time.perf_counter() - started, usage.ru_maxrss / 1024, stderr[-2000:]


def run_rnnbench(data: Path, epochs: int, directory: Path, fast: bool) -> dict[str, Any]:
    store = directory / ("fast.db" if fast else "stock.db")
    # An empty compilation cache: rnnbench compiles everything, as the peers do in each of their processes (its cache
    # spares a user's later comparisons that work).
    cache = directory / ("jax-cache-fast" if fast else "jax-cache-stock")
    env = dict(os.environ, RNNBENCH_FAST_LAYERS="1" if fast else "0", RNNBENCH_JAX_CACHE=str(cache))
    command = [sys.executable, "-m", "rnnbench", "compare", "--dataset", str(data), "--epochs", str(epochs),
               "--val-fraction", "0", "--test-each-epoch", "--seeds", "1", "--jobs", "auto", "--store", str(store),
               "--quiet", "--no-report"]  # fmt: skip
    status, wall, rss, stderr = timed(command, env)
    if status:
        return {"status": f"failed ({status}): {stderr.strip().splitlines()[-1] if stderr.strip() else ''}"}
    with sqlite3.connect(store) as connection:
        rows = connection.execute(
            "SELECT runs.spec, epochs.seconds, results.test_accuracy, results.params FROM runs "
            "JOIN epochs USING (run_key) JOIN results USING (run_key) ORDER BY epochs.epoch"
        ).fetchall()
    models: dict[str, dict[str, Any]] = {}
    for spec, seconds, accuracy, params in rows:
        name = json.loads(spec)["model"]["name"]
        entry = models.setdefault(name, {"epoch_seconds": [], "test_accuracy": accuracy, "params": params})
        entry["epoch_seconds"].append(seconds)
    return {"status": "ok", "wall": wall, "peak_rss_mib": rss, "models": models}


def run_peer(stack: str, data: Path, epochs: int, directory: Path, python: str) -> dict[str, Any]:
    out = directory / f"{stack}.json"
    command = [python, str(HERE / "peers.py"), "--stack", stack, "--data", str(data), "--epochs", str(epochs),
               "--json", str(out)]  # fmt: skip
    status, wall, rss, stderr = timed(command)
    if status == 3:
        return {"status": "skipped: " + stderr.strip().splitlines()[-1]}
    if status:
        return {"status": f"failed ({status}): {stderr.strip().splitlines()[-1] if stderr.strip() else ''}"}
    models = {entry.pop("model"): entry for entry in json.loads(out.read_text())}
    return {"status": "ok", "wall": wall, "peak_rss_mib": rss, "models": models}


def per_epoch(seconds: list[float]) -> float:
    """Median seconds of the epochs after the first (which compiles)."""
    return statistics.median(seconds[1:] if len(seconds) > 1 else seconds)


def report(results: dict[str, Any], flops: dict[str, float], rates: dict[str, float], epochs: int) -> list[str]:
    lines = [f"{'stack':18s}" + "".join(f"{m + ' s/ep':>15s}" for m in MODELS)
             + f"{'wall s':>9s}{'x rnnbench':>11s}{'peak MiB':>10s}   test accuracy (last epoch)"]  # fmt: skip
    base = results.get("rnnbench", {}).get("wall")
    for stack, result in results.items():
        if result["status"] != "ok":
            lines.append(f"{stack:18s} {result['status']}")
            continue
        models = result["models"]
        times = "".join(f"{per_epoch(models[m]['epoch_seconds']):15.2f}" if m in models else f"{'-':>15s}"
                        for m in MODELS)  # fmt: skip
        ratio = f"{result['wall'] / base:11.2f}" if base else f"{'-':>11s}"
        accuracy = " ".join(f"{m} {models[m]['test_accuracy']:.4f}" for m in MODELS if m in models)
        lines.append(f"{stack:18s}{times}{result['wall']:9.1f}{ratio}{result['peak_rss_mib']:10.0f}   {accuracy}")
    cores = os.cpu_count() or 1
    floor = sum(flops.values()) * epochs / (rates["all_cores"] * 1e9)
    lines.append(
        f"arithmetic floor: {sum(flops.values()) * epochs / 1e9:.0f} GFLOP of matrix products, {floor:.1f} s at "
        f"{rates['all_cores']:.0f} GFLOP/s ({cores} cores; one core: {rates['one_core']:.0f} GFLOP/s)"
    )
    fast = results.get("rnnbench", {})
    if fast.get("status") == "ok":
        lines.append(f"rnnbench: {floor / fast['wall']:.0%} of the floor for the whole workload (wall time)")
        for model in MODELS:
            if model in fast["models"]:
                seconds = per_epoch(fast["models"][model]["epoch_seconds"])
                rate = flops[model] / seconds / 1e9
                lines.append(f"  {model:10s} one worker: {rate:5.1f} GFLOP/s = {rate / rates['one_core']:.0%} "
                             f"of one core's GEMM rate")  # fmt: skip
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--samples", type=int, default=60000, help="training samples (default: all 60,000)")
    parser.add_argument("--stacks", default=",".join(STACKS), help=f"comma-separated, from {', '.join(STACKS)}")
    parser.add_argument("--peer-python", default=sys.executable, help="interpreter for the peer stacks")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--write-data", type=Path, metavar="NPZ", help="only write the workload's data there and exit")
    args = parser.parse_args()
    if args.write_data:
        args.write_data.parent.mkdir(parents=True, exist_ok=True)
        path, source = workload_data(args.write_data.parent, args.samples)
        path.replace(args.write_data)
        print(f"{args.write_data}: {source}")
        return 0
    stacks = [s.strip() for s in args.stacks.split(",") if s.strip()]
    unknown = sorted(set(stacks) - set(STACKS))
    if unknown:
        parser.error(f"unknown stacks {', '.join(unknown)}; known: {', '.join(STACKS)}")

    with tempfile.TemporaryDirectory(prefix="rnnbench-speed-") as scratch:
        directory = Path(scratch)
        data, source = workload_data(directory, args.samples)
        with np.load(data) as archive:
            train_samples, test_samples = len(archive["y_train"]), len(archive["y_test"])
        print(f"workload: {source}, {train_samples} training / {test_samples} test samples, {args.epochs} epochs",
              flush=True)  # fmt: skip
        rates = {"one_core": gemm_rate(1), "all_cores": gemm_rate(os.cpu_count() or 1)}
        flops = {model: workload_flops(model, train_samples, test_samples) for model in MODELS}
        results: dict[str, Any] = {}
        for stack in stacks:
            print(f"running {stack} ...", flush=True)
            if stack in ("rnnbench", "rnnbench-stock"):
                results[stack] = run_rnnbench(data, args.epochs, directory, fast=stack == "rnnbench")
            else:
                results[stack] = run_peer(stack, data, args.epochs, directory, args.peer_python)
            print(f"  {results[stack]['status']}" + (f", {results[stack]['wall']:.1f} s" if "wall" in results[stack]
                                                     else ""), flush=True)  # fmt: skip

    lines = report(results, flops, rates, args.epochs)
    processor = platform.processor() or platform.machine()
    machine = f"{processor}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"\n{datetime.date.today()}, {machine}, data {source}")
    print("\n".join(lines))
    args.out.mkdir(parents=True, exist_ok=True)
    record = {"date": str(datetime.date.today()), "machine": machine, "data": source, "epochs": args.epochs,
              "gemm_gflops": rates, "flops_per_epoch": flops, "results": results, "report": lines}  # fmt: skip
    path = args.out / f"speed-{datetime.date.today()}.json"
    path.write_text(json.dumps(record, indent=1))
    print(f"\nwritten: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
