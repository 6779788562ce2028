"""The command line: parses flags into specs, calls the library, renders the output.

Exit status: 0 success; 2 bad usage or bad input (one line on stderr, no traceback); 1 an unexpected failure.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.table import Table

from rnnbench import __version__
from rnnbench.backend import BACKENDS, DEFAULT_BACKEND
from rnnbench.config import PRESETS, DataSpec, ExperimentSpec, TrainSpec, parse_seeds
from rnnbench.errors import RnnbenchError
from rnnbench.report.console import make_console

POSITIVE = click.IntRange(min=1)


def _split_models(text: str) -> tuple[str, ...]:
    return tuple(name.strip().lower() for name in text.split(",") if name.strip())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rnnbench")
def cli() -> None:
    """Which recurrent architecture classifies my images best, and at what cost?"""


@cli.command()
@click.option("--models", default="simplernn,lstm,gru", show_default=True, help="Comma-separated registered models.")
@click.option(
    "--dataset",
    default="mnist",
    show_default=True,
    help="A registered data set (see 'rnnbench datasets list') or a path to a Keras-style .npz.",
)
@click.option("--view", default="rows", show_default=True, help="How an image is read as a sequence.")
@click.option("--units", type=POSITIVE, default=64, show_default=True, help="Units of the recurrent layer.")
@click.option(
    "--preset",
    type=click.Choice(sorted(PRESETS)),
    default="seed",
    show_default=True,
    help="Training recipe; 'seed' is the reference experiment's SGD with learning rate 0.01.",
)
@click.option("--epochs", type=POSITIVE, default=10, show_default=True)
@click.option("--batch-size", type=POSITIVE, default=64, show_default=True)
@click.option(
    "--seeds", default="1", show_default=True, help="A count (3 = seeds 0, 1, 2) or a comma-separated list (0,3,7)."
)
@click.option(
    "--val-fraction",
    type=click.FloatRange(0.0, 1.0, max_open=True),
    default=0.1,
    show_default=True,
    help="Stratified validation split of the training data; 0 = none (the last epoch counts as best).",
)
@click.option("--limit-train", type=POSITIVE, default=None, help="Use only N training images (before the split).")
@click.option("--limit-test", type=POSITIVE, default=None, help="Use only N test images.")
@click.option(
    "--backend",
    type=click.Choice(BACKENDS),
    default=DEFAULT_BACKEND,
    show_default=True,
    help="Keras backend; chosen by rnnbench, whatever KERAS_BACKEND says.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the summary JSON to this file.",
)
@click.option("--quiet", is_flag=True, help="Print only the final table.")
def compare(
    models: str,
    dataset: str,
    view: str,
    units: int,
    preset: str,
    epochs: int,
    batch_size: int,
    seeds: str,
    val_fraction: float,
    limit_train: int | None,
    limit_test: int | None,
    backend: str,
    json_path: Path | None,
    quiet: bool,
) -> None:
    """Train each model once per seed and compare them (defaults: the reference experiment on MNIST)."""
    from rnnbench.experiment import check_names
    from rnnbench.experiment import compare as run_comparison
    from rnnbench.report.progress import make_progress
    from rnnbench.report.summary import write_summary
    from rnnbench.report.table import comparison_table

    spec = ExperimentSpec(
        data=DataSpec(dataset, view, val_fraction, limit_train, limit_test),
        models=_split_models(models),
        units=units,
        train=TrainSpec(preset, batch_size, epochs),
        seeds=parse_seeds(seeds),
        backend=backend,
    )
    check_names(spec)
    console = make_console()
    if quiet:
        result = run_comparison(spec)
    else:
        with make_progress(len(spec.runs()), console) as progress:
            result = run_comparison(spec, progress)
    console.print(comparison_table(result))
    if json_path is not None:
        write_summary(result, json_path)
        if not quiet:
            console.print(f"summary written to {json_path}", highlight=False)


@cli.group()
def datasets() -> None:
    """The registered data sets."""


@datasets.command("list")
def datasets_list() -> None:
    """List the registered data sets."""
    from rnnbench.data import list_datasets

    table = Table("name", "image (H x W x C)", "classes", "source", "description")
    for info in list_datasets():
        table.add_row(
            info.name, " x ".join(map(str, info.image_shape)), str(info.classes), info.source, info.description
        )
    make_console().print(table)


@cli.group()
def models() -> None:
    """The registered recurrent models."""


@models.command("list")
def models_list() -> None:
    """List the registered models."""
    from rnnbench.models import list_models

    table = Table("name", "description", "reference")
    for info in list_models():
        table.add_row(info.name, info.description, info.paper)
    make_console().print(table)


@models.command("info")
@click.argument("name")
def models_info(name: str) -> None:
    """Describe one model: equations and reference."""
    from rnnbench.models import model_info

    info = model_info(name.lower())
    make_console().print(f"[bold]{info.name}[/bold]: {info.description}\n  {info.equations}\n  {info.paper}")


def _one_line_usage_error(error: click.UsageError) -> str:
    message = " ".join(error.format_message().split()).rstrip(".")
    command = error.ctx.command_path if error.ctx else "rnnbench"
    return f"rnnbench: error: {message}; see '{command} --help'"


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status instead of printing a traceback for bad input."""
    try:
        status = cli.main(args=argv, prog_name="rnnbench", standalone_mode=False)
    except click.UsageError as error:
        if error.ctx is not None and type(error).__name__ == "NoArgsIsHelpError":
            click.echo(error.ctx.get_help())
            return 2
        click.echo(_one_line_usage_error(error), err=True)
        return 2
    except RnnbenchError as error:
        click.echo(f"rnnbench: error: {error}", err=True)
        return 2
    except click.Abort:
        click.echo("rnnbench: interrupted", err=True)
        return 130
    return status if isinstance(status, int) else 0


if __name__ == "__main__":
    sys.exit(main())
