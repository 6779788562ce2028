"""LRU's whole-sequence layer against Keras' own loop over its cell: on every route (the compiled scan, the loop over
the steps, the associative scan), the same outputs, final states and gradients (of every weight, the inputs and the
initial states) over the 784 steps of a pixel-by-pixel image, from non-zero initial states, forwards and backwards,
returning every step or the last. Within 1e-5, or 1e-5 of an array's largest value where that exceeds 1. The
``parallel`` route is called here on JAX's CPU; the model contract runs it on TensorFlow and torch."""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

from rnnbench.kernels.build import kernel_status
from rnnbench.models import linear_scan, lru

BATCH, STEPS, FEATURES, UNITS = 3, 784, 2, 5
TOLERANCE = 1e-5
CASES = [(True, False), (False, False), (True, True)]  # (return_sequences, go_backwards)
needs_kernels = pytest.mark.skipif(not kernel_status().available, reason=kernel_status().reason)


def layer_and_data(return_sequences: bool, go_backwards: bool) -> tuple[Any, list[np.ndarray]]:
    """A built LRU layer with its initial weights, x (batch, steps, features), [Re h0, Im h0] (batch, units) of both
    signs, and the weights of a loss on the outputs and on the final states."""
    keras.utils.set_random_seed(3)
    cell, layer_class = lru.keras_classes()
    layer = layer_class(cell(UNITS), return_sequences=return_sequences, go_backwards=go_backwards)
    layer.build((BATCH, STEPS, FEATURES))
    rng = np.random.default_rng(7)
    x = rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    h0_re, h0_im = rng.normal(size=(2, BATCH, UNITS)).astype("float32")
    shape = (BATCH, STEPS, UNITS) if return_sequences else (BATCH, UNITS)
    output_weights = rng.normal(size=shape).astype("float32") / np.prod(shape[:-1])
    state_weights = rng.normal(size=(2, BATCH, UNITS)).astype("float32")
    return layer, [x, h0_re, h0_im, output_weights, state_weights]


def differentiated(run: Any, layer: Any, data: list[np.ndarray]) -> list[np.ndarray]:
    """[output, Re h_T, Im h_T, then the gradients of a loss on them by each trainable weight, x, Re h0 and Im h0],
    where ``run(trainable, x, h0)`` returns (output, [Re h_T, Im h_T])."""
    x, h0_re, h0_im, output_weights, state_weights = data

    def loss(trainable: list[jax.Array], x: jax.Array, h0: list[jax.Array]) -> tuple[jax.Array, list[jax.Array]]:
        output, states = run(trainable, x, h0)
        total = jnp.sum(output_weights * output) + sum(
            jnp.sum(w * s) for w, s in zip(state_weights, states, strict=True)
        )
        return total, [output, *states]

    trainable = [variable.value for variable in layer.trainable_variables]
    grads, values = jax.grad(loss, argnums=(0, 1, 2), has_aux=True)(trainable, x, [h0_re, h0_im])
    return [np.asarray(value) for value in (*values, *grads[0], grads[1], *grads[2])]


def by_route(layer: Any, route: str) -> Any:
    """(trainable, x, h0) -> (output, states) of ``layer``'s whole sequence by ``route``."""

    def run(trainable: list[jax.Array], x: jax.Array, h0: list[jax.Array]) -> tuple[jax.Array, list[jax.Array]]:
        with keras.StatelessScope(state_mapping=list(zip(layer.trainable_variables, trainable, strict=True))):
            last_output, outputs, states = lru.whole_sequence(layer, x, h0, route)
        return outputs if layer.return_sequences else last_output, states

    return run


def by_keras_loop(layer: Any) -> Any:
    """(trainable, x, h0) -> (output, states) of Keras' own loop over ``layer``'s cell (the same weights)."""
    reference = keras.layers.RNN(
        layer.cell, return_sequences=layer.return_sequences, go_backwards=layer.go_backwards, return_state=True
    )
    reference.build((BATCH, STEPS, FEATURES))
    assert not isinstance(reference, type(layer))
    assert [v.path for v in reference.trainable_variables] == [v.path for v in layer.trainable_variables]

    def run(trainable: list[jax.Array], x: jax.Array, h0: list[jax.Array]) -> tuple[jax.Array, list[jax.Array]]:
        (output, *states), _ = reference.stateless_call(trainable, [], x, initial_state=h0)
        return output, states

    return run


