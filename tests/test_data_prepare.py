import numpy as np
import pytest

from rnnbench.data import load_dataset, prepare_data
from rnnbench.data.views import get_view
from rnnbench.errors import RnnbenchError
from rnnbench.spec import DataSpec


def test_digits_is_bundled_with_a_fixed_split():
    digits = load_dataset("digits")
    assert digits.image_shape == (8, 8, 1) and digits.classes == 10
    assert len(digits.y_train) + len(digits.y_test) == 1797
    assert len(digits.y_test) == 359
    assert np.array_equal(digits.y_test, load_dataset("digits").y_test)
    assert digits.x_train.min() >= 0.0 and digits.x_train.max() == 1.0


def test_prepare_splits_validation_from_training_data_only():
    data = prepare_data(DataSpec("digits", val_fraction=0.1))
    assert (data.steps, data.features, data.classes) == (8, 8, 10)
    assert len(data.x_val) == 144 and len(data.x_train) == 1438 - 144 and len(data.x_test) == 359
    assert data.describe() == {
        "name": "digits",
        "view": "rows",
        "steps": 8,
        "features": 8,
        "classes": 10,
        "train": 1294,
        "val": 144,
        "test": 359,
        "image_shape": [8, 8, 1],
        "class_names": list("0123456789"),
    }
    digits = load_dataset("digits")
    # no validation image is a test image: validation comes from the training pool
    test_rows = {image.tobytes() for image in get_view("rows")(digits.x_test)}
    assert not any(sequence.tobytes() in test_rows for sequence in data.x_val)


def test_limits_and_no_validation():
    data = prepare_data(DataSpec("digits", val_fraction=0.0, limit_train=100, limit_test=30))
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (100, 0, 30)
    assert not data.has_validation


def test_too_small_a_validation_set_is_an_error():
    with pytest.raises(RnnbenchError, match="empty validation set"):
        prepare_data(DataSpec("digits", val_fraction=0.1, limit_train=4))


def test_a_limit_above_the_data_set_is_refused_rather_than_stored_under_another_key():
    with pytest.raises(RnnbenchError, match="--limit-train 100,000 is more than the 1,438 training images of digits"):
        prepare_data(DataSpec("digits", limit_train=100_000))
    with pytest.raises(RnnbenchError, match="--limit-test 360 is more than the 359 test images of digits"):
        prepare_data(DataSpec("digits", limit_test=360))
    assert len(prepare_data(DataSpec("digits", limit_test=359)).x_test) == 359
