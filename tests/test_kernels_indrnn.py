"""IndRNN's compiled sequence against Keras' own loop over its cell: the same layer, the same weights, the same
outputs and gradients (of every weight, the inputs and the initial state), over the 784 steps of a pixel-by-pixel
image, from a non-zero initial state, forwards and backwards, returning every step or the last. Within 1e-5, or
1e-5 of an array's largest value where that exceeds 1."""

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
from rnnbench.models import fast, indrnn

BATCH, STEPS, FEATURES, UNITS = 3, 784, 2, 9
TOLERANCE = 1e-5
needs_kernels = pytest.mark.skipif(
    keras.backend.backend() != "jax" or not kernel_status().available, reason="needs JAX and the compiled kernels"
)


def layer_and_data(return_sequences: bool, go_backwards: bool) -> tuple[object, list[np.ndarray]]:
    """A built IndRNN layer with its initial weights but a non-zero bias, and x (batch, steps, features), h0 (batch,
    units) of both signs, the weights of a loss on the outputs."""
    keras.utils.set_random_seed(3)
    cell, layer_class = indrnn.keras_classes()
    layer = layer_class(cell(UNITS), return_sequences=return_sequences, go_backwards=go_backwards)
    layer.build((BATCH, STEPS, FEATURES))
    rng = np.random.default_rng(7)
    layer.cell.bias.assign(rng.normal(0, 0.1, UNITS).astype("float32"))
    x = rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    h0 = rng.normal(size=(BATCH, UNITS)).astype("float32")
    shape = (BATCH, STEPS, UNITS) if return_sequences else (BATCH, UNITS)
    return layer, [x, h0, rng.normal(size=shape).astype("float32") / np.prod(shape[:-1])]


def outputs_and_gradients(layer: object, x: np.ndarray, h0: np.ndarray, weights: np.ndarray) -> list[np.ndarray]:
    """[outputs, last state, then d(sum(weights * outputs)) by each trainable weight, x and h0]."""

    def loss(trainable: list[jax.Array], x: jax.Array, h0: jax.Array) -> tuple[jax.Array, tuple[jax.Array, ...]]:
        (outputs, last), _ = layer.stateless_call(trainable, [], x, initial_state=[h0])
        return jnp.sum(weights * outputs), (outputs, last)

    trainable = [variable.value for variable in layer.trainable_variables]
    grads, (outputs, last) = jax.grad(loss, argnums=(0, 1, 2), has_aux=True)(trainable, x, h0)
    return [np.asarray(value) for value in (outputs, last, *grads[0], grads[1], grads[2])]


@needs_kernels
@pytest.mark.parametrize(("return_sequences", "go_backwards"), [(True, False), (False, False), (True, True)])
def test_the_kernel_gives_what_keras_loop_gives(return_sequences: bool, go_backwards: bool):
    layer, (x, h0, weights) = layer_and_data(return_sequences, go_backwards)
    layer.return_state = True
    assert indrnn.takes_kernel(layer)
    compiled = outputs_and_gradients(layer, x, h0, weights)
    with fast.stock_recurrence():
        assert not indrnn.takes_kernel(layer)
        reference = outputs_and_gradients(layer, x, h0, weights)
    names = ["outputs", "last state", *(v.name for v in layer.trainable_variables), "dx", "dh0"]
    for name, ours, theirs in zip(names, compiled, reference, strict=True):
        scale = np.abs(theirs).max()
        assert scale > 0, name  # every comparison means something
        # Gradients summed over thousands of steps and samples reach hundreds; float32 sums in another order differ
        # in their last digits, so those are compared relative to their size.
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOLERANCE * max(1.0, scale), err_msg=name)


def test_rnnbench_fast_layers_0_keeps_keras_loop():
    code = (
        "import rnnbench; rnnbench.select_backend('jax')\n"
        "from rnnbench.models import indrnn\n"
        "cell, layer = indrnn.keras_classes()\n"
        "print(indrnn.takes_kernel(layer(cell(4))))"
    )
    env = {**os.environ, "RNNBENCH_FAST_LAYERS": "0"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.split()[-1] == "False"
