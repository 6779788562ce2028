"""The options that several commands take, each declared once, and how a group's flags become settings.

A default that a library dataclass holds is read from it, never written again here. Help texts and the order of
options are part of the command line's contract: a group lists its options in the order ``--help`` shows them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from rnnbench.backend import BACKENDS
from rnnbench.errors import RnnbenchError
from rnnbench.spec import (
    DEFAULT_REPORT_DIR,
    DEFAULT_STORE,
    HEAD_ALIASES,
    HEADS,
    PRESET_ALIASES,
    PRESETS,
    SAVE_MODELS,
    ClusterOptions,
    DataSpec,
    ExecutionConfig,
    ExperimentSpec,
    ModelSpec,
    TrainSpec,
)

if TYPE_CHECKING:
    from rnnbench.data.source import DataSource

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

# The executors' names, without importing them (and training with them) just to print --help.
EXECUTOR_NAMES = ("inline", "local", "ray")

POSITIVE = click.IntRange(min=1)


def option_group(*options: Decorator) -> Decorator:
    """Options (or groups) applied so that ``--help`` lists them in the order given."""

    def apply(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


def default_of(spec: Any, field: str) -> Any:
    """A spec dataclass's default as a flag's default: the dataclass is the one place defaults live."""
    value = getattr(spec, field)
    return ",".join(map(str, value)) if isinstance(value, tuple) else value


def given(**values: Any) -> dict[str, Any]:
    """The settings a user gave: flags left unset are left out, so the specs' own defaults apply."""
    return {key: value for key, value in values.items() if value is not None and value is not False}


def parse_image_size(text: str | None) -> tuple[int, int] | None:
    """``"28"`` -> (28, 28); ``"32x48"`` -> (32, 48) as (height, width)."""
    if text is None:
        return None
    parts = text.lower().split("x")
    if len(parts) not in (1, 2) or not all(
        part.strip().isascii() and part.strip().isdigit() and int(part) > 0 for part in parts
    ):
        raise RnnbenchError(f"--image-size '{text}' is not a size; write HxW (e.g. 32x32) or one number for a square")
    height, width = (int(parts[0]), int(parts[-1]))
    return height, width


def parse_views(text: str) -> tuple[str, ...]:
    """``"rows, patches:2,pixels"`` -> ("rows", "patches:2", "pixels"); each name is checked later, with the data."""
    views = tuple(part.strip() for part in text.split(","))
    if not all(views):
        raise RnnbenchError(f"--view '{text}' has an empty view; give views separated by commas, e.g. rows,pixels")
    repeated = sorted({view for view in views if views.count(view) > 1})
    if repeated:
        raise RnnbenchError(f"--view '{text}' names {', '.join(repeated)} twice; give each view once")
    return views


def parse_jobs(text: str) -> int:
    """``auto`` = the cores this process may use; else a positive integer."""
    if text == "auto":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise RnnbenchError(f"--jobs '{text}' is not auto or a positive integer")
    return int(text)


def data_source(offline: bool) -> DataSource:
    from rnnbench.data.source import DataSource

    return DataSource.from_settings(offline)


# Data: which images, read how.


OFFLINE_HELP = "Never touch the network (also RNNBENCH_OFFLINE=1); use cached or system copies."


def offline_option(help: str = OFFLINE_HELP) -> Decorator:
    return click.option("--offline", is_flag=True, help=help)


data_source_options = option_group(
    click.option("--image-size", default=None, metavar="HxW",
                 help="Image folders: resize every image to H x W (default: the first image's size)."),
    click.option("--color", type=click.Choice(["gray", "rgb"]), default=None,
                 help=f"Image folders: read images as grayscale or RGB [default: {DataSpec().color}]."),
    offline_option(),
)  # fmt: skip
"""How to read a local data set, and whether the network may be used."""

