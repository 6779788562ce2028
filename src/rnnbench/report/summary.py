"""The summary JSON of a comparison (format: DESIGN section 5; fields may be added, none removed).

With one panel (one data set, view and preset), ``dataset`` and ``protocol`` describe it at the top level as in the
documented format; ``panels`` always lists every panel with its own verdict and pairwise tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rnnbench import __version__
from rnnbench.experiment import ExperimentResult, Panel


def _protocol(panel: Panel) -> dict[str, Any]:
    train, data = panel.train, panel.data
    recipe = train.recipe
    return {
        "preset": train.preset,
        "optimizer": train.optimizer,
        "learning_rate": train.learning_rate,
        "schedule": recipe.schedule,
        "warmup_epochs": recipe.warmup_epochs,
        "clipnorm": recipe.clipnorm,
        "weight_decay": recipe.weight_decay,
        "model_learning_rates": {} if train.learning_rate_override else dict(recipe.model_learning_rates),
        "batch_size": train.batch_size,
        "epochs": train.epochs,
        "val_fraction": data.val_fraction,
        "split_seed": data.split_seed,
        "limit_train": data.limit_train,
        "limit_test": data.limit_test,
    }


def _panel(panel: Panel) -> dict[str, Any]:
    return {
        "dataset": panel.dataset,
        "protocol": _protocol(panel),
        "summary": [
            {**model.to_dict(), "dataset": panel.dataset["name"], "view": panel.data.view, "preset": panel.train.preset}
            for model in panel.summary
        ],
        "pairwise": [
            {"models": [c.first, c.second], "p_value": c.p_value, "p_value_holm": c.adjusted_p_value}
            for c in panel.comparisons
        ],
        "verdict": panel.verdict,
        "failed": [
            {"run_key": spec.key(), "model": spec.model.name, "seed": spec.seed, "reason": reason}
            for spec, reason in panel.failed
        ],  # fmt: skip
    }


def summary_dict(result: ExperimentResult) -> dict[str, Any]:
    panels = [_panel(panel) for panel in result.panels]
    summary: dict[str, Any] = {"rnnbench_version": __version__, "experiment": result.spec.name}
    if len(panels) == 1:
        summary.update(dataset=panels[0]["dataset"], protocol=panels[0]["protocol"])
    summary.update(
        backend=result.backend,
        device=result.device,
        wall_seconds=result.wall_seconds,
        trained_now=result.trained,
        found_in_store=result.reused,
        runs=[
            {
                **run.to_dict(),
                "dataset": run.spec.data.name,
                "view": run.spec.data.view,
                "preset": run.spec.train.preset,
            }
            for run in result.results
        ],
        summary=[model for panel in panels for model in panel["summary"]],
        panels=panels,
    )
    return summary


def write_summary(result: ExperimentResult, path: Path) -> None:
    """Write the summary JSON, creating parent folders; a temporary file is renamed so readers never see half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_text(json.dumps(summary_dict(result), indent=2) + "\n")
    partial.replace(path)
