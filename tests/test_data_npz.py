import re
from pathlib import Path

import numpy as np
import pytest

from rnnbench.data import load_dataset
from rnnbench.data.npz import load_npz
from rnnbench.errors import RnnbenchError


def _save(path: Path, **overrides):
    rng = np.random.default_rng(1)
    arrays = {
        "x_train": rng.integers(0, 256, (30, 6, 5), dtype=np.uint8),
        "y_train": np.arange(30, dtype=np.int64) % 3,
        "x_test": rng.integers(0, 256, (12, 6, 5), dtype=np.uint8),
        "y_test": np.arange(12, dtype=np.int64) % 3,
    }
    arrays.update(overrides)
    np.savez(path, **{key: value for key, value in arrays.items() if value is not None})
    return path


def test_valid_npz_loads_scaled_with_a_channel_axis(tmp_path):
    dataset = load_npz(_save(tmp_path / "ok.npz"))
    assert dataset.name == "ok"
    assert dataset.x_train.shape == (30, 6, 5, 1) and dataset.x_train.dtype == np.float32
    assert dataset.x_train.min() >= 0.0 and dataset.x_train.max() <= 1.0
    assert dataset.classes == 3 and dataset.y_test.dtype == np.int32
    assert dataset.image_shape == (6, 5, 1)


def test_column_labels_and_rgb_images_are_accepted(tmp_path):
    rgb = np.zeros((30, 4, 4, 3), dtype=np.uint8)
    dataset = load_npz(
        _save(tmp_path / "rgb.npz", x_train=rgb, x_test=rgb[:12], y_train=(np.arange(30) % 3).reshape(-1, 1))
    )
    assert dataset.image_shape == (4, 4, 3) and dataset.y_train.shape == (30,)


def test_float_pixels_in_unit_range_are_kept(tmp_path):
    images = np.full((30, 6, 5), 0.5, dtype=np.float32)
    assert load_npz(_save(tmp_path / "f.npz", x_train=images)).x_train.max() == 0.5


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"y_test": None}, "missing array\\(s\\) y_test"),
        ({"y_train": np.arange(29) % 3}, "30 train images but 29 train labels"),
        ({"x_test": np.zeros((12, 6, 4), dtype=np.uint8)}, "train images are .* but test images are"),
        ({"x_train": np.zeros((30, 30), dtype=np.uint8)}, "x_train has shape \\(30, 30\\)"),
        ({"x_train": np.full((30, 6, 5), 3.0)}, "floats in \\[3, 3\\]"),
        ({"x_train": np.zeros((30, 6, 5), dtype=np.int64)}, "dtype int64"),
        ({"y_train": np.linspace(0, 1, 30)}, "expected integer class labels"),
        ({"y_train": -(np.arange(30) % 3)}, "negative labels"),
        ({"y_train": np.zeros(30, dtype=int), "y_test": np.zeros(12, dtype=int)}, "single class"),
    ],
)
def test_malformed_npz_names_the_file_and_the_problem(tmp_path, overrides, message):
    path = _save(tmp_path / "bad.npz", **overrides)
    with pytest.raises(RnnbenchError, match=message) as error:
        load_npz(path)
    assert str(path) in str(error.value)


def test_a_file_that_is_not_an_npz_is_rejected(tmp_path):
    path = tmp_path / "broken.npz"
    path.write_bytes(b"not a zip archive")
    with pytest.raises(RnnbenchError, match="not a readable .npz file"):
        load_npz(path)


def test_truncated_npz_is_rejected(tmp_path):
    path = _save(tmp_path / "cut.npz")
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(RnnbenchError, match="not a readable .npz file"):
        load_npz(path)


def test_paths_resolve_through_load_dataset(tmp_path):
    assert load_dataset(str(_save(tmp_path / "ok.npz"))).classes == 3
    with pytest.raises(RnnbenchError, match="does not exist"):
        load_dataset(str(tmp_path / "missing.npz"))
    (tmp_path / "folder").mkdir()
    with pytest.raises(RnnbenchError, match="is not a data set: give a Keras-style .npz"):
        load_dataset(str(tmp_path / "folder"))
    with pytest.raises(RnnbenchError, match="unknown data set 'nosuch'; known: mnist, .*, digits, or a path"):
        load_dataset("nosuch")


@pytest.mark.parametrize(
    ("y_train", "y_test", "message"),
    [
        ([0, 1, 2, 1000], [0, 1], "labels go up to 1000 but 997 of those 1001 classes have no training image (3, 4, 5"),
        ([3, 3, 3, 3], [0, 1], "every training image has label 3"),
        ([0, 1, 0, 1], [0, 2], "labels go up to 2 but 1 of those 3 classes have no training image (2)"),
    ],
    ids=["a-stray-label", "one-training-class", "a-test-only-class"],
)
def test_labels_that_do_not_fit_are_refused(tmp_path, y_train, y_test, message):
    path = tmp_path / "labels.npz"
    images = np.zeros((4, 8, 8), np.uint8)
    np.savez(path, x_train=images, y_train=np.array(y_train), x_test=images[: len(y_test)], y_test=np.array(y_test))
    with pytest.raises(RnnbenchError, match=re.escape(message)):
        load_npz(path)