VIEW_HELP = "How an image is read as a sequence: rows, columns, pixels, permuted or patches:K."
PERMUTATION_SEED = click.option(
    "--permutation-seed", type=click.IntRange(min=0), default=None,
    help=f"Pixel order of the permuted view (the same for train and test) [default: "
         f"{default_of(DataSpec(), 'permutation_seed')}].",
)  # fmt: skip

view_options = option_group(
    click.option("--view", default=default_of(DataSpec(), "view"), show_default=True, help=VIEW_HELP),
    PERMUTATION_SEED,
)  # fmt: skip
"""How an image is read as a sequence."""

data_options = option_group(
    click.option("--dataset", default=default_of(DataSpec(), "name"), show_default=True,
                 help="A registered data set (see 'rnnbench datasets list') or a path: a Keras-style .npz, a folder "
                      "of MNIST idx files, or a folder of images with one sub-folder per class."),
    click.option("--view", default=default_of(DataSpec(), "view"), show_default=True,
                 help=VIEW_HELP[:-1] + "; several, comma-separated (rows,patches:2,pixels), run the comparison once "
                      "per view, and the report compares the models across sequence lengths."),
    PERMUTATION_SEED,
    data_source_options,
)  # fmt: skip

limit_options = option_group(
    click.option("--limit-train", type=POSITIVE, default=None, help="Use only N training images (before the split)."),
    click.option("--limit-test", type=POSITIVE, default=None, help="Use only N test images."),
)


def val_fraction_option(type: click.FloatRange, help: str) -> Decorator:
    """A comparison may do without validation data (0); a search is scored on it, so it excludes 0."""
    return click.option("--val-fraction", type=type, default=default_of(DataSpec(), "val_fraction"),
                        show_default=True, help=help)  # fmt: skip


# Models: what is compared, at which size and structure.

LAYERS = click.option("--layers", type=POSITIVE, default=default_of(ModelSpec(), "layers"), show_default=True,
                      help="Stacked recurrent layers.")  # fmt: skip


def units_option(default: int | None, help: str) -> Decorator:
    """Without a default where ``--match-params`` may be given instead, so that giving both can be told."""
    return click.option("--units", type=POSITIVE, default=default, show_default=default is not None, help=help)


def bidirectional_option(help: str) -> Decorator:
    return click.option("--bidirectional", is_flag=True, help=help)


def head_option(help: str) -> Decorator:
    return click.option("--head", type=click.Choice([*HEADS, *HEAD_ALIASES]), default=default_of(ModelSpec(), "head"),
                        show_default=True, help=help)  # fmt: skip


def cell_option_option(help: str) -> Decorator:
    return click.option("--cell-option", "cell_options", multiple=True, metavar="KEY=VALUE", help=help)


model_options = option_group(
    units_option(None, f"Units of each recurrent layer (default: {ExperimentSpec().units[0]})."),
    click.option("--match-params", type=POSITIVE, default=None, metavar="N",
                 help="Instead of --units: give each model the width whose parameter count is closest to N."),
    LAYERS,
    bidirectional_option("Read each sequence both ways (Keras Bidirectional)."),
    click.option("--dropout", type=click.FloatRange(0.0, 1.0, max_open=True),
                 default=default_of(ModelSpec(), "dropout"), show_default=True,
                 help="Dropout on the output of every recurrent layer."),
    head_option("batchnorm: BatchNormalization + Dense (the reference experiment); dense: Dense alone. 'seed' is a "
                "deprecated spelling of batchnorm."),
    cell_option_option("A cell's own setting, e.g. dt=0.1 (every compared model that has it) or cornn.dt=0.1 (one "
                       "model); repeat for several. 'rnnbench models info NAME' lists a cell's options."),
)  # fmt: skip
"""The width and structure of every compared model."""

grid_options = option_group(
    click.option("--models", default=default_of(ExperimentSpec(), "models"), show_default=True,
                 help="Comma-separated registered models (rnnbench models list)."),
    data_options,
    model_options,
)  # fmt: skip
"""What is compared and on what: models, data set and view, width, structure; shared by compare and tune."""

