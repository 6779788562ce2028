"""The command line: parses flags into specs, calls the library, renders the output.

Exit status: 0 success (a diverged run is a result); 2 bad usage or bad input (one line on stderr, no traceback, said
before anything trains); 1 runs failed (one line each on stderr after the tables) or an unexpected failure; 130
interrupted; 141 stdout closed by its reader.

It may import every layer; nothing imports it.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table

from rnnbench.backend import BACKENDS, DEFAULT_BACKEND
from rnnbench.errors import Interrupted, OutputClosed, RnnbenchError
from rnnbench.report.console import make_console
from rnnbench.spec import (
    DEFAULT_REPORT_DIR,
    DEFAULT_STORE,
    HEAD_ALIASES,
    HEADS,
    PRESET_ALIASES,
    PRESETS,
    ClusterOptions,
    DataSpec,
    ExperimentSpec,
    ModelSpec,
    TrainSpec,
)
from rnnbench.terminal import silence_closed_stdout
from rnnbench.version import __version__

if TYPE_CHECKING:
    from rnnbench.data.source import DataSource

# The executors' names, without importing them (and training with them) just to print --help.
EXECUTOR_NAMES = ("inline", "local", "ray")
SAVE_MODELS = ("best", "all", "none")
EXPORT_FORMATS = ("onnx", "tf_saved_model")
VIEW_FORMATS = (".png", ".svg", ".pdf")

POSITIVE = click.IntRange(min=1)


def _split_models(text: str) -> tuple[str, ...]:
    return tuple(name.strip().lower() for name in text.split(",") if name.strip())


def _image_size(text: str | None) -> tuple[int, int] | None:
    """``"28"`` -> (28, 28); ``"32x48"`` -> (32, 48) as (height, width)."""
    if text is None:
        return None
    parts = text.lower().split("x")
    if len(parts) not in (1, 2) or not all(part.strip().isdigit() and int(part) > 0 for part in parts):
        raise RnnbenchError(f"--image-size '{text}' is not a size; write HxW (e.g. 32x32) or one number for a square")
    height, width = (int(parts[0]), int(parts[-1]))
    return height, width


def _source(offline: bool) -> DataSource:
    from rnnbench.data.source import DataSource

    return DataSource.from_settings(offline)


def _given(**values: Any) -> dict[str, Any]:
    """The settings a user gave: flags left unset are left out, so the specs' own defaults apply."""
    return {key: value for key, value in values.items() if value is not None and value is not False}


def _default(spec: Any, field: str) -> Any:
    """A spec dataclass's default as a flag's default: the dataclass is the one place defaults live."""
    value = getattr(spec, field)
    return ",".join(map(str, value)) if isinstance(value, tuple) else value


