"""The command line: parses flags into specs, calls the library, renders the output.

Exit status: 0 success (a diverged run is a result); 2 bad usage or bad input (one line on stderr, no traceback, said
before anything trains); 1 runs failed (one line each on stderr after the tables) or an unexpected failure; 130
interrupted; 141 stdout closed by its reader.

It may import every layer; nothing imports it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from rnnbench.backend import DEFAULT_BACKEND
from rnnbench.cli.compare import compare
from rnnbench.cli.options import POSITIVE, data_source, data_source_options, parse_image_size
from rnnbench.cli.sweep import sweep
from rnnbench.cli.tune import tune
from rnnbench.errors import Interrupted, OutputClosed, RnnbenchError
from rnnbench.report.console import make_console
from rnnbench.spec import DEFAULT_REPORT_DIR, DEFAULT_STORE, HEAD_ALIASES, HEADS, DataSpec, ModelSpec
from rnnbench.terminal import silence_closed_stdout
from rnnbench.version import __version__

EXPORT_FORMATS = ("onnx", "tf_saved_model")
VIEW_FORMATS = (".png", ".svg", ".pdf")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rnnbench")
def cli() -> None:
    """Which recurrent architecture classifies my images best, and at what cost?"""


for command in (compare, sweep, tune):
    cli.add_command(command)


@cli.command()
@click.option(
    "--store",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_STORE,
    show_default=True,
    help="The results store to read (never written).",
)
@click.option(
    "--format",
    "formats",
    default="html,md,json,csv",
    show_default=True,
    help="Comma-separated: html (one self-contained page), md (Markdown + PNG figures), json, csv.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_REPORT_DIR,
    show_default=True,
    help="Folder to write the report into.",
)
@click.option(
    "--experiment",
    default=None,
    metavar="NAME",
    help="Only the runs of the experiment of this name ('compare', or the name in a sweep's TOML).",
)
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE[,VALUE]",
              help="Only runs whose KEY is one of the VALUEs; KEY: model, units, dataset, view, preset, seed or "
                   "backend. Repeat for several keys (all must match), e.g. --filter model=lstm,gru "
                   "--filter dataset=digits.")  # fmt: skip
def report(store: Path, formats: str, out: Path, experiment: str | None, filters: tuple[str, ...]) -> None:
    """Write a report of the runs in a store: comparison tables, verdicts, plots, settings."""
    from rnnbench.cli.output_paths import check_output_folder, store_files
    from rnnbench.report.write import parse_formats, report_from_store
    from rnnbench.results.panels import Selection, parse_filters

    chosen = parse_formats(formats)
    selection = Selection(experiment=experiment, filters=parse_filters(filters))
    check_output_folder(out, "--out", store_files(store))
    written = report_from_store(store, out, chosen, selection)
    for name in chosen:
        click.echo(f"{name}: {written[name]}")


@cli.group()
def datasets() -> None:
    """The data sets: list, inspect, fetch ahead of time, and picture a sequence view."""


@datasets.command("list")
def datasets_list() -> None:
    """List the built-in data sets with their shape, size, source and cache status."""
    from rnnbench.data import list_datasets

    source = data_source(offline=False)
    table = Table("name", "image (H x W x C)", "classes", "train / test", "cache", "source")
    for info in list_datasets():
        table.add_row(
            info.name,
            " x ".join(map(str, info.image_shape)),
            str(info.classes),
            f"{info.train_size:,} / {info.test_size:,}",
            info.cache_status(source),
            info.source,
        )
    make_console().print(table)


@datasets.command("fetch")
@click.argument("name")
def datasets_fetch(name: str) -> None:
    """Download (or find) and verify a built-in data set ahead of time."""
    from rnnbench.data import dataset_info
    from rnnbench.data.download import fetch

    info = dataset_info(name)
    source = data_source(offline=False)
    for resource in info.resources:
        path = fetch(resource, source.folder(name), offline=source.offline)
        click.echo(f"{resource.filename}: verified, {path}")
    if not info.resources:
        click.echo(f"{name} is bundled; nothing to fetch")


@datasets.command("info")
@click.argument("name")
@data_source_options
def datasets_info(name: str, image_size: str | None, color: str | None, offline: bool) -> None:
    """Shape, class balance, checksum status and location of a data set (built-in or a path); never downloads."""
    import numpy as np

    from rnnbench.data import load_dataset
    from rnnbench.data.download import fetch, verification
    from rnnbench.data.registry import dataset_info, is_registered

    source = data_source(offline)
    console = make_console()
    if is_registered(name) and (status := dataset_info(name).cache_status(source)) in ("not cached", "partly cached"):
        info = dataset_info(name)
        shape = " x ".join(map(str, info.image_shape))
        console.print(f"[bold]{name}[/bold]: {info.description}; {info.train_size:,} train / {info.test_size:,} test "
                      f"images of {shape}, {info.classes} classes", highlight=False)  # fmt: skip
        console.print(f"{status} in {source.folder(name)}; 'rnnbench datasets fetch {name}' downloads and verifies it",
                      highlight=False, soft_wrap=True)  # fmt: skip
        return
    dataset = load_dataset(name, parse_image_size(image_size), color or DataSpec().color, source)
    height, width, channels = dataset.image_shape
    console.print(f"[bold]{name}[/bold]: {len(dataset.y_train):,} train / {len(dataset.y_test):,} test images of "
                  f"{height} x {width} x {channels}, {dataset.classes} classes", highlight=False)  # fmt: skip
    balance = Table("class", "train", "test", title="class balance")
    train_counts = np.bincount(dataset.y_train, minlength=dataset.classes)
    test_counts = np.bincount(dataset.y_test, minlength=dataset.classes)
    for label in range(dataset.classes):
        balance.add_row(str(label), f"{train_counts[label]:,}", f"{test_counts[label]:,}")
    console.print(balance)
    if not is_registered(name):
        console.print(f"local data set at {Path(name).resolve()} (checked on load: shapes, counts, labels)")
        return
    info = dataset_info(name)
    for resource in info.resources:
        path = fetch(resource, source.folder(name), offline=source.offline)
        console.print(f"{resource.filename}: {verification(path, resource)} verified, {path}", highlight=False)
    if not info.resources:
        console.print(f"bundled with {info.source}")


@datasets.command("show")
@click.argument("name")
@click.option("--index", type=click.IntRange(min=0), default=0, show_default=True, help="Which training image.")
@click.option("--view", default="rows", show_default=True, help="rows, columns, pixels, permuted or patches:K.")
@click.option("--permutation-seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The picture to write: .png, .svg or .pdf [default: view.png, never replaced unless named].",
)
@data_source_options
def datasets_show(
    name: str,
    index: int,
    view: str,
    permutation_seed: int,
    out: Path | None,
    image_size: str | None,
    color: str | None,
    offline: bool,
) -> None:
    """Draw one image and the order in which a view reads it, as a PNG."""
    from rnnbench.cli.output_paths import check_writable_folder
    from rnnbench.data import get_view, load_dataset
    from rnnbench.report.view_plot import draw_view

    reader = get_view(view, permutation_seed)
    if out is None:
        out = Path("view.png")
        if out.exists():
            raise RnnbenchError(f"{out} exists already; name it with --out to replace it, or give another --out")
    if out.suffix.lower() not in VIEW_FORMATS:
        raise RnnbenchError(f"--out {out}: pictures are written as {', '.join(VIEW_FORMATS)}; give such a file name")
    check_writable_folder(out.parent, "--out", out)
    dataset = load_dataset(name, parse_image_size(image_size), color or DataSpec().color, data_source(offline))
    if index >= len(dataset.y_train):
        raise RnnbenchError(f"--index {index} is out of range; {name} has {len(dataset.y_train)} training images")
    image = dataset.x_train[index]
    reader(image[None])  # a view that does not fit the image fails here, before drawing
    draw_view(image, reader, out, f"{name} #{index} (class {dataset.y_train[index]})")
    click.echo(f"wrote {out}")


def _store_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("--store", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_STORE,
                        show_default=True, help=help_text)  # fmt: skip


def _load_kept_model(model: str, store: Path) -> tuple[Path, Any, Any]:
    """(file, Keras model, card) of a model file or of a run key's kept model, loaded on JAX."""
    from rnnbench.backend import select_backend
    from rnnbench.models.model_file import load_saved_model
    from rnnbench.serving.lookup import find_model_file

    path = find_model_file(model, store)
    select_backend(DEFAULT_BACKEND)  # a .keras file loads on any backend; JAX is always installed
    loaded, card = load_saved_model(path)
    return path, loaded, card


