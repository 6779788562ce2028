"""The data set registry: built-in sets register a loader under a name; local paths load by their form."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rnnbench.data.dataset import ImageDataset
from rnnbench.errors import RnnbenchError, UnknownNameError

Loader = Callable[[], ImageDataset]


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    description: str
    image_shape: tuple[int, int, int]
    classes: int
    source: str
    loader: Loader


_REGISTRY: dict[str, DatasetInfo] = {}


def register_dataset(
    name: str, *, description: str, image_shape: tuple[int, int, int], classes: int, source: str
) -> Callable[[Loader], Loader]:
    """Decorator: register ``loader`` (no arguments, returns an :class:`ImageDataset`) under ``name``."""

    def decorate(loader: Loader) -> Loader:
        if name in _REGISTRY:
            raise ValueError(f"data set '{name}' is registered twice")
        _REGISTRY[name] = DatasetInfo(name, description, image_shape, classes, source, loader)
        return loader

    return decorate


def list_datasets() -> list[DatasetInfo]:
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def dataset_info(name: str) -> DatasetInfo:
    if name not in _REGISTRY:
        raise UnknownNameError("data set", name, list(_REGISTRY))
    return _REGISTRY[name]


def looks_like_path(name: str) -> bool:
    return "/" in name or name.endswith(".npz") or Path(name).exists()


def load_dataset(name: str) -> ImageDataset:
    """A registered data set by name, or a local Keras-style ``.npz`` by path."""
    if name in _REGISTRY:
        return _REGISTRY[name].loader()
    if looks_like_path(name):
        from rnnbench.data.npz import load_npz

        path = Path(name).expanduser()
        if not path.exists():
            raise RnnbenchError(f"data set path '{name}' does not exist")
        if path.suffix != ".npz" or not path.is_file():
            raise RnnbenchError(
                f"'{name}' is not a .npz file; give a Keras-style .npz with x_train, y_train, x_test, y_test"
            )
        return load_npz(path)
    raise RnnbenchError(
        f"unknown data set '{name}'; known: {', '.join(sorted(_REGISTRY))}, or a path to a Keras-style .npz"
    )
