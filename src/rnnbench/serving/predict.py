"""Predict the classes of image files with a kept model, read as its training data was.

Each image is converted to the model's channels, resized to its image size, scaled to [0, 1] and, when its background
is the opposite of the training images' (a dark digit on white paper for an MNIST model), inverted; then read as a
sequence by the model's view. Images go through the model in batches. A file that cannot be read is reported and
skipped; the others are still predicted.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnnbench.data.views import get_view
from rnnbench.models.model_file import ModelCard, background_level

BATCH_SIZE = 1024
# Training images whose background is this close to mid-grey have no polarity to match (photographs).
POLARITY_MARGIN = 0.2


@dataclass(frozen=True)
class Prediction:
    """The top classes of one image, most probable first, as (label, name, probability)."""

    path: Path
    top: tuple[tuple[int, str, float], ...]
    inverted: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "inverted": self.inverted,
            "top": [{"label": label, "class": name, "probability": p} for label, name, p in self.top],
        }


@dataclass(frozen=True)
class Unreadable:
    """A file given (or found in a folder given) that is not an image the model can read, and why."""

    path: Path
    reason: str


def image_files(paths: Iterable[Path]) -> Iterator[Path | Unreadable]:
    """Each path given, and every file under each folder given (hidden ones left out), in sorted order."""
    for path in paths:
        if path.is_dir():
            for folder, subfolders, files in os.walk(path):
                subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        yield Path(folder) / name
        elif path.exists():
            yield path
        else:
            yield Unreadable(path, "no such file or folder")


def should_invert(image: np.ndarray, card: ModelCard) -> bool:
    """The image's background (its border) is nearer the opposite of the training images' than their own."""
    if abs(card.background - 0.5) < POLARITY_MARGIN:
        return False
    level = background_level(image[None])
    return abs(level - (1.0 - card.background)) < abs(level - card.background)


def read_image(path: Path, card: ModelCard) -> np.ndarray | str:
    """The image at ``path`` as the model reads it, (H, W, C) float32 in [0, 1] before any inversion; or why not."""
    from PIL import Image, UnidentifiedImageError

    height, width, channels = card.image_shape
    try:
        with Image.open(path) as opened:
            opened.seek(0)  # an animated GIF: its first frame
            image = opened.convert("L" if channels == 1 else "RGB")
    except UnidentifiedImageError:
        size = path.stat().st_size if path.is_file() else 0
        return "an empty file" if size == 0 else "not an image Pillow can read (PNG, JPEG, BMP, GIF, ...)"
    except (OSError, ValueError, SyntaxError) as error:  # truncated or corrupt data; unreadable files
        return f"not a readable image ({' '.join(str(error).split())})"
    if image.size != (width, height):
        # Shrinking averages the pixels each target pixel covers (a photo down to 28 x 28 keeps its strokes);
        # enlarging interpolates.
        shrinking = image.width >= width and image.height >= height
        image = image.resize((width, height), Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR)
    pixels = np.asarray(image, dtype=np.float32) / card.pixel_scale
    return pixels.reshape(height, width, channels)


def predict_images(
    model: Any, card: ModelCard, paths: Sequence[Path], top: int, batch_size: int = BATCH_SIZE
) -> Iterator[Prediction | Unreadable]:
    """Predictions (and unreadable files) for ``paths`` and what is under them, in order, batch by batch."""
    view = get_view(card.view, card.permutation_seed or 0)
    batch: list[tuple[Path, np.ndarray, bool]] = []
    for item in image_files(paths):
        if isinstance(item, Unreadable):
            yield item
            continue
        image = read_image(item, card)
        if isinstance(image, str):
            yield Unreadable(item, image)
            continue
        inverted = should_invert(image, card)
        batch.append((item, 1.0 - image if inverted else image, inverted))
        if len(batch) == batch_size:
            yield from _predict_batch(model, card, view, batch, top)
            batch = []
    if batch:
        yield from _predict_batch(model, card, view, batch, top)


def _predict_batch(
    model: Any, card: ModelCard, view: Any, batch: list[tuple[Path, np.ndarray, bool]], top: int
) -> Iterator[Prediction]:
    images = np.stack([image for _, image, _ in batch])
    probabilities = softmax(np.asarray(model.predict_on_batch(view(images)), dtype=np.float64))
    ranked = np.argsort(-probabilities, axis=1, kind="stable")[:, :top]
    for (path, _, inverted), labels, row in zip(batch, ranked, probabilities, strict=True):
        yield Prediction(path, tuple((int(k), card.class_names[k], float(row[k])) for k in labels), inverted)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)
