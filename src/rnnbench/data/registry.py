"""The data set registry: built-in sets register a loader under a name; local paths load by their form."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rnnbench.data.dataset import ImageDataset
from rnnbench.data.download import Resource, local_copy
from rnnbench.data.source import DataSource
from rnnbench.errors import RnnbenchError

Loader = Callable[[DataSource], ImageDataset]


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    description: str
    image_shape: tuple[int, int, int]
    classes: int
    train_size: int
    test_size: int
    source: str
    resources: tuple[Resource, ...]
    loader: Loader

    def cache_status(self, source: DataSource) -> str:
        """'bundled', 'system copy', 'cached', 'partly cached' or 'not cached' (presence only; fetch verifies)."""
        if not self.resources:
            return "bundled"
        directory = source.folder(self.name)
        found = [local_copy(resource, directory) for resource in self.resources]
        if all(path is not None and not path.is_relative_to(directory) for path in found):
            return "system copy"
        if all(found):
            return "cached"
        return "partly cached" if any(found) else "not cached"


_REGISTRY: dict[str, DatasetInfo] = {}


def register_dataset(
    name: str,
    *,
    description: str,
    image_shape: tuple[int, int, int],
    classes: int,
    sizes: tuple[int, int],
    source: str,
    resources: tuple[Resource, ...] = (),
) -> Callable[[Loader], Loader]:
    """Decorator: register ``loader(source)`` (returns an :class:`ImageDataset`) under ``name``."""

    def decorate(loader: Loader) -> Loader:
        if name in _REGISTRY:
            raise ValueError(f"data set '{name}' is registered twice")
        _REGISTRY[name] = DatasetInfo(name, description, image_shape, classes, *sizes, source, resources, loader)
        return loader

    return decorate


def list_datasets() -> list[DatasetInfo]:
    return list(_REGISTRY.values())


def _unknown(name: str) -> RnnbenchError:
    return RnnbenchError(
        f"unknown data set '{name}'; known: {', '.join(_REGISTRY)}, or a path (.npz, idx folder, image folder)"
    )


def is_registered(name: str) -> bool:
    return name in _REGISTRY


def dataset_info(name: str) -> DatasetInfo:
    if name not in _REGISTRY:
        raise _unknown(name)
    return _REGISTRY[name]


def _check_not_image_folder(name: str, kind: str, image_size: tuple[int, int] | None, color: str) -> None:
    """Image size and colour apply to image folders only: given for another data set they would be ignored, yet
    change the run key."""
    settings = (("an image size", image_size is not None), ("colour rgb", color != "gray"))
    given = [what for what, is_set in settings if is_set]
    if given:
        raise RnnbenchError(f"{' and '.join(given)} (--image-size, --color) applies to image folders only, not to "
                            f"{kind} {name}, whose images keep their own size and channels; leave it out")  # fmt: skip


def looks_like_path(name: str) -> bool:
    return "/" in name or name.endswith(".npz") or Path(name).exists()


def load_dataset(
    name: str, image_size: tuple[int, int] | None = None, color: str = "gray", source: DataSource | None = None
) -> ImageDataset:
    """A registered data set by name (from ``source``, default: the environment's cache), or a local one by path.

    Paths: a Keras-style ``.npz``; a folder of MNIST idx files (``.gz`` or not); a folder of images with one
    sub-folder per class, read as grayscale or, with ``color='rgb'``, RGB, at ``image_size`` (H, W) if given.
    """
    if name in _REGISTRY:
        _check_not_image_folder(name, "the built-in data set", image_size, color)
        return _REGISTRY[name].loader(source or DataSource.from_settings())
    if not looks_like_path(name):
        raise _unknown(name)
    path = Path(name).expanduser()
    if not path.exists():
        raise RnnbenchError(f"data set path '{name}' does not exist")
    if path.is_file() and path.suffix == ".npz":
        from rnnbench.data.npz import load_npz

        _check_not_image_folder(name, "the .npz file", image_size, color)
        return load_npz(path)
    from rnnbench.data.idx import is_idx_folder, read_idx_folder
    from rnnbench.data.images import is_image_folder, load_image_folder

    if is_idx_folder(path):
        _check_not_image_folder(name, "the idx folder", image_size, color)
        from rnnbench.data.dataset import make_dataset

        arrays = read_idx_folder(path)
        x_train, y_train, x_test, y_test = (arrays[key] for key in ("x_train", "y_train", "x_test", "y_test"))
        return make_dataset(path.name, x_train, y_train, x_test, y_test, source=str(path))
    if is_image_folder(path):
        return load_image_folder(path, image_size, rgb=color == "rgb")
    raise RnnbenchError(
        f"'{name}' is not a data set: give a Keras-style .npz, a folder of idx files (train-images-idx3-ubyte, ...) "
        "or a folder of images with one sub-folder per class"
    )
