"""The fast SimpleRNN/LSTM/GRU on JAX: the same function and gradients as Keras' own layers, the same weights (files
load in either), and Keras' own path wherever the compiled recurrence does not apply."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import keras
import numpy as np
import pytest

from rnnbench.kernels.build import kernel_status
from rnnbench.models.fast import fast_layer_classes, fast_path_reason

STOCK = {"simplernn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}
BATCH, STEPS, FEATURES = 29, 9, 5  # 29 samples: the kernels run blocks of 12, the last one partial


def pair(name: str, units: int, with_state: bool = False, **options: Any) -> tuple[keras.Model, keras.Model]:
    """A stock and a fast model, two stacked layers (``units``, all steps; then 16, the last), identical weights;
    ``with_state``: the first layer's last state (LSTM: and cell state) are outputs too."""
    models = []
    for classes in (STOCK, fast_layer_classes()):
        layer = classes[name]
        inputs = keras.Input((STEPS, FEATURES))
        hidden, *states = layer(units, return_sequences=True, return_state=True, name="first", **options)(inputs)
        outputs = layer(16, name="second", **options)(hidden)
        models.append(keras.Model(inputs, [hidden, outputs, *(states if with_state else [])]))
    stock, fast = models
    # Keras' own initialisation, with the biases made non-zero so that they are tested too.
    rng = np.random.default_rng(1)
    weights = [w if w.ndim == 2 and w.shape[0] > 2 else rng.normal(scale=0.1, size=w.shape).astype("float32")
               for w in stock.get_weights()]  # fmt: skip
    stock.set_weights(weights)
    fast.set_weights(weights)
    return stock, fast


def test_the_kernels_build_here():
    assert kernel_status().available, kernel_status().reason


@pytest.mark.parametrize("name", sorted(STOCK))
@pytest.mark.parametrize(
    ("input_gradient", "with_state"), [(True, False), (False, False), (True, True)],
    ids=["with-dx", "weights-only", "with-dx-and-state"],
)  # fmt: skip
def test_outputs_and_gradients_equal_the_stock_layers(name, input_gradient, with_state):
    # weights-only: the first layer's inputs are not differentiated, so its backward call skips dL/dx (the second
    # layer's inputs still are). with_state: the first layer's last states are outputs beside its whole sequence.
    # 13 units: gate widths that end in a partial panel of the kernel's matrix product; 16: whole panels of 256-bit
    # vectors (of 512-bit ones for the LSTM).
    stock, fast = pair(name, 13, with_state)
    assert fast_path_reason(fast.get_layer("first")) is None
    x = np.random.default_rng(2).normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    shapes = [(BATCH, STEPS, 13), (BATCH, 16)] + [(BATCH, 13)] * (len(fast.outputs) - 2)
    weights = [np.random.default_rng(3).normal(size=shape).astype("float32") for shape in shapes]

    def value_and_grads(model: keras.Model) -> tuple[list[np.ndarray], list[np.ndarray]]:
        def loss(variables: list[Any], inputs: Any) -> Any:
            non_trainable = [v.value for v in model.non_trainable_variables]
            outputs, _ = model.stateless_call(variables, non_trainable, inputs, training=True)
            # A mean over the batch, as a training loss is: gradients of order 1, so that 1e-5 compares float32
            # results (a sum over the batch scales them to about 25, where two summation orders differ by 1e-5).
            total = sum(jax.numpy.sum(o * w) for o, w in zip(outputs, weights, strict=True))
            return total / BATCH, outputs

        argnums = (0, 1) if input_gradient else 0
        (_, outputs), grads = jax.jit(jax.value_and_grad(loss, has_aux=True, argnums=argnums))(
            [v.value for v in model.trainable_variables], x
        )
        return [np.asarray(o) for o in outputs], [np.asarray(g) for g in jax.tree.leaves(grads)]

    stock_outputs, stock_grads = value_and_grads(stock)
    fast_outputs, fast_grads = value_and_grads(fast)
    for expected, got in zip(stock_outputs + stock_grads, fast_outputs + fast_grads, strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(STOCK))
def test_files_load_in_either_layer(name, tmp_path: Path):
    stock, fast = pair(name, 6)
    x = np.random.default_rng(4).normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    fast.save(tmp_path / "fast.keras")
    stock.save_weights(tmp_path / "stock.weights.h5")
    reloaded = keras.saving.load_model(tmp_path / "fast.keras")
    assert type(reloaded.get_layer("first")).__name__ == type(fast.get_layer("first")).__name__
    fresh_stock, _ = pair(name, 6)
    fresh_stock.load_weights(tmp_path / "stock.weights.h5")
    fresh_stock.set_weights(reloaded.get_weights())  # the fast layer's weights are the stock layer's, one for one
    for model in (reloaded, fresh_stock):
        for expected, got in zip(fast.predict(x, verbose=0), model.predict(x, verbose=0), strict=True):
            np.testing.assert_allclose(got, expected, atol=1e-6)
    assert [w.path for w in fast.weights] == [w.path for w in stock.weights]


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"dropout": 0.2}, "dropout inside the cell"),
        ({"go_backwards": True}, "go_backwards, unroll or stateful"),
        ({"activation": "relu"}, "activation is not tanh"),
    ],
)
def test_configurations_it_does_not_cover_take_keras_own_path(options, reason):
    stock, fast = pair("lstm", 5, **options)
    assert fast_path_reason(fast.get_layer("first")) == reason
    x = np.random.default_rng(5).normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    training = "dropout" not in options  # in training, each model draws its own dropout masks
    for expected, got in zip(stock(x, training=training), fast(x, training=training), strict=True):
        np.testing.assert_allclose(np.asarray(got), np.asarray(expected), atol=1e-6)


def test_masked_input_takes_keras_own_path():
    layer = fast_layer_classes()["gru"](4)
    assert fast_path_reason(layer, mask=np.ones((2, 3), bool)) == "masked input"


@pytest.mark.parametrize("name", sorted(STOCK))
def test_inference_equals_the_stock_layers(name):
    # Inference asks the kernels for less (no gates, the last cell state only); the outputs stay the same.
    stock, fast = pair(name, 13)
    assert fast_path_reason(fast.get_layer("first"), training=False) is None
    x = np.random.default_rng(6).normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    for expected, got in zip(stock(x, training=False), fast(x, training=False), strict=True):
        np.testing.assert_allclose(np.asarray(got), np.asarray(expected), atol=1e-5, rtol=1e-5)


def test_dropout_in_the_cell_only_matters_in_training():
    layer = fast_layer_classes()["lstm"](4, dropout=0.2)
    assert fast_path_reason(layer, training=True) == "dropout inside the cell"
    assert fast_path_reason(layer, training=False) is None


@pytest.mark.parametrize("name", sorted(STOCK))
@pytest.mark.parametrize("dtype", ["int32", "uint8"])
def test_integer_inputs_give_the_stock_layers_outputs(name, dtype):
    # As in Keras' own Bidirectional test, integer arrays go straight into the layer; the stock layers promote them.
    x = np.arange(BATCH * STEPS * FEATURES).reshape(BATCH, STEPS, FEATURES).astype(dtype) % 7
    outputs = []
    for classes in (STOCK, fast_layer_classes()):
        keras.utils.set_random_seed(0)
        layer = keras.layers.Bidirectional(classes[name](6, return_sequences=True))
        outputs.append(keras.ops.convert_to_numpy(layer(x)))
    stock, fast = outputs
    assert fast.dtype == np.float32
    np.testing.assert_allclose(fast, stock, rtol=1e-5, atol=1e-6)
