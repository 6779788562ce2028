"""Ways of reading an image as a sequence: (N, H, W, C) images -> (N, steps, features) sequences."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rnnbench.errors import UnknownNameError

View = Callable[[np.ndarray], np.ndarray]


def rows(images: np.ndarray) -> np.ndarray:
    """One step per image row: H steps of W*C features (a reshape, no copy)."""
    count, height, width, channels = images.shape
    return images.reshape(count, height, width * channels)


VIEWS: dict[str, View] = {"rows": rows}


def get_view(name: str) -> View:
    if name not in VIEWS:
        raise UnknownNameError("view", name, list(VIEWS))
    return VIEWS[name]
