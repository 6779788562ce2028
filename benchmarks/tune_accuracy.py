"""Accuracy after an equal-budget search: SimpleRNN, LSTM and GRU with 64 units, 20 trials of 10 epochs each, the
best configuration of each tested on 3 fresh seeds (rnnbench tune's defaults otherwise).

Targets (mean test accuracy over the final seeds) on Fashion-MNIST: at least 90.8 % for LSTM and GRU and 86.3 % for
SimpleRNN, i.e. above the hand-written `tuned` preset (90.43 / 90.62 / 85.82 %) without being told its recipe.
Results go to a store (an interrupted search goes on where it stopped) and a summary JSON beside it.

    python benchmarks/tune_accuracy.py                  # Fashion-MNIST (Debian's copy or a download)
    python benchmarks/tune_accuracy.py --trials 10      # a smaller budget
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

from rnnbench.cli import main as rnnbench

TARGETS = {"fashion_mnist": {"lstm": 0.908, "gru": 0.908, "simplernn": 0.863}}
HERE = Path(__file__).resolve().parent


def run(dataset: str, trials: int, jobs: str, out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    summary_path = out / f"tune-{dataset}.json"
    started = time.perf_counter()
    status = rnnbench(
        ["tune", "--dataset", dataset, "--units", "64", "--epochs", "10", "--trials", str(trials), "--final-seeds",
         "3", "--store", str(out / "tune.db"), "--jobs", jobs, "--json", str(summary_path), "--no-report"]
    )  # fmt: skip
    if status:
        return status
    wall = time.perf_counter() - started
    summary = json.loads(summary_path.read_text())
    machine = platform.processor() or platform.machine()
    print(f"\n{dataset}, {trials} trials per model of 10 epochs, machine: {machine}, {os.cpu_count()} cores, python "
          f"{platform.python_version()}; {wall / 60:.1f} min for this command")  # fmt: skip
    searches = {search["model"]: search for search in summary["architectures"]}
    failed = False
    for model in summary["summary"]:
        name = model["model"]
        target = TARGETS.get(dataset, {}).get(name)
        mean = model["test_accuracy_mean"]
        verdict = "" if target is None else ("  target met" if mean >= target else f"  BELOW target {target:.1%}")
        failed |= target is not None and mean < target
        low, high = model["ci95"]
        search = searches[name]
        print(f"  {name:10s} {mean:.2%} (95% CI {low:.2%} - {high:.2%}, n={model['n']}){verdict}")
        print(f"  {'':10s} {search['trials_finished']} trials finished, {search['trials_pruned']} pruned, "
              f"{search['epochs']} epochs, {search['seconds']:.0f} s tuning")  # fmt: skip
        print(f"  {'':10s} best: {search['best_params']}")
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--jobs", default="auto")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    arguments = parser.parse_args()
    sys.exit(run(arguments.dataset, arguments.trials, arguments.jobs, arguments.out))