def data_source_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The flags that say how to read a local data set and whether the network may be used."""
    for option in reversed(
        (
            click.option("--image-size", default=None, metavar="HxW",
                         help="Image folders: resize every image to H x W (default: the first image's size)."),
            click.option("--color", type=click.Choice(["gray", "rgb"]), default=None,
                         help=f"Image folders: read images as grayscale or RGB [default: {DataSpec().color}]."),
            click.option("--offline", is_flag=True,
                         help="Never touch the network (also RNNBENCH_OFFLINE=1); use cached or system copies."),
        )
    ):  # fmt: skip
        command = option(command)
    return command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rnnbench")
def cli() -> None:
    """Which recurrent architecture classifies my images best, and at what cost?"""


def _jobs(text: str) -> int:
    """``auto`` = the cores this process may use; else a positive integer."""
    if text == "auto":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if not text.isdigit() or int(text) < 1:
        raise RnnbenchError(f"--jobs '{text}' is not auto or a positive integer")
    return int(text)


def execution_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Where runs execute and where results go: shared by compare and sweep."""
    for option in reversed(
        (
            click.option("--store", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_STORE,
                         show_default=True, help="SQLite results store; finished runs in it are not trained again."),
            click.option("--executor", type=click.Choice(EXECUTOR_NAMES), default=None,
                         help="Where runs train: inline (one after another in this process), local (worker "
                              "processes on this machine, --jobs of them) or ray (Ray tasks on a cluster; pip install "
                              "'rnnbench[ray]'). Default: local when --jobs is above 1 and there are several runs, "
                              "else inline."),
            click.option("--jobs", default="auto", show_default=True,
                         help="Runs training at once: auto (one per usable core) or N; --jobs 1 trains in this "
                              "process. With --executor ray and no --address: the size of the Ray instance started "
                              "here."),
            click.option("--address", default=None,
                         help="With --executor ray: the cluster to run on, auto (the one started on this machine "
                              "with 'ray start') or HOST:PORT of its head. Default: start a Ray instance here for "
                              "this command."),
            click.option("--cpus-per-run", type=click.FloatRange(min=0, min_open=True), default=None,
                         help=f"With --executor ray: CPUs Ray reserves for each run [default: "
                              f"{_default(ClusterOptions(), 'cpus_per_run'):g}]. A run computes on one thread."),
            click.option("--gpus-per-run", type=click.FloatRange(min=0), default=None,
                         help="With --executor ray: GPUs for each run; a fraction such as 0.25 puts 4 runs on one "
                              "GPU [default: 0]."),
            click.option("--max-retries", type=click.IntRange(min=0), default=None,
                         help=f"With --executor ray: how often a run whose worker or node is lost trains again, "
                              f"from its last checkpoint [default: {_default(ClusterOptions(), 'max_retries')}]."),
            click.option("--force", is_flag=True, help="Train every run again, even those finished in the store."),
            click.option("--save-models", type=click.Choice(SAVE_MODELS), default="best", show_default=True,
                         help="Keep trained models as .keras files in STORE-models/: best (the best run of each "
                              "model, chosen on validation accuracy), all, or none. 'rnnbench models saved' lists "
                              "them; 'rnnbench predict' uses them."),
            click.option("--backend", type=click.Choice(BACKENDS), default=None,
                         help="Keras backend (default jax), whatever KERAS_BACKEND says; tensorflow and torch need "
                              "pip install 'rnnbench[tensorflow]' or 'rnnbench[torch]'."),
            click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                         help="Write the summary JSON to this file."),
            click.option("--quiet", is_flag=True, help="Print only the final tables."),
            click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_REPORT_DIR,
                         show_default=True, help="Folder of the report written at the end (report.html, report.md "
                         "with figures/, report.json, csv/); 'rnnbench report' rewrites it from the store."),
            click.option("--no-report", is_flag=True, help="Write no report at the end."),
        )
    ):  # fmt: skip
        command = option(command)
    return command


@dataclass(frozen=True)
class Execution:
    """How a comparison runs and where its results go besides the store and the terminal."""

    store: Path
    executor: str | None
    jobs: str
    force: bool
    json_path: Path | None
    out: Path
    report: bool
    quiet: bool
    source: DataSource
    cluster: ClusterOptions
    save_models: str

    @classmethod
    def from_flags(cls, offline: bool, flags: dict[str, Any]) -> Execution:
        """From the flags of :func:`execution_options` (the Ray ones only with ``--executor ray``)."""
        ray_flags = _given(address=flags["address"], cpus_per_run=flags["cpus_per_run"],
                           gpus_per_run=flags["gpus_per_run"], max_retries=flags["max_retries"])  # fmt: skip
        if ray_flags and flags["executor"] != "ray":
            names = ", ".join("--" + name.replace("_", "-") for name in ray_flags)
            verb, pronoun = ("is", "it") if len(ray_flags) == 1 else ("are", "them")
            raise RnnbenchError(f"{names} {verb} for --executor ray only; add --executor ray or leave {pronoun} out")
        return cls(
            store=flags["store"],
            executor=flags["executor"],
            jobs=flags["jobs"],
            force=flags["force"],
            json_path=flags["json_path"],
            out=flags["out"],
            report=not flags["no_report"],
            quiet=flags["quiet"],
            source=_source(offline),
            cluster=ClusterOptions(**ray_flags),
            save_models=flags["save_models"],
        )


