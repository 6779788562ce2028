import keras
import numpy as np
import pytest

from rnnbench.config import ModelSpec
from rnnbench.errors import RnnbenchError
from rnnbench.models import build_model, list_models, model_info

# Keras count_params() of the reference model (recurrent 64 -> BatchNormalization -> Dense(10)) on 28 x 28 inputs,
# BatchNormalization's moving mean and variance included.
REFERENCE_PARAMS = {"simplernn": (6858, 6730), "lstm": (24714, 24586), "gru": (18954, 18826)}


@pytest.mark.parametrize("name", sorted(REFERENCE_PARAMS))
def test_reference_parameter_counts(name):
    model = build_model(ModelSpec(name, 64), steps=28, features=28, classes=10)
    total, trainable = REFERENCE_PARAMS[name]
    assert model.count_params() == total
    assert sum(int(np.prod(weight.shape)) for weight in model.trainable_weights) == trainable


def test_head_is_batchnorm_then_dense_logits():
    model = build_model(ModelSpec("lstm", 16), steps=8, features=8, classes=5)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["LSTM", "BatchNormalization", "Dense"]
    assert model.layers[-1].activation is keras.activations.linear
    outputs = model(np.zeros((3, 8, 8), dtype="float32"))
    assert tuple(outputs.shape) == (3, 5)


def test_gru_resets_after_the_matrix_product():
    model = build_model(ModelSpec("gru", 8), steps=4, features=4, classes=2)
    assert model.layers[0].cell.reset_after


def test_registry_lists_the_seven_cells_and_rejects_unknown_names():
    assert [info.name for info in list_models()] == ["cornn", "gru", "indrnn", "lem", "lru", "lstm", "simplernn"]
    assert "Hochreiter" in model_info("lstm").paper
    with pytest.raises(RnnbenchError, match="unknown model 'transformer'; known: cornn, gru, indrnn, lem, lru, lstm"):
        model_info("transformer")


def test_a_saved_model_with_a_literature_cell_loads_in_a_new_process(tmp_path):
    import subprocess
    import sys

    model = build_model(ModelSpec("lru", 4), steps=5, features=3, classes=2)
    model.save(tmp_path / "m.keras")
    script = (
        "import sys, rnnbench; rnnbench.select_backend('jax')\n"
        "from rnnbench.models import register_keras_objects; register_keras_objects()\n"
        "import keras; model = keras.saving.load_model(sys.argv[1]); print(model.count_params())"
    )
    loaded = subprocess.run([sys.executable, "-c", script, str(tmp_path / "m.keras")], capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    assert int(loaded.stdout.split()[-1]) == model.count_params()
