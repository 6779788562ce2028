"""The summary JSON of a comparison (format: DESIGN section 5; fields may be added, none removed).

Built from the same panels as the terminal table and the report. With one panel (one data set, view and preset),
``dataset`` and ``protocol`` describe it at the top level as in the documented format; ``panels`` always lists every
panel with its own verdict and pairwise tests.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rnnbench.files import write_text
from rnnbench.report.published import published_dict
from rnnbench.results.panels import Panel, PanelSet


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


def _where(panel: Panel) -> dict[str, Any]:
    return {"dataset": panel.data.name, "view": panel.data.view, "preset": panel.train.preset}


def _panel(panel: Panel) -> dict[str, Any]:
    return {
        "dataset": panel.dataset.description if panel.dataset else {"name": panel.data.name, "view": panel.data.view},
        "protocol": _protocol(panel),
        "summary": [{**model.to_dict(), **_where(panel)} for model in panel.summary],
        "pairwise": [
            {"models": [c.first, c.second], "p_value": c.p_value, "p_value_holm": c.adjusted_p_value}
            for c in panel.comparisons
        ],
        "verdict": panel.verdict,
        # What papers report on the panel's task (None where none): kept apart from the measured summary.
        "published": published_dict(panel),
        "failed": [
            {
                "run_key": run.run_key,
                "model": run.spec.model.name,
                "seed": run.spec.seed,
                "status": run.status,
                "reason": run.reason or "not finished",
            }
            for run in panel.unfinished
        ],  # fmt: skip
    }


def summary_dict(panels: PanelSet, fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields``: what the call that made the comparison reports of itself (version, experiment, backend, device,
    wall time, runs trained now and found in the store), in that order at the top of the document."""
    described = [_panel(panel) for panel in panels.panels]
    summary: dict[str, Any] = {key: fields[key] for key in ("rnnbench_version", "experiment") if key in fields}
    if len(described) == 1:
        summary.update(dataset=described[0]["dataset"], protocol=described[0]["protocol"])
    summary.update({key: value for key, value in fields.items() if key not in summary})
    summary.update(
        runs=[{**result.to_dict(), **_where(panel)} for panel in panels.panels for result in panel.results],
        summary=[model for panel in described for model in panel["summary"]],
        panels=described,
    )
    return summary


def write_summary(panels: PanelSet, fields: Mapping[str, Any], path: Path) -> None:
    """Write the summary JSON; a temporary file is renamed so readers never see half."""
    write_text(path, json.dumps(summary_dict(panels, fields), indent=2) + "\n")
