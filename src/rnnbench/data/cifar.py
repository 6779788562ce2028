"""CIFAR-10 from its python archive (``cifar-10-python.tar.gz``): five training batches and one test batch."""

from __future__ import annotations

import pickle
import tarfile
from pathlib import Path

import numpy as np

from rnnbench.errors import RnnbenchError

TRAIN_BATCHES = tuple(f"cifar-10-batches-py/data_batch_{index}" for index in range(1, 6))
TEST_BATCH = "cifar-10-batches-py/test_batch"
# ITU-R BT.601 luma, as Pillow's convert("L") uses.
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _batch(archive: tarfile.TarFile, member: str, source: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        file = archive.extractfile(member)
        if file is None:
            raise KeyError(member)
        # Only archives that matched their published checksum reach this point.
        batch = pickle.load(file, encoding="bytes")
        images = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        return images, np.asarray(batch[b"labels"], dtype=np.int64)
    except (KeyError, ValueError, pickle.UnpicklingError, EOFError) as error:
        raise RnnbenchError(f"{source}: batch {member} is missing or malformed ({error})") from None


def read_cifar10(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test) with images as uint8 (N, 32, 32, 3)."""
    try:
        with tarfile.open(path, "r:gz") as archive:
            train = [_batch(archive, member, path) for member in TRAIN_BATCHES]
            x_test, y_test = _batch(archive, TEST_BATCH, path)
    except (tarfile.TarError, EOFError, OSError) as error:
        raise RnnbenchError(f"{path}: not a readable CIFAR-10 archive ({error})") from None
    x_train = np.concatenate([images for images, _ in train])
    y_train = np.concatenate([labels for _, labels in train])
    return x_train, y_train, x_test, y_test


def to_gray(images: np.ndarray) -> np.ndarray:
    """uint8 RGB (N, H, W, 3) -> float32 luma (N, H, W, 1) in [0, 1]."""
    return ((images.astype(np.float32) @ LUMA) / np.float32(255.0))[..., np.newaxis].clip(0.0, 1.0)
