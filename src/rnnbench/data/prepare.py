"""From a data spec to training-ready sequences: load, limit, split off validation, apply the view."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnbench.data.dataset import ImageDataset
from rnnbench.data.registry import load_dataset
from rnnbench.data.source import DataSource
from rnnbench.data.split import check_split_sizes, seeded_subset, stratified_split
from rnnbench.data.views import get_view
from rnnbench.errors import RnnbenchError
from rnnbench.spec import DataSpec


@dataclass(frozen=True)
class SequenceData:
    """Sequences (N, steps, features), float32, and int32 labels; ``x_val`` is empty without validation;
    ``class_names`` as the data set gives them (may be empty)."""

    name: str
    view: str
    image_shape: tuple[int, int, int]
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: int
    permutation_seed: int | None = None
    class_names: tuple[str, ...] = ()

    @property
    def steps(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def features(self) -> int:
        return int(self.x_train.shape[2])

    @property
    def has_validation(self) -> bool:
        return len(self.x_val) > 0

    def describe(self) -> dict[str, object]:
        """The ``dataset`` block of the summary JSON."""
        described: dict[str, object] = {
            "name": self.name,
            "view": self.view,
            "steps": self.steps,
            "features": self.features,
            "classes": self.classes,
            "train": len(self.x_train),
            "val": len(self.x_val),
            "test": len(self.x_test),
            "image_shape": list(self.image_shape),
        }
        if self.permutation_seed is not None:
            described["permutation_seed"] = self.permutation_seed
        if self.class_names:
            described["class_names"] = list(self.class_names)
        return described


def prepare_data(spec: DataSpec, dataset: ImageDataset | None = None, source: DataSource | None = None) -> SequenceData:
    """Apply ``spec`` to ``dataset`` (loaded from ``spec.name``, through ``source``, when not given)."""
    view = get_view(spec.view, spec.permutation_seed)
    dataset = dataset if dataset is not None else load_dataset(spec.name, spec.image_size, spec.color, source)
    _check_limits(spec, dataset)
    pool = seeded_subset(len(dataset.y_train), spec.limit_train, spec.split_seed)
    test = seeded_subset(len(dataset.y_test), spec.limit_test, spec.split_seed)
    train, val = stratified_split(dataset.y_train[pool], spec.val_fraction, spec.split_seed)
    check_split_sizes(len(train), len(val), spec.val_fraction)
    train, val = pool[train], pool[val]
    return SequenceData(
        name=dataset.name,
        view=spec.view,
        image_shape=dataset.image_shape,
        x_train=view(dataset.x_train[train]),
        y_train=dataset.y_train[train],
        x_val=view(dataset.x_train[val]),
        y_val=dataset.y_train[val],
        x_test=view(dataset.x_test[test]),
        y_test=dataset.y_test[test],
        classes=dataset.classes,
        permutation_seed=spec.permutation_seed if spec.view == "permuted" else None,
        class_names=dataset.class_names,
    )


def _check_limits(spec: DataSpec, dataset: ImageDataset) -> None:
    """A limit above what the data set holds would train on all of it under another run key than no limit."""
    for option, limit, size, part in (("--limit-train", spec.limit_train, len(dataset.y_train), "training"),
                                      ("--limit-test", spec.limit_test, len(dataset.y_test), "test")):  # fmt: skip
        if limit is not None and limit > size:
            raise RnnbenchError(f"{option} {limit:,} is more than the {size:,} {part} images of {dataset.name}; "
                                f"leave {option} out to use them all")  # fmt: skip