@cli.command()
@click.argument("model")
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--top", type=POSITIVE, default=3, show_default=True, help="How many classes to show per image.")
@click.option("--json", "as_json", is_flag=True, help="Print the predictions as JSON on stdout.")
@_store_option("The store whose kept models a RUN_KEY names.")
def predict(model: str, images: tuple[Path, ...], top: int, as_json: bool, store: Path) -> int:
    """Classify image files (PNG, JPEG, BMP, GIF, ...; folders are walked) with a kept model.

    MODEL is a .keras file saved with --save-models, or the run key of one ('rnnbench models saved'). Each image is
    converted to the model's channels and size, scaled as in training, and inverted when its background is the
    opposite of the training images'. A file that cannot be read is one line on stderr; the others are still
    predicted, and the exit status is 2.
    """
    import json

    from rnnbench.serving.predict import Prediction, predict_images

    path, loaded, card = _load_kept_model(model, store)
    predictions, unreadable = [], []
    for item in predict_images(loaded, card, images, min(top, card.classes)):
        if isinstance(item, Prediction):
            predictions.append(item)
            if not as_json:
                classes = ", ".join(f"{name} {probability:.1%}" for _, name, probability in item.top)
                note = " (inverted: its background is the opposite of the training images')" if item.inverted else ""
                click.echo(f"{item.path}: {classes}{note}")
        else:
            unreadable.append(item)
            click.echo(f"rnnbench: error: {item.path}: {item.reason}", err=True)
    if as_json:
        document = {
            "model": str(path),
            "run_key": card.run_key,
            "predictions": [prediction.to_dict() for prediction in predictions],
            "unreadable": [{"file": str(item.path), "reason": item.reason} for item in unreadable],
        }
        click.echo(json.dumps(document, indent=2))
    return 2 if unreadable else 0


