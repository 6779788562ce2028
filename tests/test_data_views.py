import numpy as np
import pytest

from rnnbench.data import get_view, load_dataset, prepare_data
from rnnbench.errors import RnnbenchError
from rnnbench.spec import DataSpec

IMAGES = np.random.default_rng(0).random((4, 6, 8, 3)).astype(np.float32)

SHAPES = {
    "rows": (6, 24),
    "columns": (8, 18),
    "pixels": (48, 3),
    "permuted": (48, 3),
    "patches:2": (12, 12),
    "patches:1": (48, 3),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_shape_and_inverse(name):
    view = get_view(name)
    sequences = view(IMAGES)
    assert sequences.shape == (4, *SHAPES[name])
    assert np.array_equal(view.invert(sequences, IMAGES.shape[1:]), IMAGES)


def test_reading_orders():
    shape = (2, 3, 1)
    assert get_view("rows").reading_order(shape).tolist() == [[0, 1, 2], [3, 4, 5]]
    assert get_view("columns").reading_order(shape).tolist() == [[0, 3], [1, 4], [2, 5]]
    assert get_view("pixels").reading_order(shape).tolist() == [[0], [1], [2], [3], [4], [5]]
    patches = get_view("patches:2").reading_order((4, 4, 1))
    assert patches.tolist() == [[0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15]]


def test_rows_and_pixels_do_not_copy():
    assert np.shares_memory(get_view("rows")(IMAGES), IMAGES)
    assert np.shares_memory(get_view("pixels")(IMAGES), IMAGES)


def test_permutation_is_fixed_by_its_seed():
    order = get_view("permuted", 3).reading_order((6, 8, 1)).ravel()
    assert np.array_equal(order, get_view("permuted", 3).reading_order((6, 8, 1)).ravel())
    assert not np.array_equal(order, get_view("permuted", 4).reading_order((6, 8, 1)).ravel())
    assert sorted(order) == list(range(48)) and not np.array_equal(order, np.arange(48))


def test_permuted_train_and_test_share_one_order():
    digits = load_dataset("digits")
    data = prepare_data(DataSpec("digits", view="permuted", permutation_seed=5, val_fraction=0.0), digits)
    view = get_view("permuted", 5)
    assert np.array_equal(view.invert(data.x_train, (8, 8, 1)), digits.x_train)
    assert np.array_equal(view.invert(data.x_test, (8, 8, 1)), digits.x_test)
    assert data.describe()["permutation_seed"] == 5 and data.describe()["image_shape"] == [8, 8, 1]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("diagonal", "unknown view 'diagonal'; known: rows, columns, pixels, permuted, patches:K"),
        ("patches:x", "K in patches:K must be a positive integer"),
        ("patches:0", "K in patches:K must be a positive integer"),
    ],
)
def test_bad_view_names(name, message):
    with pytest.raises(RnnbenchError, match=message):
        get_view(name)


def test_patches_must_divide_the_image():
    with pytest.raises(RnnbenchError, match="patches:5 does not divide the 6 x 8 image"):
        get_view("patches:5")(IMAGES)
