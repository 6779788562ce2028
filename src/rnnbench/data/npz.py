"""Keras-style ``.npz`` files: ``x_train, y_train, x_test, y_test``."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from rnnbench.data.dataset import ImageDataset, make_dataset
from rnnbench.errors import RnnbenchError

KEYS = ("x_train", "y_train", "x_test", "y_test")


def load_npz(path: Path, name: str | None = None) -> ImageDataset:
    """Load and check a Keras-style ``.npz``; every problem is one :class:`RnnbenchError` naming the file."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in KEYS if key not in archive.files]
            if missing:
                raise RnnbenchError(
                    f"{path}: missing array(s) {', '.join(missing)}; a data set .npz holds {', '.join(KEYS)}"
                )
            x_train, y_train, x_test, y_test = (archive[key] for key in KEYS)
    except RnnbenchError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise RnnbenchError(f"{path}: not a readable .npz file ({error})") from None
    return make_dataset(name or path.stem, x_train, y_train, x_test, y_test, source=str(path))
