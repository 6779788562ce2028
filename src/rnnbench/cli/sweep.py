"""``rnnbench sweep``: the grid of an experiment file, searched first if the file has a [search] table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from rnnbench.cli.options import Execution, offline_option, run_options
from rnnbench.cli.running import run_comparison, run_searches


@click.command()
@click.argument("experiment", type=click.Path(dir_okay=False, path_type=Path))
@offline_option("Never touch the network (also RNNBENCH_OFFLINE=1).")
@run_options
def sweep(experiment: Path, offline: bool, backend: str | None, **execution_flags: Any) -> int:
    """Run the grid of an experiment file (TOML); finished runs in the store are not trained again. With a [search]
    table, every model is tuned first, one search per data set, view and width of the grid (see rnnbench tune)."""
    from rnnbench.spec.experiment_file import load_experiment_file

    spec, search = load_experiment_file(experiment, backend)
    execution = Execution.from_flags(offline, execution_flags)
    if search is None:
        return run_comparison(spec, execution)
    return run_searches(spec, search, execution)
