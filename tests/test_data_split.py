import numpy as np
import pytest

from rnnbench.data.split import check_split_sizes, seeded_subset, stratified_split
from rnnbench.errors import RnnbenchError


def test_stratified_split_keeps_class_proportions_and_is_exact():
    labels = np.repeat(np.arange(4), [100, 200, 300, 400])
    kept, held = stratified_split(labels, 0.1, seed=0)
    assert len(held) == 100 and len(kept) == 900
    assert set(kept).isdisjoint(held) and len(set(kept) | set(held)) == 1000
    assert np.bincount(labels[held]).tolist() == [10, 20, 30, 40]


def test_stratified_split_is_seeded():
    labels = np.arange(500) % 7
    first = stratified_split(labels, 0.2, seed=3)
    again = stratified_split(labels, 0.2, seed=3)
    other = stratified_split(labels, 0.2, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[1], other[1])


def test_stratified_split_of_tiny_sets_still_has_the_requested_size():
    labels = np.arange(20) % 10
    kept, held = stratified_split(labels, 0.1, seed=0)
    assert len(held) == 2 and len(kept) == 18 and len(set(labels[held])) == 2


def test_zero_fraction_holds_nothing_out():
    kept, held = stratified_split(np.arange(10) % 2, 0.0, seed=0)
    assert len(held) == 0 and kept.tolist() == list(range(10))


def test_seeded_subset():
    assert seeded_subset(5, None, 0).tolist() == [0, 1, 2, 3, 4]
    assert seeded_subset(5, 10, 0).tolist() == [0, 1, 2, 3, 4]
    subset = seeded_subset(1000, 50, 0)
    assert len(subset) == 50 and len(set(subset)) == 50 and np.array_equal(subset, seeded_subset(1000, 50, 0))


def test_split_sizes_must_leave_training_and_validation_data():
    check_split_sizes(10, 1, 0.1)
    check_split_sizes(10, 0, 0.0)
    with pytest.raises(RnnbenchError, match="empty validation set"):
        check_split_sizes(3, 0, 0.1)
    with pytest.raises(RnnbenchError, match="no training samples"):
        check_split_sizes(0, 3, 0.9)