def _check_outputs(spec: ExperimentSpec, execution: Execution) -> None:
    """Every path the command will write can be written and replaces nothing to keep: said before any training."""
    from rnnbench.cli.output_paths import check_output_file, check_output_folder, check_writable_folder, store_files

    check_writable_folder(execution.store.parent, "--store", execution.store)
    kept = [*store_files(execution.store), *(Path(data.name) for data in spec.data if Path(data.name).exists())]
    if execution.json_path is not None:
        check_output_file(execution.json_path, "--json", kept)
    if execution.report:
        check_output_folder(execution.out, "--out", kept)


def _execute(spec: ExperimentSpec, execution: Execution) -> int:
    """Run the experiment with a progress display, print its tables and verdicts, then write its report.

    Exit status 1 when runs failed (a diverged run is a result, not a failure): one line on stderr per failed run,
    after the tables."""
    from rnnbench.driver.experiment import check_names, run_experiment
    from rnnbench.report.progress import make_progress
    from rnnbench.report.summary import write_summary
    from rnnbench.report.terminal_table import print_panels
    from rnnbench.report.write import write_report

    workers = _jobs(execution.jobs)
    check_names(spec)
    _check_outputs(spec, execution)
    if execution.executor == "ray":
        from rnnbench.executors.ray_cluster import check_reachable, import_ray

        # A missing extra or a wrong address is said before any data set is loaded or store opened.
        if execution.cluster.address not in (None, "auto"):
            check_reachable(execution.cluster.address)
        import_ray()
    console = make_console()
    run = functools.partial(run_experiment, spec, execution.store, workers, force=execution.force,
                            executor=execution.executor, source=execution.source,
                            cluster=execution.cluster, save_models=execution.save_models,
                            announce=None if execution.quiet else functools.partial(console.print, highlight=False,
                                                                                    soft_wrap=True))  # fmt: skip
    if execution.quiet:
        result = run()
    else:
        with make_progress(spec.run_count(), console) as progress:
            result = run(progress)
    print_panels(console, result.records)
    console.print(result.footer(), highlight=False)
    if execution.json_path is not None:
        write_summary(result.records, result.summary_fields(), execution.json_path)
        if not execution.quiet:
            console.print(f"summary written to {execution.json_path}", highlight=False)
    if execution.report:
        # The panels just printed, so the report and the terminal show the same numbers.
        written = write_report(result.records, execution.out)
        console.print(f"report written to {written['html'].resolve()}", highlight=False, soft_wrap=True)
    for failed in result.failed:
        model = failed.spec.model
        click.echo(f"rnnbench: run {failed.run_key} ({model.name}, {model.units} units, seed {failed.spec.seed}, "
                   f"{failed.spec.data.name}) failed: {failed.reason}", err=True)  # fmt: skip
    if result.failed:
        click.echo(f"rnnbench: {len(result.failed)} of {result.trained + result.reused} runs failed; rerunning the "
                   "same command trains them again", err=True)  # fmt: skip
    return 1 if result.failed else 0