GRID_FLAGS = ("models", "dataset", "view", "permutation_seed", "image_size", "color", "units", "match_params",
              "layers", "bidirectional", "dropout", "head", "cell_options", "limit_train", "limit_test")  # fmt: skip


def grid_settings(name: str, flags: dict[str, Any]) -> dict[str, Any]:
    """The settings (see :mod:`rnnbench.spec.builder`) of the flags of :func:`grid_options`, :func:`limit_options`
    and ``--backend``, taken out of ``flags``."""
    from rnnbench.spec.builder import parse_cell_options

    grid = {key: flags.pop(key) for key in GRID_FLAGS}
    if grid["units"] is not None and grid["match_params"] is not None:
        raise RnnbenchError("--units and --match-params exclude each other; give one")
    return {
        **given(name=name, backend=flags.pop("backend")),
        "grid": given(
            models=tuple(model.strip().lower() for model in grid["models"].split(",") if model.strip()),
            datasets=[grid["dataset"]],
            views=list(parse_views(grid["view"])),
            units=[grid["units"]] if grid["units"] is not None else None,
            match_params=[grid["match_params"]] if grid["match_params"] is not None else None,
        ),
        "model": given(layers=grid["layers"], bidirectional=grid["bidirectional"], dropout=grid["dropout"],
                       head=grid["head"], options=parse_cell_options(grid["cell_options"]) or None),
        "data": given(limit_train=grid["limit_train"], limit_test=grid["limit_test"],
                      permutation_seed=grid["permutation_seed"], image_size=parse_image_size(grid["image_size"]),
                      color=grid["color"]),
    }  # fmt: skip


# Training: the recipe of every run.

TRAINING_FLAGS = ("preset", "learning_rate", "epochs", "batch_size", "val_fraction", "test_each_epoch")


def epochs_option(default: int, help: str | None = None) -> Decorator:
    return click.option("--epochs", type=POSITIVE, default=default, show_default=True, help=help)


training_options = option_group(
    click.option("--preset", type=click.Choice([*sorted(PRESETS), *PRESET_ALIASES]),
                 default=default_of(TrainSpec(), "preset"), show_default=True,
                 help="Training recipe: 'reference' is the reference experiment's SGD with learning rate 0.01, "
                      "'tuned' a modern recipe (see README), 'long' one for sequences of 784+ steps "
                      "(docs/long-sequences.md); 'seed' is a deprecated spelling of reference."),
    click.option("--learning-rate", type=click.FloatRange(min=0.0, min_open=True), default=None,
                 help="Override the preset's (peak) learning rate."),
    epochs_option(default_of(TrainSpec(), "epochs")),
    click.option("--batch-size", type=POSITIVE, default=default_of(TrainSpec(), "batch_size"), show_default=True),
    click.option("--seeds", default=None,
                 help=f"A count (3 = seeds 0, 1, 2) or a comma-separated list (0,3,7) (default: "
                      f"{len(ExperimentSpec().seeds)})."),
    val_fraction_option(click.FloatRange(0.0, 1.0, max_open=True),
                        "Stratified validation split of the training data; 0 = none (the last epoch counts as best)."),
    click.option("--test-each-epoch", is_flag=True,
                 help="Also measure test accuracy after every epoch (a learning curve; never picks the best epoch)."),
    limit_options,
)  # fmt: skip
"""The training recipe and the seeds of a comparison."""


def training_settings(flags: dict[str, Any]) -> dict[str, Any]:
    """The ``train`` settings of :func:`training_options`' flags, taken out of ``flags``; ``--seeds`` (a grid axis)
    and the limits (data settings) are not among them."""
    train = {key: flags.pop(key) for key in TRAINING_FLAGS}
    return given(**train)


# Where results go, and where runs execute.


