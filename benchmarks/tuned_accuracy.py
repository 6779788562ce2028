"""Accuracy of the `tuned` preset: SimpleRNN, LSTM and GRU with 64 units, 10 epochs, 3 seeds.

Targets (mean test accuracy over the seeds): Fashion-MNIST at least 90.0 % for LSTM and GRU and 87.5 % for
SimpleRNN. Results go to a store (finished runs are not trained again) and a summary JSON beside it.

    python benchmarks/tuned_accuracy.py                      # Fashion-MNIST (Debian's copy or a download)
    python benchmarks/tuned_accuracy.py --dataset mnist      # also MNIST, where it can be downloaded
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

from rnnbench.cli import main as rnnbench

TARGETS = {"fashion_mnist": {"lstm": 0.900, "gru": 0.900, "simplernn": 0.875}}
HERE = Path(__file__).resolve().parent


def run(dataset: str, seeds: int, jobs: str, out: Path) -> int:
    import json

    out.mkdir(parents=True, exist_ok=True)
    summary_path = out / f"tuned-{dataset}.json"
    status = rnnbench(
        ["compare", "--dataset", dataset, "--preset", "tuned", "--seeds", str(seeds), "--epochs", "10",
         "--store", str(out / "tuned.db"), "--jobs", jobs, "--json", str(summary_path)]
    )  # fmt: skip
    if status:
        return status
    summary = json.loads(summary_path.read_text())
    print(f"\n{dataset}, preset tuned, {seeds} seeds, machine: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, python {platform.python_version()}")  # fmt: skip
    failed = False
    for model in summary["summary"]:
        target = TARGETS.get(dataset, {}).get(model["model"])
        mean = model["test_accuracy_mean"]
        verdict = "" if target is None else ("  target met" if mean >= target else f"  BELOW target {target:.1%}")
        failed |= target is not None and mean < target
        low, high = model["ci95"]
        print(f"  {model['model']:10s} {mean:.2%} (95% CI {low:.2%} - {high:.2%}, n={model['n']}){verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--jobs", default="auto")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    arguments = parser.parse_args()
    sys.exit(run(arguments.dataset, arguments.seeds, arguments.jobs, arguments.out))
