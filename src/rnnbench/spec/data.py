"""What data a run reads: the data set, its sequence view and its split."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rnnbench.errors import RnnbenchError
from rnnbench.spec.checks import require_positive


@dataclass(frozen=True)
class DataSpec:
    """Which images, read as which sequence, split how.

    ``name`` is a registered data set (``rnnbench datasets list``) or a path (``.npz``, idx folder, image folder).
    The validation set is a stratified split of the training data drawn with ``split_seed``; the test set is only
    ever used to report. ``permutation_seed`` fixes the pixel order of the ``permuted`` view; ``image_size`` (H, W)
    and ``color`` apply to image folders.
    """

    name: str = "mnist"
    view: str = "rows"
    val_fraction: float = 0.1
    limit_train: int | None = None
    limit_test: int | None = None
    split_seed: int = 0
    permutation_seed: int = 0
    image_size: tuple[int, int] | None = None
    color: str = "gray"

    def __post_init__(self) -> None:
        if self.color not in ("gray", "rgb"):
            raise RnnbenchError(f"color must be gray or rgb, got '{self.color}'")
        if self.image_size is not None and (len(self.image_size) != 2 or min(self.image_size) < 1):
            raise RnnbenchError(f"image size must be two positive integers HxW, got {self.image_size}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise RnnbenchError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        require_positive("limit_train", self.limit_train)
        require_positive("limit_test", self.limit_test)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> DataSpec:
        """The inverse of ``dataclasses.asdict``, also after JSON (which stores the image size as a list)."""
        values = dict(values)
        if values.get("image_size") is not None:
            values["image_size"] = tuple(values["image_size"])
        return cls(**values)