def store_option(help: str) -> Decorator:
    return click.option("--store", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_STORE,
                        show_default=True, help=help)  # fmt: skip


def report_folder_option(help: str) -> Decorator:
    return click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_REPORT_DIR,
                        show_default=True, help=help)  # fmt: skip


output_options = option_group(
    click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                 help="Write the summary JSON to this file."),
    click.option("--quiet", is_flag=True, help="Print only the final tables."),
    report_folder_option("Folder of the report written at the end (report.html, report.md with figures/, "
                         "report.json, csv/); 'rnnbench report' rewrites it from the store."),
    click.option("--no-report", is_flag=True, help="Write no report at the end."),
)  # fmt: skip
"""What a run of experiments writes besides the store: the summary JSON, the report, the terminal."""

execution_options = option_group(
    click.option("--executor", type=click.Choice(EXECUTOR_NAMES), default=None,
                 help="Where runs train: inline (one after another in this process), local (worker processes on this "
                      "machine, --jobs of them) or ray (Ray tasks on a cluster; pip install 'rnnbench[ray]'). "
                      "Default: local when --jobs is above 1 and there are several runs, else inline."),
    click.option("--jobs", default="auto", show_default=True,
                 help="Runs training at once: auto (one per usable core) or N; --jobs 1 trains in this process. With "
                      "--executor ray and no --address: the size of the Ray instance started here."),
    click.option("--address", default=None,
                 help="With --executor ray: the cluster to run on, auto (the one started on this machine with 'ray "
                      "start') or HOST:PORT of its head. Default: start a Ray instance here for this command."),
    click.option("--cpus-per-run", type=click.FloatRange(min=0, min_open=True), default=None,
                 help=f"With --executor ray: CPUs Ray reserves for each run [default: "
                      f"{default_of(ClusterOptions(), 'cpus_per_run'):g}]. A run computes on one thread."),
    click.option("--gpus-per-run", type=click.FloatRange(min=0), default=None,
                 help="With --executor ray: GPUs for each run; a fraction such as 0.25 puts 4 runs on one GPU "
                      "[default: 0]."),
    click.option("--max-retries", type=click.IntRange(min=0), default=None,
                 help=f"With --executor ray: how often a run whose worker or node is lost trains again, from its last "
                      f"checkpoint [default: {default_of(ClusterOptions(), 'max_retries')}]."),
)  # fmt: skip
"""Where runs train: the executor, how many at once, and a Ray cluster's settings."""

run_options = option_group(
    store_option("SQLite results store; finished runs in it are not trained again."),
    execution_options,
    click.option("--force", is_flag=True, help="Train every run again, even those finished in the store."),
    click.option("--save-models", type=click.Choice(SAVE_MODELS), default="best", show_default=True,
                 help="Keep trained models as .keras files in STORE-models/: best (the best run of each model, chosen "
                      "on validation accuracy), all, or none. 'rnnbench models saved' lists them; 'rnnbench predict' "
                      "uses them."),
    click.option("--backend", type=click.Choice(BACKENDS), default=None,
                 help="Keras backend (default jax), whatever KERAS_BACKEND says; tensorflow and torch need pip install "
                      "'rnnbench[tensorflow]' or 'rnnbench[torch]'."),
    output_options,
)  # fmt: skip
"""How a grid of runs executes and where its results go: shared by compare, tune and sweep."""


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
        """From the flags of :func:`run_options` but ``--backend`` (the Ray ones only with ``--executor ray``)."""
        ray_flags = given(address=flags["address"], cpus_per_run=flags["cpus_per_run"],
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
            source=data_source(offline),
            cluster=ClusterOptions(**ray_flags),
            save_models=flags["save_models"],
        )

    def config(self) -> ExecutionConfig:
        """The library's execution settings of these flags (``--jobs auto``: one per usable core)."""
        return ExecutionConfig(self.executor, parse_jobs(self.jobs), self.cluster, self.save_models)
