import importlib.util
import os
from pathlib import Path

import pytest

from rnnbench.backend import device_kind, jax_compilation_cache_dir, select_backend
from rnnbench.errors import RnnbenchError


def test_the_test_process_runs_keras_on_jax():
    import keras

    assert keras.backend.backend() == "jax"
    assert os.environ["KERAS_BACKEND"] == "jax"
    assert device_kind() == "cpu"


def test_the_active_backend_may_be_selected_again():
    import keras  # noqa: F401

    select_backend("jax")


@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is not None, reason="TensorFlow is installed here")
def test_a_backend_that_is_not_installed_names_the_extra():
    with pytest.raises(
        RnnbenchError, match=r"backend 'tensorflow' is not installed; .*pip install 'rnnbench\[tensorflow\]'"
    ):
        select_backend("tensorflow")


def test_unknown_backend():
    with pytest.raises(RnnbenchError, match="unknown backend 'theano'; known: jax, tensorflow, torch"):
        select_backend("theano")


def test_compilation_cache_location(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNBENCH_JAX_CACHE", "off")
    assert jax_compilation_cache_dir() is None
    monkeypatch.setenv("RNNBENCH_JAX_CACHE", str(tmp_path))
    assert jax_compilation_cache_dir() == tmp_path
    monkeypatch.delenv("RNNBENCH_JAX_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert jax_compilation_cache_dir() == tmp_path / "rnnbench" / "jax"


def test_training_fills_the_compilation_cache():
    from rnnbench.config import DataSpec, ModelSpec, RunSpec, TrainSpec
    from rnnbench.data import prepare_data
    from rnnbench.training import train

    spec = DataSpec("digits", limit_train=100, limit_test=20)
    train(RunSpec(spec, ModelSpec("simplernn", 4), TrainSpec(epochs=1)), prepare_data(spec))
    assert any(Path(os.environ["RNNBENCH_JAX_CACHE"]).iterdir())
