"""Accuracy after an equal-budget search: SimpleRNN, LSTM and GRU with 64 units, 20 trials of 10 epochs each, the
best configuration of each tested on 3 fresh seeds (rnnbench tune's defaults otherwise).

Targets (mean test accuracy over the final seeds) on Fashion-MNIST: at least 90.8 % for LSTM and GRU and 86.3 % for
SimpleRNN, i.e. above the hand-written `tuned` preset (90.43 / 90.62 / 85.82 % when first measured) without being told
its recipe. The preset is also trained in the same run on the same final seeds, and each model's paired difference
(search minus preset, seed by seed) is printed with its 95 % interval: the comparison that does not depend on the
day's machine or on figures measured elsewhere. Results go to a store (an interrupted search goes on where it stopped)
and summary JSON files beside it.

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
from rnnbench.results.stats import mean_interval
from rnnbench.search.tune import FINAL_SEED_BASE

TARGETS = {"fashion_mnist": {"lstm": 0.908, "gru": 0.908, "simplernn": 0.863}}
HERE = Path(__file__).resolve().parent
FINAL_SEEDS = 3


def run(dataset: str, trials: int, jobs: str, out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    summary_path = out / f"tune-{dataset}.json"
    started = time.perf_counter()
    status = rnnbench(
        ["tune", "--dataset", dataset, "--units", "64", "--epochs", "10", "--trials", str(trials), "--final-seeds",
         str(FINAL_SEEDS), "--store", str(out / "tune.db"), "--jobs", jobs, "--json", str(summary_path), "--no-report"]
    )  # fmt: skip
    if status:
        return status
    wall = time.perf_counter() - started
    summary = json.loads(summary_path.read_text())
    preset_path = out / f"tuned-preset-{dataset}.json"
    seeds = ",".join(str(FINAL_SEED_BASE + seed) for seed in range(FINAL_SEEDS))
    status = rnnbench(
        ["compare", "--dataset", dataset, "--units", "64", "--epochs", "10", "--preset", "tuned", "--seeds", seeds,
         "--store", str(out / "tune.db"), "--jobs", jobs, "--json", str(preset_path), "--no-report", "--quiet",
         "--save-models", "none"]
    )  # fmt: skip
    if status:
        return status
    preset = _test_accuracies(json.loads(preset_path.read_text()))
    searched = _test_accuracies(summary)
    machine = platform.processor() or platform.machine()
    print(f"\n{dataset}, {trials} trials per model of 10 epochs, machine: {machine}, {os.cpu_count()} cores, python "
          f"{platform.python_version()}; {wall / 60:.1f} min for the search")  # fmt: skip
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
        seeds = sorted(set(searched[name]) & set(preset.get(name, {})))
        if seeds:
            gain = mean_interval([searched[name][seed] - preset[name][seed] for seed in seeds])
            alone = mean_interval([preset[name][seed] for seed in seeds])
            interval = f"95% CI {100 * gain.low:+.2f} to {100 * gain.high:+.2f}"
            print(f"  {'':10s} preset tuned on the same seeds: {alone.mean:.2%}; search minus preset "
                  f"{100 * gain.mean:+.2f} points ({interval})")  # fmt: skip
    return 1 if failed else 0


def _test_accuracies(summary: dict) -> dict[str, dict[int, float]]:
    """Test accuracy by model and seed, of a summary JSON's finished runs."""
    found: dict[str, dict[int, float]] = {}
    for run in summary["runs"]:
        if run["test_accuracy"] is not None:
            found.setdefault(run["model"], {})[run["seed"]] = run["test_accuracy"]
    return found


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--jobs", default="auto")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    arguments = parser.parse_args()
    sys.exit(run(arguments.dataset, arguments.trials, arguments.jobs, arguments.out))