def grid_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """What is compared and on what: models, data set and view, width, structure; shared by compare and tune."""
    for option in reversed(
        (
            click.option("--models", default=_default(ExperimentSpec(), "models"), show_default=True,
                         help="Comma-separated registered models (rnnbench models list)."),
            click.option("--dataset", default=_default(DataSpec(), "name"), show_default=True,
                         help="A registered data set (see 'rnnbench datasets list') or a path: a Keras-style .npz, a "
                              "folder of MNIST idx files, or a folder of images with one sub-folder per class."),
            click.option("--view", default=_default(DataSpec(), "view"), show_default=True,
                         help="How an image is read as a sequence: rows, columns, pixels, permuted or patches:K."),
            click.option("--permutation-seed", type=click.IntRange(min=0), default=None,
                         help=f"Pixel order of the permuted view (the same for train and test) [default: "
                              f"{_default(DataSpec(), 'permutation_seed')}]."),
            data_source_options,
            click.option("--units", type=POSITIVE, default=None,
                         help=f"Units of each recurrent layer (default: {ExperimentSpec().units[0]})."),
            click.option("--match-params", type=POSITIVE, default=None, metavar="N",
                         help="Instead of --units: give each model the width whose parameter count is closest to N."),
            click.option("--layers", type=POSITIVE, default=_default(ModelSpec(), "layers"), show_default=True,
                         help="Stacked recurrent layers."),
            click.option("--bidirectional", is_flag=True, help="Read each sequence both ways (Keras Bidirectional)."),
            click.option("--dropout", type=click.FloatRange(0.0, 1.0, max_open=True),
                         default=_default(ModelSpec(), "dropout"), show_default=True,
                         help="Dropout on the output of every recurrent layer."),
            click.option("--head", type=click.Choice([*HEADS, *HEAD_ALIASES]), default=_default(ModelSpec(), "head"),
                         show_default=True,
                         help="batchnorm: BatchNormalization + Dense (the reference experiment); dense: Dense alone. "
                              "'seed' is a deprecated spelling of batchnorm."),
            click.option("--cell-option", "cell_options", multiple=True, metavar="KEY=VALUE",
                         help="A cell's own setting, e.g. dt=0.1 (every compared model that has it) or cornn.dt=0.1 "
                              "(one model); repeat for several. 'rnnbench models info NAME' lists a cell's options."),
        )
    ):  # fmt: skip
        command = option(command)
    return command


@cli.command()
@grid_options
@click.option("--preset", type=click.Choice([*sorted(PRESETS), *PRESET_ALIASES]),
              default=_default(TrainSpec(), "preset"),
              show_default=True,
              help="Training recipe: 'reference' is the reference experiment's SGD with learning rate 0.01, "
                   "'tuned' a modern recipe (see README); 'seed' is a deprecated spelling of reference.")  # fmt: skip
@click.option("--learning-rate", type=click.FloatRange(min=0.0, min_open=True), default=None,
              help="Override the preset's (peak) learning rate.")  # fmt: skip
@click.option("--epochs", type=POSITIVE, default=_default(TrainSpec(), "epochs"), show_default=True)
@click.option("--batch-size", type=POSITIVE, default=_default(TrainSpec(), "batch_size"), show_default=True)
@click.option("--seeds", default=None,
              help=f"A count (3 = seeds 0, 1, 2) or a comma-separated list (0,3,7) (default: "
                   f"{len(ExperimentSpec().seeds)}).")  # fmt: skip
@click.option(
    "--val-fraction",
    type=click.FloatRange(0.0, 1.0, max_open=True),
    default=_default(DataSpec(), "val_fraction"),
    show_default=True,
    help="Stratified validation split of the training data; 0 = none (the last epoch counts as best).",
)
@click.option(
    "--test-each-epoch",
    is_flag=True,
    help="Also measure test accuracy after every epoch (a learning curve; never picks the best epoch).",
)
@click.option("--limit-train", type=POSITIVE, default=None, help="Use only N training images (before the split).")
@click.option("--limit-test", type=POSITIVE, default=None, help="Use only N test images.")
@execution_options
def compare(
    preset: str | None,
    learning_rate: float | None,
    epochs: int | None,
    batch_size: int | None,
    seeds: str | None,
    val_fraction: float | None,
    test_each_epoch: bool,
    limit_train: int | None,
    limit_test: int | None,
    offline: bool,
    backend: str | None,
    **flags: Any,
) -> int:
    """Train each model once per seed and compare them (defaults: the reference experiment on MNIST)."""
    from rnnbench.spec.builder import experiment_spec

    settings = _grid_settings("compare", backend, flags, limit_train, limit_test)
    settings["grid"].update(_given(seeds=seeds))
    settings["train"] = _given(preset=preset, epochs=epochs, batch_size=batch_size, val_fraction=val_fraction,
                               learning_rate=learning_rate, test_each_epoch=test_each_epoch)  # fmt: skip
    return _execute(experiment_spec(settings), Execution.from_flags(offline, flags))


