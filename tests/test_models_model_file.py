"""Every `.keras` file rnnbench writes loads in a new process after ``register_keras_objects()`` alone, and predicts
exactly as the model that wrote it, with the fast layers' kernels and without them (RNNBENCH_FAST_LAYERS=0): every
registered cell (on JAX: the fast drop-ins of SimpleRNN, LSTM and GRU), with a cell option set, and stacked inside
Bidirectional."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from rnnbench.models import build_model, list_models, model_info
from rnnbench.spec import ModelSpec

STEPS, FEATURES, CLASSES = 5, 3, 2
SPECS = {info.name: ModelSpec(info.name, 4) for info in list_models()} | {
    "cornn-dt": ModelSpec("cornn", 4, options=(("dt", 0.1),)),
    "gru-stacked-bidirectional": ModelSpec("gru", 4, layers=2, bidirectional=True),
}
# Nothing but what the brief promises a user: choose the backend, register rnnbench's classes, load.
LOAD = """
import sys
from pathlib import Path

import numpy as np

from rnnbench.backend import select_backend

select_backend("jax")
from rnnbench.models import register_keras_objects

register_keras_objects()
import keras

folder = Path(sys.argv[1])
x = np.load(folder / "x.npy")
predictions = {}
for path in sorted(folder.glob("*.keras")):
    model = keras.saving.load_model(path)
    predictions[path.stem] = keras.ops.convert_to_numpy(model(x, training=False))
np.savez(folder / "loaded.npz", **predictions)
"""


@pytest.fixture(scope="module")
def saved_and_loaded(tmp_path_factory) -> dict[str, tuple[keras.Model, np.ndarray, np.ndarray]]:
    """{key: (model, its predictions, those of its file loaded in a new process, the same without the kernels)}."""
    folder = tmp_path_factory.mktemp("saved")
    x = np.random.default_rng(0).normal(size=(3, STEPS, FEATURES)).astype("float32")
    np.save(folder / "x.npy", x)
    models = {}
    for key, spec in SPECS.items():
        keras.utils.set_random_seed(0)
        model = build_model(spec, STEPS, FEATURES, CLASSES)
        model.save(folder / f"{key}.keras")
        models[key] = (model, keras.ops.convert_to_numpy(model(x, training=False)))
    loaded = {}
    for fast_layers in ("1", "0"):  # with rnnbench's kernels, and with Keras' own recurrence in every layer
        environment = {**os.environ, "RNNBENCH_FAST_LAYERS": fast_layers}
        process = subprocess.run([sys.executable, "-c", LOAD, str(folder)], capture_output=True, text=True,
                                 timeout=300, env=environment)  # fmt: skip
        assert process.returncode == 0, process.stderr[-3000:]
        loaded[fast_layers] = dict(np.load(folder / "loaded.npz"))
    return {
        key: (model, predictions, loaded["1"][key], loaded["0"][key]) for key, (model, predictions) in models.items()
    }


@pytest.mark.parametrize("key", sorted(SPECS))
def test_a_saved_model_loads_in_a_new_process_and_predicts_the_same(saved_and_loaded, key):
    _, predictions, with_kernels, stock = saved_and_loaded[key]
    assert with_kernels.shape == stock.shape == (3, CLASSES)
    np.testing.assert_allclose(with_kernels, predictions, rtol=0, atol=1e-6)
    np.testing.assert_allclose(stock, predictions, rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", ["simplernn", "lstm", "gru"])
def test_the_keras_cells_are_saved_as_their_fast_drop_ins_on_jax(saved_and_loaded, name):
    # The files above name FastSimpleRNN, FastLSTM and FastGRU, so their loading covers those classes.
    model, *_ = saved_and_loaded[name]
    layer_class = type(model.get_layer("recurrent"))
    assert layer_class.__name__.startswith("Fast") and layer_class in model_info(name).keras_classes()


def test_a_cell_option_is_saved_with_the_model(saved_and_loaded, tmp_path: Path):
    model, *_ = saved_and_loaded["cornn-dt"]
    model.save(tmp_path / "cornn.keras")
    assert keras.saving.load_model(tmp_path / "cornn.keras").get_layer("recurrent").cell.dt == 0.1
