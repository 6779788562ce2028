"""Predict the classes of image files with a kept model, read as its training data was.

Each image is converted to the model's channels, resized to its image size, scaled to [0, 1] by the range of its own
pixel type (8-bit, 16-bit and 32-bit integers by their maximum; floating-point pixels as they are, clipped to [0, 1])
and, when its background is the opposite of the training images' (a dark digit on white paper for an MNIST model),
inverted; then read as a sequence by the model's view. What was done to an image besides is said with its prediction.
Images go through the model in batches. A file that cannot be read (not a regular file, not an image, larger than
Pillow's decompression-bomb limit) is reported and skipped; the others are still predicted.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnnbench.data.views import get_view
from rnnbench.errors import RnnbenchError
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
    # What was done to the image besides scaling 8-bit pixels: another pixel type read, channels converted, resized.
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "inverted": self.inverted,
            "notes": list(self.notes),
            "top": [{"label": label, "class": name, "probability": p} for label, name, p in self.top],
        }

    def line(self) -> str:
        """``path: class probability, ...`` and, in brackets, what was done to the image to read it."""
        classes = ", ".join(f"{name} {probability:.1%}" for _, name, probability in self.top)
        notes = [*self.notes]
        if self.inverted:
            notes.append("inverted: its background is the opposite of the training images'")
        return f"{self.path}: {classes}" + (f" ({'; '.join(notes)})" if notes else "")


@dataclass(frozen=True)
class Unreadable:
    """A file given (or found in a folder given) that is not an image the model can read, and why."""

    path: Path
    reason: str


def image_files(paths: Iterable[Path]) -> Iterator[Path | Unreadable]:
    """Each path given, and every file under each folder given (hidden ones left out), in sorted order; what is not a
    regular file (a FIFO, a device) is unreadable without being opened. A folder with no file to read is an error."""
    for path in paths:
        if path.is_dir():
            found = list(_files_under(path))
            if not found:
                raise RnnbenchError(f"{path} holds no image files (hidden files are left out); give images or a "
                                    "folder of them")  # fmt: skip
            yield from found
        else:
            yield _regular(path)


def _files_under(folder: Path) -> Iterator[Path | Unreadable]:
    for parent, subfolders, files in os.walk(folder):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        yield from (_regular(Path(parent) / name) for name in sorted(files) if not name.startswith("."))


def _regular(path: Path) -> Path | Unreadable:
    if not path.exists():
        return Unreadable(path, "no such file or folder")
    if not path.is_file():
        return Unreadable(path, "not a regular file (a FIFO, a device or a socket); give an image file")
    return path


def should_invert(image: np.ndarray, card: ModelCard) -> bool:
    """The image's background (its border) is nearer the opposite of the training images' than their own."""
    if abs(card.background - 0.5) < POLARITY_MARGIN:
        return False
    level = background_level(image[None])
    return abs(level - (1.0 - card.background)) < abs(level - card.background)


def read_image(path: Path, card: ModelCard) -> tuple[np.ndarray, tuple[str, ...]] | str:
    """The image at ``path`` as the model reads it, (H, W, C) float32 in [0, 1] before any inversion, and what was
    done to read it; or why it cannot be read."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as opened:
                opened.seek(0)  # an animated GIF: its first frame
                return _model_pixels(opened, card)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        return f"larger than the {Image.MAX_IMAGE_PIXELS:,} pixels rnnbench reads (Pillow's decompression-bomb limit)"
    except UnidentifiedImageError:
        size = path.stat().st_size if path.is_file() else 0
        return "an empty file" if size == 0 else "not an image Pillow can read (PNG, JPEG, BMP, GIF, TIFF, ...)"
    except PermissionError:
        return "cannot be read by this user (permission denied)"
    except (OSError, ValueError, SyntaxError) as error:  # truncated or corrupt data; unreadable files
        return f"not a readable image ({' '.join(str(error).split())})"


# Pixel types Pillow reads at more than 8 bits, and the value of their brightest pixel.
WIDE_INTEGERS = {"I;16": 2**16 - 1, "I;16L": 2**16 - 1, "I;16B": 2**16 - 1, "I;16N": 2**16 - 1, "I": 2**32 - 1}


def _model_pixels(image: Any, card: ModelCard) -> tuple[np.ndarray, tuple[str, ...]]:
    """``image`` (a Pillow image) at the model's size and channels, scaled by its own pixel type's range."""
    from PIL import Image

    height, width, channels = card.image_shape
    notes: list[str] = []
    if image.mode in WIDE_INTEGERS or image.mode == "F":
        scale = WIDE_INTEGERS.get(image.mode, 1.0)
        notes.append(f"{image.mode} pixels read as a fraction of {scale:,.0f}" if image.mode != "F"
                     else "floating-point pixels read as they are")  # fmt: skip
        image = image.convert("F")  # resized in floating point: no 8-bit rounding on the way
    else:
        target = "L" if channels == 1 else "RGB"
        if image.mode not in (target, "P", "1") and not (target == "RGB" and image.mode in ("RGBA", "RGBX")):
            notes.append(f"{image.mode} converted to {'grayscale' if target == 'L' else 'RGB'}")
        scale = card.pixel_scale
        image = image.convert(target)
    if image.size != (width, height):
        notes.append(f"resized from {image.width} x {image.height}")
        # Shrinking averages the pixels each target pixel covers (a photo down to 28 x 28 keeps its strokes);
        # enlarging interpolates.
        shrinking = image.width >= width and image.height >= height
        image = image.resize((width, height), Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR)
    pixels = np.asarray(image, dtype=np.float32) / np.float32(scale)
    if image.mode == "F":
        if pixels.min() < 0 or pixels.max() > 1:
            notes.append("values outside [0, 1] clipped")
        pixels = np.clip(pixels, 0.0, 1.0)
        if channels != 1:
            notes.append("grayscale read as RGB")
            pixels = np.repeat(pixels[..., None], channels, axis=-1)
    return pixels.reshape(height, width, channels), tuple(notes)


def predict_images(
    model: Any, card: ModelCard, paths: Sequence[Path], top: int, batch_size: int = BATCH_SIZE
) -> Iterator[Prediction | Unreadable]:
    """Predictions (and unreadable files) for ``paths`` and what is under them, in order, batch by batch."""
    view = get_view(card.view, card.permutation_seed or 0)
    batch: list[tuple[Path, np.ndarray, bool, tuple[str, ...]]] = []
    for item in image_files(paths):
        if isinstance(item, Unreadable):
            yield item
            continue
        read = read_image(item, card)
        if isinstance(read, str):
            yield Unreadable(item, read)
            continue
        image, notes = read
        inverted = should_invert(image, card)
        batch.append((item, 1.0 - image if inverted else image, inverted, notes))
        if len(batch) == batch_size:
            yield from _predict_batch(model, card, view, batch, top)
            batch = []
    if batch:
        yield from _predict_batch(model, card, view, batch, top)


def _predict_batch(
    model: Any, card: ModelCard, view: Any, batch: list[tuple[Path, np.ndarray, bool, tuple[str, ...]]], top: int
) -> Iterator[Prediction]:
    images = np.stack([image for _, image, _, _ in batch])
    probabilities = softmax(np.asarray(model.predict_on_batch(view(images)), dtype=np.float64))
    ranked = np.argsort(-probabilities, axis=1, kind="stable")[:, :top]
    for (path, _, inverted, notes), labels, row in zip(batch, ranked, probabilities, strict=True):
        yield Prediction(path, tuple((int(k), card.class_names[k], float(row[k])) for k in labels), inverted, notes)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)