@cli.command()
@grid_options
@click.option(
    "--epochs",
    type=POSITIVE,
    default=30,
    show_default=True,
    help="Epochs of every trial and of the final runs (the budget of a trial that is not pruned).",
)
@click.option(
    "--trials",
    type=POSITIVE,
    default=20,
    show_default=True,
    help="Trials per architecture, the same for every architecture.",
)
@click.option(
    "--search-seed",
    type=click.IntRange(0, 2**32 - 1),
    default=0,
    show_default=True,
    help="Seed of the sampler (Optuna's TPE); the same seed gives the same search.",
)
@click.option(
    "--space",
    "space_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE.toml",
    help="Search space: the dimensions to change from the default (see README).",
)
@click.option(
    "--pruner",
    type=click.Choice(["asha", "none"]),
    default="asha",
    show_default=True,
    help="asha: stop poor trials early (Optuna's Hyperband: successive halving on validation accuracy at epochs r, "
    "3r, 9r, ..., r a ninth of the epochs but at least 3; the same rule for every architecture); none: train every "
    "trial to the end.",
)
@click.option(
    "--final-seeds",
    type=POSITIVE,
    default=3,
    show_default=True,
    help="Fresh seeds on which each architecture's best configuration is trained and tested.",
)
@click.option(
    "--val-fraction",
    type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
    default=_default(DataSpec(), "val_fraction"),
    show_default=True,
    help="Stratified validation split of the training data: trials are scored on it alone.",
)
@click.option("--limit-train", type=POSITIVE, default=None, help="Use only N training images (before the split).")
@click.option("--limit-test", type=POSITIVE, default=None, help="Use only N test images.")
@execution_options
def tune(
    epochs: int,
    trials: int,
    search_seed: int,
    space_file: Path | None,
    pruner: str,
    final_seeds: int,
    val_fraction: float,
    limit_train: int | None,
    limit_test: int | None,
    offline: bool,
    backend: str | None,
    **flags: Any,
) -> int:
    """Tune every architecture with the same budget on validation data, then compare their best configurations.

    Each model gets its own search over the training recipe (optimizer, learning rate, batch size, weight decay,
    clipping, schedule, label smoothing); its size stays fixed. The best configuration of each, chosen on validation
    accuracy, is trained on fresh seeds and tested as in compare. Trials are runs in the store: run the same command
    again after an interruption and the search goes on where it stopped.
    """
    from rnnbench.search.tune import SearchOptions
    from rnnbench.spec.builder import experiment_spec
    from rnnbench.spec.search_space import DEFAULT_SPACE, load_space

    settings = _grid_settings("tune", backend, flags, limit_train, limit_test)
    settings["train"] = {"epochs": epochs, "val_fraction": val_fraction}
    spec = experiment_spec(settings)
    space = load_space(space_file) if space_file is not None else DEFAULT_SPACE
    options = SearchOptions(trials, search_seed, space, pruner, final_seeds)
    return _search(spec, options, Execution.from_flags(offline, flags))


def _search(spec: ExperimentSpec, options: Any, execution: Execution) -> int:
    """Run a search per data set, view and width of ``spec`` with a line per decided trial; print each search's table
    and tuned comparison; write one report (and summary) of them all."""
    import dataclasses

    from rnnbench.driver.experiment import check_names
    from rnnbench.report.search import search_table
    from rnnbench.report.summary import write_summary
    from rnnbench.report.terminal_table import print_panels
    from rnnbench.report.write import write_report
    from rnnbench.search.tune import run_search

    workers = _jobs(execution.jobs)
    check_names(spec)
    _check_outputs(spec, execution)
    console = make_console()
    say = None if execution.quiet else functools.partial(console.print, highlight=False, soft_wrap=True)
    # One search per data set and view and per width (a unit count or a parameter budget).
    widths: list[tuple[tuple[int, ...], tuple[int, ...]]] = [((), (budget,)) for budget in spec.match_params]
    widths = widths or [((units,), ()) for units in spec.units]
    results = []
    for data in spec.data:
        for units, budget in widths:
            one = dataclasses.replace(spec, data=(data,), units=units, match_params=budget)
            result = run_search(one, options, execution.store, workers, executor=execution.executor,
                                source=execution.source, cluster=execution.cluster, say=say,
                                save_models=execution.save_models)  # fmt: skip
            console.print(search_table(result))
            print_panels(console, result.records)
            console.print(f"{result.trained} runs trained now; {result.wall_seconds:.1f} s in all; search "
                          f"{result.name} in {execution.store}", highlight=False)  # fmt: skip
            results.append(result)
    panels = [panel for result in results for panel in result.records.panels]
    records = dataclasses.replace(results[0].records, panels=tuple(
        dataclasses.replace(panel, number=number) for number, panel in enumerate(panels, start=1)))  # fmt: skip
    if execution.json_path is not None:
        fields = results[0].summary_fields() if len(results) == 1 else {
            "searches": [result.summary_fields() for result in results]}  # fmt: skip
        write_summary(records, fields, execution.json_path)
    if execution.report:
        written = write_report(records, execution.out)
        console.print(f"report written to {written['html'].resolve()}", highlight=False, soft_wrap=True)
    return 0