@functools.cache
def reference(return_sequences: bool, go_backwards: bool) -> list[np.ndarray]:
    layer, data = layer_and_data(return_sequences, go_backwards)
    return differentiated(by_keras_loop(layer), layer, data)


def assert_agree(found: list[np.ndarray], expected: list[np.ndarray], layer: Any) -> None:
    names = ["output", "Re h_T", "Im h_T", *(v.name for v in layer.trainable_variables), "dx", "dRe h0", "dIm h0"]
    for name, ours, theirs in zip(names, found, expected, strict=True):
        scale = np.abs(theirs).max()
        assert scale > 0, name  # every comparison means something
        # Gradients summed over thousands of steps reach hundreds; float32 sums in another order differ in their
        # last digits, so those are compared relative to their size.
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOLERANCE * max(1.0, scale), err_msg=name)


@pytest.mark.parametrize("route", ["loop", "parallel", pytest.param("kernel", marks=needs_kernels)])
@pytest.mark.parametrize(("return_sequences", "go_backwards"), CASES)
def test_every_route_gives_what_keras_loop_gives(route: str, return_sequences: bool, go_backwards: bool):
    layer, data = layer_and_data(return_sequences, go_backwards)
    found = differentiated(by_route(layer, route), layer, data)
    assert_agree(found, reference(return_sequences, go_backwards), layer)


@needs_kernels
def test_the_layer_takes_the_compiled_scan_on_jax_cpu_and_the_cell_for_masked_inputs():
    layer, (x, h0_re, h0_im, *_) = layer_and_data(True, False)
    assert linear_scan.scan_route(layer.compute_dtype) == "kernel"
    whole = np.asarray(layer(x, initial_state=[h0_re, h0_im]))
    kernel = np.asarray(lru.whole_sequence(layer, x, [h0_re, h0_im], "kernel")[1])
    np.testing.assert_array_equal(whole, kernel)
    # A mask that drops the last steps of one sample: Keras' own loop over the cell, as a plain RNN layer runs it.
    mask = np.ones((BATCH, STEPS), bool)
    mask[0, -10:] = False
    masked = np.asarray(layer(x, initial_state=[h0_re, h0_im], mask=mask))
    plain = keras.layers.RNN(layer.cell, return_sequences=True)
    np.testing.assert_array_equal(masked, np.asarray(plain(x, initial_state=[h0_re, h0_im], mask=mask)))
    assert not np.allclose(masked[0, -10:], whole[0, -10:])
    np.testing.assert_allclose(masked[1:], whole[1:], rtol=0, atol=TOLERANCE)


def test_a_model_saved_with_the_cell_in_keras_rnn_loads_and_agrees(tmp_path):
    """Models saved before the layer had a class of its own held the cell in ``keras.layers.RNN``: they load as they
    were, and their weights give the same outputs in the layer."""
    cell, layer_class = lru.keras_classes()
    keras.utils.set_random_seed(1)
    before = keras.Sequential([keras.Input((STEPS, FEATURES)), keras.layers.RNN(cell(UNITS), name="recurrent")])
    before.save(tmp_path / "before.keras")
    loaded = keras.saving.load_model(tmp_path / "before.keras")
    after = keras.Sequential([keras.Input((STEPS, FEATURES)), layer_class(cell(UNITS), name="recurrent")])
    after.set_weights(loaded.get_weights())
    x = np.random.default_rng(2).normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    expected = np.asarray(before(x))
    np.testing.assert_array_equal(np.asarray(loaded(x)), expected)
    np.testing.assert_allclose(np.asarray(after(x)), expected, rtol=0, atol=TOLERANCE)
