"""Ways of reading an image as a sequence: images (N, H, W, C) -> sequences (N, steps, features).

A view is a reshape or a fixed gather of pixels. Its reading order (which pixel feeds which step and feature) and its
inverse both come from applying the view to an image of pixel indices, so every view is invertible by construction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rnnbench.errors import RnnbenchError

Transform = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class View:
    """A named transform from images (N, H, W, C) to sequences (N, steps, features)."""

    name: str
    transform: Transform

    def __call__(self, images: np.ndarray) -> np.ndarray:
        if images.ndim != 4:
            raise ValueError(f"images must be (N, H, W, C), got shape {images.shape}")
        return self.transform(images)

    def reading_order(self, image_shape: tuple[int, int, int]) -> np.ndarray:
        """(steps, features) array: the flat index (row-major over H, W, C) of the pixel read at each position."""
        indices = np.arange(int(np.prod(image_shape))).reshape(1, *image_shape)
        return self(indices)[0]

    def invert(self, sequences: np.ndarray, image_shape: tuple[int, int, int]) -> np.ndarray:
        """The images that ``sequences`` were read from: ``invert(view(x), x.shape[1:]) == x``."""
        order = self.reading_order(image_shape).ravel()
        images = np.empty((len(sequences), order.size), dtype=sequences.dtype)
        images[:, order] = sequences.reshape(len(sequences), -1)
        return images.reshape(len(sequences), *image_shape)


def _rows(images: np.ndarray) -> np.ndarray:
    count, height, width, channels = images.shape
    return images.reshape(count, height, width * channels)


def _columns(images: np.ndarray) -> np.ndarray:
    count, height, width, channels = images.shape
    return images.transpose(0, 2, 1, 3).reshape(count, width, height * channels)


def _pixels(images: np.ndarray) -> np.ndarray:
    count, height, width, channels = images.shape
    return images.reshape(count, height * width, channels)


def _permuted(seed: int) -> Transform:
    def transform(images: np.ndarray) -> np.ndarray:
        count, height, width, channels = images.shape
        permutation = np.random.default_rng(seed).permutation(height * width)
        return _pixels(images)[:, permutation, :]

    return transform


def _patches(size: int) -> Transform:
    def transform(images: np.ndarray) -> np.ndarray:
        count, height, width, channels = images.shape
        if height % size or width % size:
            raise RnnbenchError(
                f"patches:{size} does not divide the {height} x {width} image; choose K dividing both sides"
            )
        grid = images.reshape(count, height // size, size, width // size, size, channels)
        return grid.transpose(0, 1, 3, 2, 4, 5).reshape(count, (height // size) * (width // size), -1)

    return transform


VIEW_NAMES = ("rows", "columns", "pixels", "permuted", "patches:K")


def get_view(name: str, permutation_seed: int = 0) -> View:
    """Parse a view name: rows, columns, pixels, permuted (with ``permutation_seed``), patches:K."""
    if name == "rows":
        return View(name, _rows)
    if name == "columns":
        return View(name, _columns)
    if name == "pixels":
        return View(name, _pixels)
    if name == "permuted":
        return View(name, _permuted(permutation_seed))
    if name.startswith("patches:"):
        size = name.partition(":")[2]
        if not (size.isascii() and size.isdigit()) or int(size) < 1:
            raise RnnbenchError(f"view '{name}': K in patches:K must be a positive integer, e.g. patches:4")
        return View(name, _patches(int(size)))
    raise RnnbenchError(f"unknown view '{name}'; known: {', '.join(VIEW_NAMES)}")