@cli.group()
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
    if len(parts) != 2 or not all(part.strip().isdigit() and int(part) > 0 for part in parts):
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
@click.option("--units", type=POSITIVE, default=ModelSpec().units, show_default=True,
              help="Units of each recurrent layer.")  # fmt: skip
@click.option("--classes", type=POSITIVE, default=10, show_default=True, help="Outputs of the head.")
@click.option("--layers", type=POSITIVE, default=ModelSpec().layers, show_default=True,
              help="Stacked recurrent layers.")  # fmt: skip
@click.option("--bidirectional", is_flag=True, help="Read each sequence both ways.")
@click.option("--head", type=click.Choice([*HEADS, *HEAD_ALIASES]), default=ModelSpec().head, show_default=True,
              help="batchnorm: BatchNormalization + Dense; dense: Dense alone ('seed': deprecated spelling of "
                   "batchnorm).")  # fmt: skip
@click.option("--cell-option", "cell_options", multiple=True, metavar="KEY=VALUE",
              help="Count the parameters with this option of the cell set (e.g. dt=0.1); repeatable.")  # fmt: skip
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
@_store_option("The results store whose kept models to list (never written).")
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
@_store_option("The store whose kept models a RUN_KEY names.")  # fmt: skip
def models_export(model: str, export_format: str, out: Path | None, check: bool, store: Path) -> int:
    """Export a kept model (a .keras file or a run key) with Keras' own recurrence, to run without rnnbench."""
    import time

    from rnnbench.cli.output_paths import check_writable_folder
    from rnnbench.serving.export_model import check_export, check_exportable, default_destination, export_model

    check_exportable(export_format)
    path, loaded, card = _load_kept_model(model, store)
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
    except Interrupted as interruption:
        click.echo(f"rnnbench: {interruption}", err=True)
        return 130
    except click.Abort:
        click.echo("rnnbench: interrupted", err=True)
        return 130
    except (OutputClosed, BrokenPipeError):
        silence_closed_stdout()
        return 141  # as a process killed by SIGPIPE
    except OSError as error:
        if error.filename is None:
            raise
        # The paths are checked before any work; what is left is the file system changing under the command (a
        # folder made read-only, a full disk): still one line naming the path.
        click.echo(f"rnnbench: error: {error.filename}: {error.strerror or error}", err=True)
        return 2
    return status if isinstance(status, int) else 0


if __name__ == "__main__":
    sys.exit(main())
