"""The summary JSON of a comparison (format: DESIGN section 5; fields may be added, none removed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rnnbench import __version__
from rnnbench.experiment import ExperimentResult


def summary_dict(result: ExperimentResult) -> dict[str, Any]:
    train = result.spec.train
    return {
        "rnnbench_version": __version__,
        "dataset": result.dataset,
        "protocol": {
            "preset": train.preset,
            "optimizer": train.optimizer,
            "learning_rate": train.learning_rate,
            "batch_size": train.batch_size,
            "epochs": train.epochs,
            "val_fraction": result.spec.data.val_fraction,
            "split_seed": result.spec.data.split_seed,
            "limit_train": result.spec.data.limit_train,
            "limit_test": result.spec.data.limit_test,
        },
        "backend": result.backend,
        "device": result.device,
        "wall_seconds": result.wall_seconds,
        "runs": [run.to_dict() for run in result.results],
        "summary": [model.to_dict() for model in result.summary],
    }


def write_summary(result: ExperimentResult, path: Path) -> None:
    """Write the summary JSON, creating parent folders; a temporary file is renamed so readers never see half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_text(json.dumps(summary_dict(result), indent=2) + "\n")
    partial.replace(path)
