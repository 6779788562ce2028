"""``rnnbench compare``: each model trained once per seed, then compared."""

from __future__ import annotations

from typing import Any

import click
from click.core import ParameterSource

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

# The flags a protocol chooses a value for, by the settings (table, key) they set.
PROTOCOL_FLAGS = {"dataset": ("grid", "datasets"), "view": ("grid", "views"), "preset": ("train", "preset"),
                  "epochs": ("train", "epochs"), "batch_size": ("train", "batch_size")}  # fmt: skip

protocol_option = click.option(
    "--protocol",
    default=None,
    metavar="NAME",
    help="A named long-sequence task (smnist, psmnist, scifar; see 'rnnbench protocols list'): it chooses the data "
    "set, view, preset, epochs and batch size; any of those flags given here overrides its choice.",
)


def _without_defaults(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` less the values of the protocol's flags that the user left at their defaults, so that the
    protocol chooses them."""
    context = click.get_current_context()
    for flag, (table, key) in PROTOCOL_FLAGS.items():
        if context.get_parameter_source(flag) in (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP):
            settings[table].pop(key, None)
    return settings


def _apply_protocol(name: str, settings: dict[str, Any], quiet: bool) -> dict[str, Any]:
    """``settings`` naming the protocol ``name``; says what it chose (one line, unless ``quiet``)."""
    from rnnbench.spec.protocols import chosen_text, get_protocol

    protocol = get_protocol(name)
    settings = _without_defaults(settings)
    if not quiet:
        click.echo(chosen_text(protocol, settings))
    return {**settings, "protocol": protocol.name}


@click.command()
@protocol_option
@grid_options
@training_options
@run_options
def compare(offline: bool, protocol: str | None, **flags: Any) -> int:
    """Train each model once per seed and compare them (defaults: the reference experiment on MNIST)."""
    from rnnbench.spec.builder import experiment_spec

    settings = grid_settings("compare", flags)
    settings["grid"].update(given(seeds=flags.pop("seeds")))
    settings["train"] = training_settings(flags)
    if protocol is not None:
        settings = _apply_protocol(protocol, settings, flags["quiet"])
    return run_comparison(experiment_spec(settings), Execution.from_flags(offline, flags))
