"""``rnnbench models``: the registered recurrent models, and the trained models kept in a store."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from rnnbench.backend import DEFAULT_BACKEND
from rnnbench.cli.kept_models import KEPT_MODEL_STORE, load_kept_model
from rnnbench.cli.options import (
    LAYERS,
    POSITIVE,
    bidirectional_option,
    cell_option_option,
    head_option,
    store_option,
    units_option,
)
from rnnbench.errors import RnnbenchError
from rnnbench.report.console import make_console
from rnnbench.spec import ModelSpec

EXPORT_FORMATS = ("onnx", "tf_saved_model")


@click.group()
def models() -> None:
    """The registered recurrent models, and the trained models kept in a store."""


@models.command("list")
def models_list() -> None:
    """List the registered models."""
    from rnnbench.models import list_models

    table = Table("name", "description", "reference")
    for info in list_models():
        table.add_row(info.name, info.description, info.paper)
    make_console().print(table)


def _input_shape(text: str) -> tuple[int, int]:
    """``"28,28"`` -> (28, 28) as (steps, features)."""
    parts = text.replace("x", ",").split(",")
    if len(parts) != 2 or not all(
        part.strip().isascii() and part.strip().isdigit() and int(part) > 0 for part in parts
    ):
        raise RnnbenchError(f"--input-shape '{text}' is not a shape; write STEPS,FEATURES (e.g. 28,28)")
    return int(parts[0]), int(parts[1])


@models.command("info")
@click.argument("name")
@click.option(
    "--input-shape",
    default="28,28",
    show_default=True,
    metavar="T,F",
    help="Sequence steps and features per step the parameters are counted for (28,28: MNIST rows).",
)
@units_option(ModelSpec().units, "Units of each recurrent layer.")
@click.option("--classes", type=POSITIVE, default=10, show_default=True, help="Outputs of the head.")
@LAYERS
@bidirectional_option("Read each sequence both ways.")
@head_option("batchnorm: BatchNormalization + Dense; dense: Dense alone ('seed': deprecated spelling of batchnorm).")
@cell_option_option("Count the parameters with this option of the cell set (e.g. dt=0.1); repeatable.")  # fmt: skip
def models_info(
    name: str,
    input_shape: str,
    units: int,
    classes: int,
    layers: int,
    bidirectional: bool,
    head: str,
    cell_options: tuple[str, ...],
) -> None:
    """Describe one model: equations, options, parameter count for an input shape, reference paper."""
    from rnnbench.backend import select_backend
    from rnnbench.models import model_info
    from rnnbench.models.matching import parameter_counts
    from rnnbench.models.options import format_value
    from rnnbench.spec.builder import parse_cell_options

    info = model_info(name.lower())
    steps, features = _input_shape(input_shape)
    options = info.resolve_options(parse_cell_options(cell_options))
    spec = ModelSpec(info.name, units, layers=layers, bidirectional=bidirectional, head=head, options=options)
    select_backend(DEFAULT_BACKEND)  # counts are the same on every backend (tested); JAX is always installed
    total, trainable = parameter_counts(spec, steps, features, classes)
    structure = f"{layers} {'bidirectional ' if bidirectional else ''}layer{'s' if layers > 1 else ''}"
    console = make_console()
    console.print(f"[bold]{info.name}[/bold]: {info.description}", highlight=False)
    console.print(f"  equations:  {info.equations}", highlight=False, soft_wrap=True)
    console.print(f"  parameters: {total:,} ({trainable:,} trainable) with {units} units, {structure}, {head} head, "
                  f"{classes} classes, on {steps} steps x {features} features", highlight=False)  # fmt: skip
    console.print(f"  paper:      {info.paper}", highlight=False)
    if not info.options:
        console.print("  options:    none", highlight=False)
    for index, option in enumerate(info.options):
        label = "  options:   " if index == 0 else "             "
        text = f"{option.name} = {format_value(option.default)} ({option.range_text()}): {option.help}"
        console.print(f"{label} {text}", highlight=False, soft_wrap=True)


@models.command("saved")
@store_option("The results store whose kept models to list (never written).")
def models_saved(store: Path) -> None:
    """List the models kept with --save-models: run, data set, accuracies, inference cost and file."""
    from rnnbench.models.model_file import describe_model
    from rnnbench.results.store import Store

    with Store.read(store) as opened:
        kept, runs = opened.models(), {run.run_key: run for run in opened.runs()}
    if not kept:
        click.echo(f"no models kept in {store}; compare or sweep with --save-models best or all")
        return
    table = Table("run key", "model", "data set", "seed", "val acc %", "test acc %", "ms/image", "file")
    for key, path in kept.items():
        run = runs[key]
        result = run.result
        table.add_row(
            key,
            describe_model(run.spec.model),
            f"{run.spec.data.name} ({run.spec.data.view})",
            str(run.spec.seed),
            _percent(result.best_val_accuracy if result else None),
            _percent(result.test_accuracy_at_best if result else None),
            f"{result.latency_ms:.2f}" if result and result.latency_ms is not None else "-",
            str(path) if path.is_file() else f"{path} (missing)",
        )
    make_console().print(table)


def _percent(value: float | None) -> str:
    return f"{100 * value:.2f}" if value is not None else "-"


@models.command("export")
@click.argument("model")
@click.option(
    "--format",
    "export_format",
    type=click.Choice(EXPORT_FORMATS),
    default="onnx",
    show_default=True,
    help="onnx (needs pip install 'rnnbench[export]') or tf_saved_model (needs 'rnnbench[tensorflow]').",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to write it (default: in this folder, MODEL.onnx or MODEL_saved_model/); never replaced.",
)
@click.option(
    "--check",
    is_flag=True,
    help="Run the export with ONNX Runtime (or TensorFlow) and compare with Keras' predictions (1e-4).",
)
@KEPT_MODEL_STORE  # fmt: skip
def models_export(model: str, export_format: str, out: Path | None, check: bool, store: Path) -> int:
    """Export a kept model (a .keras file or a run key) with Keras' own recurrence, to run without rnnbench."""
    import time

    from rnnbench.files import check_writable_folder
    from rnnbench.serving.export_model import check_export, check_exportable, default_destination, export_model

    check_exportable(export_format)
    path, loaded, card = load_kept_model(model, store)
    destination = out or default_destination(path, export_format)
    check_writable_folder(destination.parent, "--out", destination)
    started = time.perf_counter()
    export_model(loaded, card, export_format, destination)
    click.echo(f"exported {path} to {destination} ({export_format}, {time.perf_counter() - started:.1f} s)")
    if not check:
        return 0
    result = check_export(loaded, card, export_format, destination)
    verdict = "matches" if result.passed else "DOES NOT match"
    same = "yes" if result.same_top1 else "no"
    line = (f"check: {result.runtime} {verdict} Keras on {result.inputs} inputs (largest difference in "
            f"probabilities {result.largest_difference:.1e}, same top class: {same})")  # fmt: skip
    click.echo(line, err=not result.passed)
    return 0 if result.passed else 1
