"""Shared fixtures. Keras runs on JAX in the test process, chosen before anything imports Keras."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

import rnnbench

# Compiled programs go to a cache of this test session (inherited by the CLI subprocesses), not the user's.
os.environ["RNNBENCH_JAX_CACHE"] = tempfile.mkdtemp(prefix="rnnbench-test-jax-cache-")
# The recurrence kernels are compiled once for the session, so the tests also cover building them.
os.environ["RNNBENCH_KERNEL_CACHE"] = tempfile.mkdtemp(prefix="rnnbench-test-kernels-")
rnnbench.select_backend("jax")


def write_npz(path: Path, train: int, test: int, shape: tuple[int, ...] = (28, 28), classes: int = 10) -> Path:
    """A small Keras-style .npz of random uint8 images whose class shifts the mean brightness."""
    rng = np.random.default_rng(0)

    def split(count: int) -> tuple[np.ndarray, np.ndarray]:
        labels = np.arange(count) % classes
        noise = rng.integers(0, 128, size=(count, *shape))
        images = noise + (labels * (127 // classes)).reshape(-1, *([1] * len(shape)))
        return images.astype(np.uint8), labels.astype(np.uint8)

    x_train, y_train = split(train)
    x_test, y_test = split(test)
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


@pytest.fixture
def mnist_shaped_npz(tmp_path: Path) -> Path:
    return write_npz(tmp_path / "mnist-shaped.npz", train=200, test=50)


@pytest.fixture(autouse=True)
def _work_in_a_temporary_folder(tmp_path, monkeypatch):
    """Commands write rnnbench.db (and reports) into the working directory: keep them out of the checkout."""
    monkeypatch.chdir(tmp_path)
