"""``rnnbench datasets``: list, inspect, fetch and picture the data sets."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table

from rnnbench.cli.options import data_source, data_source_options, parse_image_size, view_options
from rnnbench.errors import RnnbenchError
from rnnbench.report.console import make_console
from rnnbench.spec import DataSpec

if TYPE_CHECKING:
    from rnnbench.data.dataset import ImageDataset
    from rnnbench.data.source import DataSource

VIEW_FORMATS = (".png", ".svg", ".pdf")


@click.group()
def datasets() -> None:
    """The data sets: list, inspect, fetch ahead of time, and picture a sequence view."""


def _load(name: str, image_size: str | None, color: str | None, source: DataSource) -> ImageDataset:
    """A data set read as the flags of :func:`data_source_options` say."""
    from rnnbench.data import load_dataset

    return load_dataset(name, parse_image_size(image_size), color or DataSpec().color, source)


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
    from rnnbench.data import dataset_info, list_datasets
    from rnnbench.data.download import fetch
    from rnnbench.data.registry import is_registered

    if not is_registered(name):  # a path has nothing to download
        known = ", ".join(info.name for info in list_datasets())
        raise RnnbenchError(f"unknown data set '{name}'; datasets fetch downloads a built-in one: {known}")
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
    dataset = _load(name, image_size, color, source)
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
@view_options
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The picture to write: .png, .svg or .pdf [default: view.png, never replaced unless named].",
)
@data_source_options  # fmt: skip
def datasets_show(
    name: str,
    index: int,
    view: str,
    permutation_seed: int | None,
    out: Path | None,
    image_size: str | None,
    color: str | None,
    offline: bool,
) -> None:
    """Draw one image and the order in which a view reads it, as a PNG."""
    from rnnbench.data import get_view
    from rnnbench.files import check_writable_folder
    from rnnbench.report.view_plot import draw_view

    if permutation_seed is None:
        permutation_seed = DataSpec().permutation_seed
    reader = get_view(view, permutation_seed)
    if out is None:
        out = Path("view.png")
        if out.exists():
            raise RnnbenchError(f"{out} exists already; name it with --out to replace it, or give another --out")
    if out.suffix.lower() not in VIEW_FORMATS:
        raise RnnbenchError(f"--out {out}: pictures are written as {', '.join(VIEW_FORMATS)}; give such a file name")
    check_writable_folder(out.parent, "--out", out)
    dataset = _load(name, image_size, color, data_source(offline))
    if index >= len(dataset.y_train):
        raise RnnbenchError(f"--index {index} is out of range; {name} has {len(dataset.y_train)} training images")
    image = dataset.x_train[index]
    reader(image[None])  # a view that does not fit the image fails here, before drawing
    draw_view(image, reader, out, f"{name} #{index} (class {dataset.y_train[index]})")
    click.echo(f"wrote {out}")
