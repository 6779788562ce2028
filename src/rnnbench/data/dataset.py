"""Image data sets as arrays, checked once on the way in."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnbench.errors import RnnbenchError


@dataclass(frozen=True)
class ImageDataset:
    """Images of shape (N, H, W, C), float32 in [0, 1], with integer labels in [0, classes); ``class_names`` names
    each label where the data set says (a registered set, an image folder's sub-folders), else is empty."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: int
    class_names: tuple[str, ...] = ()

    @property
    def image_shape(self) -> tuple[int, int, int]:
        height, width, channels = self.x_train.shape[1:]
        return int(height), int(width), int(channels)


def _images(array: np.ndarray, what: str, source: str) -> np.ndarray:
    if array.ndim == 3:
        array = array[..., np.newaxis]
    if array.ndim != 4 or array.shape[-1] not in (1, 3) or 0 in array.shape:
        raise RnnbenchError(f"{source}: {what} has shape {array.shape}; expected images (N, H, W) or (N, H, W, 1|3)")
    if array.dtype == np.uint8:
        return (array / np.float32(255.0)).astype(np.float32)
    if np.issubdtype(array.dtype, np.floating):
        low, high = float(array.min()), float(array.max())
        if not (np.isfinite(low) and np.isfinite(high) and low >= 0.0 and high <= 1.0):
            raise RnnbenchError(
                f"{source}: {what} holds floats in [{low:g}, {high:g}]; store uint8 pixels (0-255) or floats in [0, 1]"
            )
        return array.astype(np.float32)
    raise RnnbenchError(f"{source}: {what} has dtype {array.dtype}; expected uint8 pixels or floats in [0, 1]")


def _labels(array: np.ndarray, what: str, source: str) -> np.ndarray:
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
        raise RnnbenchError(
            f"{source}: {what} has shape {array.shape} and dtype {array.dtype}; expected integer class labels (N,)"
        )
    if array.size and array.min() < 0:
        raise RnnbenchError(f"{source}: {what} holds negative labels; expected class indices 0, 1, 2, ...")
    return array.astype(np.int32)


def _check_training_classes(labels: np.ndarray, classes: int, source: str) -> None:
    """Every class up to the largest label has training images: a label of 1000 among 0-9 would silently build a
    1,001-class model, and one class alone trains nothing."""
    present = np.unique(labels)
    if len(present) == 1:
        raise RnnbenchError(
            f"{source}: every training image has label {present[0]}; a classifier needs training images of two or "
            "more classes"
        )
    if len(present) < classes:
        missing = sorted(set(range(classes)) - set(present.tolist()))
        shown = ", ".join(map(str, missing[:5])) + (", ..." if len(missing) > 5 else "")
        raise RnnbenchError(
            f"{source}: labels go up to {classes - 1} but {len(missing)} of those {classes} classes have no training "
            f"image ({shown}); labels must be 0, 1, ..., K-1, each with training images"
        )


def make_dataset(
    name: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    source: str,
    class_names: tuple[str, ...] = (),
) -> ImageDataset:
    """Check raw arrays (shapes, dtypes, counts, label range), scale pixels to [0, 1] and wrap them. ``class_names``:
    one per label, or none."""
    images_train, images_test = _images(x_train, "x_train", source), _images(x_test, "x_test", source)
    labels_train, labels_test = _labels(y_train, "y_train", source), _labels(y_test, "y_test", source)
    for what, images, labels in (("train", images_train, labels_train), ("test", images_test, labels_test)):
        if len(images) != len(labels):
            raise RnnbenchError(f"{source}: {len(images)} {what} images but {len(labels)} {what} labels")
    if images_train.shape[1:] != images_test.shape[1:]:
        raise RnnbenchError(
            f"{source}: train images are {images_train.shape[1:]} but test images are {images_test.shape[1:]}"
        )
    classes = int(max(labels_train.max(), labels_test.max())) + 1
    if classes < 2:
        raise RnnbenchError(f"{source}: labels name a single class; a classifier needs at least two")
    _check_training_classes(labels_train, classes, source)
    if class_names and len(class_names) < classes:
        raise RnnbenchError(f"{source}: labels go up to {classes - 1} but only {len(class_names)} classes are named")
    names = tuple(class_names[:classes]) if class_names else ()
    return ImageDataset(name, images_train, labels_train, images_test, labels_test, classes, names)