GRID_FLAGS = ("models", "dataset", "view", "permutation_seed", "image_size", "color", "units", "match_params",
              "layers", "bidirectional", "dropout", "head", "cell_options")  # fmt: skip


def _grid_settings(
    name: str, backend: str | None, flags: dict[str, Any], limit_train: int | None, limit_test: int | None
) -> dict[str, Any]:
    """The settings (see :mod:`rnnbench.spec.builder`) of :func:`grid_options`' flags, taken out of ``flags``."""
    from rnnbench.spec.builder import parse_cell_options

    grid = {key: flags.pop(key) for key in GRID_FLAGS}
    if grid["units"] is not None and grid["match_params"] is not None:
        raise RnnbenchError("--units and --match-params exclude each other; give one")
    return {
        **_given(name=name, backend=backend),
        "grid": _given(
            models=_split_models(grid["models"]) if grid["models"] is not None else None,
            datasets=[grid["dataset"]] if grid["dataset"] is not None else None,
            views=[grid["view"]] if grid["view"] is not None else None,
            units=[grid["units"]] if grid["units"] is not None else None,
            match_params=[grid["match_params"]] if grid["match_params"] is not None else None,
        ),
        "model": _given(layers=grid["layers"], bidirectional=grid["bidirectional"], dropout=grid["dropout"],
                        head=grid["head"], options=parse_cell_options(grid["cell_options"]) or None),
        "data": _given(limit_train=limit_train, limit_test=limit_test, permutation_seed=grid["permutation_seed"],
                       image_size=_image_size(grid["image_size"]), color=grid["color"]),
    }  # fmt: skip


@cli.command()
@click.argument("experiment", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--offline", is_flag=True, help="Never touch the network (also RNNBENCH_OFFLINE=1).")
@execution_options
def sweep(experiment: Path, offline: bool, backend: str | None, **execution_flags: Any) -> int:
    """Run the grid of an experiment file (TOML); finished runs in the store are not trained again. With a [search]
    table, every model is tuned first, one search per data set, view and width of the grid (see rnnbench tune)."""
    from rnnbench.spec.experiment_file import load_experiment_file

    spec, search = load_experiment_file(experiment, backend)
    execution = Execution.from_flags(offline, execution_flags)
    if search is None:
        return _execute(spec, execution)
    return _search(spec, search, execution)


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

    source = _source(offline=False)
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
    source = _source(offline=False)
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

    source = _source(offline)
    console = make_console()
    if is_registered(name) and (status := dataset_info(name).cache_status(source)) in ("not cached", "partly cached"):
        info = dataset_info(name)
        shape = " x ".join(map(str, info.image_shape))
        console.print(f"[bold]{name}[/bold]: {info.description}; {info.train_size:,} train / {info.test_size:,} test "
                      f"images of {shape}, {info.classes} classes", highlight=False)  # fmt: skip
        console.print(f"{status} in {source.folder(name)}; 'rnnbench datasets fetch {name}' downloads and verifies it",
                      highlight=False, soft_wrap=True)  # fmt: skip
        return
    dataset = load_dataset(name, _image_size(image_size), color or DataSpec().color, source)
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
    dataset = load_dataset(name, _image_size(image_size), color or DataSpec().color, _source(offline))
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
