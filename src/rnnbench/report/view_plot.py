"""A picture of a sequence view: the image, and the order in which the view reads its pixels."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rnnbench.data.views import View
from rnnbench.files import replace_atomically

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAX_LABELLED_STEPS = 64


def step_map(view: View, image_shape: tuple[int, int, int]) -> np.ndarray:
    """(H, W) array: the time step at which the view reads each pixel (its first channel)."""
    height, width, channels = image_shape
    order = view.reading_order(image_shape)
    steps = np.empty(order.size, dtype=np.int64)
    steps[order.ravel()] = np.repeat(np.arange(order.shape[0]), order.shape[1])
    return steps.reshape(height, width, channels)[..., 0]


def view_figure(image: np.ndarray, view: View, title: str, size: tuple[float, float] = (9, 4.4)) -> Figure:
    """``image`` (H, W, C) in [0, 1] beside its reading order under ``view``; ``size`` in inches."""
    from matplotlib.figure import Figure

    steps = step_map(view, image.shape)
    sequence = view(image[np.newaxis])[0]
    figure = Figure(figsize=size, layout="constrained")
    left, right = figure.subplots(1, 2)
    left.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray", vmin=0.0, vmax=1.0)
    left.set_title(title)
    shown = right.imshow(steps, cmap="viridis")
    right.set_title(f"view '{view.name}': {sequence.shape[0]} steps x {sequence.shape[1]} features")
    last = int(steps.max())
    if last < MAX_LABELLED_STEPS:
        for step in range(last + 1):
            rows, columns = np.nonzero(steps == step)
            ink = "black" if step > 0.6 * last else "white"  # readable on viridis' bright end
            right.text(columns.mean(), rows.mean(), str(step), ha="center", va="center", color=ink, fontsize=7)
    figure.colorbar(shown, ax=right, label="time step (reading order)")
    for axis in (left, right):
        axis.set_xticks([])
        axis.set_yticks([])
    return figure


def draw_view(image: np.ndarray, view: View, out: Path, title: str) -> Path:
    """Save a PNG: ``image`` (H, W, C) in [0, 1] beside its reading order under ``view``."""
    figure = view_figure(image, view, title)
    replace_atomically(out, lambda file: figure.savefig(file, format=out.suffix.lstrip(".").lower(), dpi=110))
    return out
