"""``rnnbench tune``: an equal-budget search per architecture, then the comparison of their best configurations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from rnnbench.cli.options import (
    POSITIVE,
    Execution,
    epochs_option,
    grid_options,
    grid_settings,
    limit_options,
    option_group,
    run_options,
    val_fraction_option,
)
from rnnbench.cli.running import run_searches
from rnnbench.spec import SEED_LIMIT
from rnnbench.spec.search import PRUNERS, SearchOptions
from rnnbench.spec.search_space import DEFAULT_SPACE, load_space

# tune's budget is its own, not TrainSpec's: with the asha pruner, 30 epochs compare trials at epochs 3 and 9 before
# the end.
SEARCH_EPOCHS = 30


SEARCH_DEFAULTS = SearchOptions()


search_options = option_group(
    click.option("--trials", type=POSITIVE, default=SEARCH_DEFAULTS.trials, show_default=True,
                 help="Trials per architecture, the same for every architecture."),
    click.option("--search-seed", type=click.IntRange(0, SEED_LIMIT - 1), default=SEARCH_DEFAULTS.search_seed,
                 show_default=True,
                 help="Seed of the sampler (Optuna's TPE); the same seed gives the same search."),
    click.option("--space", "space_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                 metavar="FILE.toml", help="Search space: the dimensions to change from the default (docs/tuning.md)."),
    click.option("--pruner", type=click.Choice(PRUNERS), default=SEARCH_DEFAULTS.pruner, show_default=True,
                 help="asha: stop poor trials early (Optuna's Hyperband: successive halving on validation accuracy at "
                      "epochs r, 3r, 9r, ..., r a ninth of the epochs but at least 3; the same rule for every "
                      "architecture); none: train every trial to the end."),
    click.option("--final-seeds", type=POSITIVE, default=SEARCH_DEFAULTS.final_seeds, show_default=True,
                 help="Fresh seeds on which each architecture's best configuration is trained and tested."),
)  # fmt: skip


def _search_options(flags: dict[str, Any]) -> SearchOptions:
    """The options of the flags of :data:`search_options`, taken out of ``flags``."""
    space_file = flags.pop("space_file")
    space = load_space(space_file) if space_file is not None else DEFAULT_SPACE
    return SearchOptions(flags.pop("trials"), flags.pop("search_seed"), space, flags.pop("pruner"),
                         flags.pop("final_seeds"))  # fmt: skip


@click.command()
@grid_options
@epochs_option(SEARCH_EPOCHS, "Epochs of every trial and of the final runs (the budget of a trial that is not pruned).")
@search_options
@val_fraction_option(click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
                     "Stratified validation split of the training data: trials are scored on it alone.")  # fmt: skip
@limit_options
@run_options
def tune(offline: bool, **flags: Any) -> int:
    """Tune every architecture with the same budget on validation data, then compare their best configurations.

    Each model gets its own search over the training recipe (optimizer, learning rate, batch size, weight decay,
    clipping, schedule, label smoothing); its size stays fixed. The best configuration of each, chosen on validation
    accuracy, is trained on fresh seeds and tested as in compare. Trials are runs in the store: run the same command
    again after an interruption and the search goes on where it stopped.
    """
    from rnnbench.spec.builder import experiment_spec

    settings = grid_settings("tune", flags)
    settings["train"] = {"epochs": flags.pop("epochs"), "val_fraction": flags.pop("val_fraction")}
    spec = experiment_spec(settings)
    options = _search_options(flags)
    return run_searches(spec, options, Execution.from_flags(offline, flags))
