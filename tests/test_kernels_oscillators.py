"""coRNN's and LEM's compiled sequences against Keras' own loop over their cells: the same layer, the same weights,
the same outputs and gradients (of every weight, the inputs and both initial states), over the 784 steps of a
pixel-by-pixel image, from non-zero initial states, forwards and backwards, returning every step or the last, with
options other than the defaults. Within 1e-5, or 1e-5 of an array's largest value where that exceeds 1."""

from __future__ import annotations

import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

from rnnbench.kernels.build import kernel_status
from rnnbench.models import cornn, fast, lem

BATCH, STEPS, FEATURES, UNITS = 3, 784, 2, 9
TOLERANCE = 1e-5
CELLS = {"cornn": (cornn, {"dt": 0.05, "gamma": 2.0, "epsilon": 3.0}), "lem": (lem, {"dt": 0.1})}
needs_kernels = pytest.mark.skipif(
    keras.backend.backend() != "jax" or not kernel_status().available, reason="needs JAX and the compiled kernels"
)


def layer_and_data(
    cell_name: str, return_sequences: bool, go_backwards: bool, batch: int = BATCH, steps: int = STEPS
) -> tuple[object, list[np.ndarray]]:
    """A built layer of the cell with its initial weights and the options of CELLS, and x (batch, steps, features),
    y0, z0 (batch, units) of both signs, the weights of a loss on the outputs and of one on the last z. LEM's dt is
    small enough for y0 to reach the last step: it fades by 1 - dt sigmoid(.) a step, at dt = 0.4 to 0 in float32 over
    784 steps."""
    module, options = CELLS[cell_name]
    keras.utils.set_random_seed(3)
    cell, layer_class = module.keras_classes()
    layer = layer_class(cell(UNITS, **options), return_sequences=return_sequences, go_backwards=go_backwards)
    layer.build((batch, steps, FEATURES))
    rng = np.random.default_rng(7)
    x = rng.normal(size=(batch, steps, FEATURES)).astype("float32")
    y0, z0 = rng.normal(size=(2, batch, UNITS)).astype("float32")
    shape = (batch, steps, UNITS) if return_sequences else (batch, UNITS)
    weights = rng.normal(size=shape).astype("float32") / np.prod(shape[:-1])
    return layer, [x, y0, z0, weights, rng.normal(size=(batch, UNITS)).astype("float32")]


def outputs_and_gradients(layer: object, data: list[np.ndarray]) -> list[np.ndarray]:
    """[outputs, last y, last z, then the loss's gradient by each trainable weight, x, y0 and z0]."""
    x, y0, z0, weights, z_weights = data

    def loss(trainable: list[jax.Array], x: jax.Array, y0: jax.Array, z0: jax.Array) -> tuple[jax.Array, tuple]:
        (outputs, y_last, z_last), _ = layer.stateless_call(trainable, [], x, initial_state=[y0, z0])
        return jnp.sum(weights * outputs) + jnp.sum(z_weights * z_last), (outputs, y_last, z_last)

    trainable = [variable.value for variable in layer.trainable_variables]
    grads, results = jax.grad(loss, argnums=(0, 1, 2, 3), has_aux=True)(trainable, x, y0, z0)
    return [np.asarray(value) for value in (*results, *grads[0], *grads[1:])]


@needs_kernels
@pytest.mark.parametrize("cell_name", sorted(CELLS))
@pytest.mark.parametrize(("return_sequences", "go_backwards"), [(True, False), (False, False), (True, True)])
def test_the_kernel_gives_what_keras_loop_gives(cell_name: str, return_sequences: bool, go_backwards: bool):
    assert_the_kernel_agrees(*layer_and_data(cell_name, return_sequences, go_backwards))


@needs_kernels
@pytest.mark.parametrize("cell_name", sorted(CELLS))
def test_every_block_of_a_batch_agrees(cell_name: str):
    """A batch of 26 runs in blocks of 12, 12 and 2 samples, each from its own offset in every array."""
    assert_the_kernel_agrees(*layer_and_data(cell_name, True, False, batch=26, steps=30))


def assert_the_kernel_agrees(layer: object, data: list[np.ndarray]) -> None:
    """The layer's outputs, states and gradients by the kernel are those by Keras' loop."""
    layer.return_state = True
    assert fast.takes_sequence_kernel(layer)
    compiled = outputs_and_gradients(layer, data)
    with fast.stock_recurrence():
        assert not fast.takes_sequence_kernel(layer)
        reference = outputs_and_gradients(layer, data)
    names = ["outputs", "last y", "last z", *(v.name for v in layer.trainable_variables), "dx", "dy0", "dz0"]
    for name, ours, theirs in zip(names, compiled, reference, strict=True):
        scale = np.abs(theirs).max()
        assert scale > 0, name  # every comparison means something
        # Gradients summed over thousands of steps and samples exceed 1; float32 sums in another order differ in their
        # last digits, so those are compared relative to their size.
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOLERANCE * max(1.0, scale), err_msg=name)


@needs_kernels
@pytest.mark.parametrize("cell_name", sorted(CELLS))
def test_inference_gives_the_states_training_does(cell_name: str):
    """Outside differentiation the kernel keeps no activations and only z's last step; the results are the same."""
    layer, (x, y0, z0, *_) = layer_and_data(cell_name, True, False)
    layer.return_state = True
    inferred = layer(x, initial_state=[y0, z0])
    with fast.stock_recurrence():
        reference = layer(x, initial_state=[y0, z0])
    for ours, theirs in zip(inferred, reference, strict=True):
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=0, atol=TOLERANCE)


@needs_kernels
@pytest.mark.parametrize("cell_name", sorted(CELLS))
def test_a_file_saved_with_keras_rnn_loads_and_gives_what_the_new_layer_gives(cell_name: str, tmp_path):
    """Models saved before the cells had layers of their own hold a plain keras.layers.RNN over the cell: such a file
    still loads (into Keras' loop) and computes what the compiled layer computes with the same weights."""
    layer, (x, *_) = layer_and_data(cell_name, True, False)
    module, options = CELLS[cell_name]
    cell, _ = module.keras_classes()
    inputs = keras.Input((STEPS, FEATURES))
    old = keras.Model(inputs, keras.layers.RNN(cell(UNITS, **options), return_sequences=True)(inputs))
    old.layers[-1].set_weights(layer.get_weights())
    old.save(tmp_path / "old.keras")
    loaded = keras.saving.load_model(tmp_path / "old.keras")
    assert type(loaded.layers[-1]) is keras.layers.RNN
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(layer(x)), rtol=0, atol=TOLERANCE)


def test_rnnbench_fast_layers_0_keeps_keras_loop():
    code = (
        "import rnnbench; rnnbench.select_backend('jax')\n"
        "from rnnbench.models import cornn, fast, lem\n"
        "for module in (cornn, lem):\n"
        "    cell, layer = module.keras_classes()\n"
        "    print(fast.takes_sequence_kernel(layer(cell(4))))"
    )
    env = {**os.environ, "RNNBENCH_FAST_LAYERS": "0"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.split()[-2:] == ["False", "False"]
