"""A folder of images with one sub-folder per class (PNG, JPEG, ...), read with Pillow.

``FOLDER/train/<class>/*`` and ``FOLDER/test/<class>/*`` give the split; a plain ``FOLDER/<class>/*`` is split into
train and test by a fixed stratified draw (20 % test).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnbench.data.dataset import ImageDataset, make_dataset
from rnnbench.data.split import stratified_split
from rnnbench.errors import RnnbenchError

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
TEST_FRACTION = 0.2


def _class_folders(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if path.is_dir() and not path.name.startswith("."))


def _image_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if path.suffix.lower() in EXTENSIONS and path.is_file())


def is_image_folder(folder: Path) -> bool:
    if not folder.is_dir():
        return False
    split = (folder / "train").is_dir() and (folder / "test").is_dir()
    return split or any(_image_files(sub) for sub in _class_folders(folder))


def _read(path: Path, mode: str, size: tuple[int, int] | None, first: list[tuple[int, int]]) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            converted = image.convert(mode)
    except (UnidentifiedImageError, OSError) as error:
        raise RnnbenchError(f"{path}: not a readable image ({error})") from None
    if size is not None:
        if converted.size != (size[1], size[0]):
            converted = converted.resize((size[1], size[0]), Image.Resampling.BILINEAR)
    elif not first:
        first.append(converted.size)
    elif converted.size != first[0]:
        raise RnnbenchError(
            f"{path}: {converted.size[0]} x {converted.size[1]} pixels where earlier images have "
            f"{first[0][0]} x {first[0][1]}; give --image-size HxW to resize them all"
        )
    array = np.asarray(converted, dtype=np.uint8)
    return array if array.ndim == 3 else array[..., np.newaxis]


def _read_split(
    folder: Path, classes: list[str], mode: str, size: tuple[int, int] | None, first: list[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    for label, name in enumerate(classes):
        class_folder = folder / name
        files = _image_files(class_folder) if class_folder.is_dir() else []
        images += [_read(path, mode, size, first) for path in files]
        labels += [label] * len(files)
    if not images:
        raise RnnbenchError(f"{folder}: no images (PNG, JPEG, ...) in its class sub-folders")
    return np.stack(images), np.asarray(labels, dtype=np.int64)


def load_image_folder(folder: Path, image_size: tuple[int, int] | None = None, rgb: bool = False) -> ImageDataset:
    """Read every image, as grayscale (or RGB with ``rgb``), at ``image_size`` (H, W) or the first image's size."""
    mode = "RGB" if rgb else "L"
    first: list[tuple[int, int]] = []
    if (folder / "train").is_dir() and (folder / "test").is_dir():
        train_classes = {path.name for path in _class_folders(folder / "train")}
        test_classes = {path.name for path in _class_folders(folder / "test")}
        if train_classes != test_classes:
            differences = ((train_classes - test_classes, "train"), (test_classes - train_classes, "test"))
            only = [f"{', '.join(sorted(names))} only in {split}/" for names, split in differences if names]
            raise RnnbenchError(f"{folder}: train/ and test/ must have the same class sub-folders; {'; '.join(only)}")
        classes = sorted(train_classes)
        x_train, y_train = _read_split(folder / "train", classes, mode, image_size, first)
        x_test, y_test = _read_split(folder / "test", classes, mode, image_size, first)
    else:
        classes = [path.name for path in _class_folders(folder)]
        images, labels = _read_split(folder, classes, mode, image_size, first)
        train, test = stratified_split(labels, TEST_FRACTION, seed=0)
        x_train, y_train, x_test, y_test = images[train], labels[train], images[test], labels[test]
    if len(classes) < 2:
        raise RnnbenchError(f"{folder}: one class sub-folder ({', '.join(classes)}); a classifier needs at least two")
    return make_dataset(folder.name, x_train, y_train, x_test, y_test, str(folder), tuple(classes))
