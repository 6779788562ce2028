"""``rnnbench compare``: each model trained once per seed, then compared."""

from __future__ import annotations

from typing import Any

import click

from rnnbench.cli.options import (
    Execution,
    given,
    grid_options,
    grid_settings,
    run_options,
    training_options,
    training_settings,
)
from rnnbench.cli.running import run_comparison


@click.command()
@grid_options
@training_options
@run_options
def compare(offline: bool, **flags: Any) -> int:
    """Train each model once per seed and compare them (defaults: the reference experiment on MNIST)."""
    from rnnbench.spec.builder import experiment_spec

    settings = grid_settings("compare", flags)
    settings["grid"].update(given(seeds=flags.pop("seeds")))
    settings["train"] = training_settings(flags)
    return run_comparison(experiment_spec(settings), Execution.from_flags(offline, flags))
