"""Mamba's layer computes a whole sequence at once, its selective scan by each route (the compiled kernel, the
``lax.scan`` loop, the associative scan); each gives what Keras' loop over the cell's own step gives, outputs, final
states and the gradients of every weight, of the inputs and of the initial states, over the 784 steps of a
pixel-by-pixel image and from non-zero initial states."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

from rnnbench.kernels import jax_ops
from rnnbench.kernels.build import kernel_status
from rnnbench.models import linear_scan, model_info

BATCH, STEPS, FEATURES, UNITS = 2, 784, 2, 4
# d = 20 inner channels: a vector of 16 (or two of 8) and a remainder, both paths of the kernel.
OPTIONS = {"state_size": 3, "expansion": 5, "conv_width": 3}
TOLERANCE = 1e-5


def build_layer(return_sequences: bool) -> keras.layers.Layer:
    """The registered layer at its own initialisation (long memories: Delta from 1e-3 and A from -1), returning its
    final states too."""
    keras.utils.set_random_seed(3)
    layer = model_info("mamba").build_layer(UNITS, return_sequences=return_sequences, **OPTIONS)
    layer.return_state = True
    layer.build((BATCH, STEPS, FEATURES))
    return layer


def problem(layer: keras.layers.Layer) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Inputs, non-zero initial states, and the weights of a loss on every output and final state."""
    rng = np.random.default_rng(4)
    sequences = rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    states = [rng.normal(size=(BATCH, size)).astype("float32") for size in layer.cell.state_size]
    shapes = [(BATCH, STEPS, UNITS)] if layer.return_sequences else [(BATCH, UNITS)]
    weights = [rng.normal(size=shape).astype("float32") for shape in shapes + [state.shape for state in states]]
    return sequences, states, weights


@functools.cache
def outputs_and_gradients(route: str | None, return_sequences: bool) -> list[np.ndarray]:
    """[outputs, final states, and the gradients of a loss on them for every weight, the inputs and the initial
    states] by ``route``, the scan's route forced on the layer, or None for Keras' loop over the cell."""
    layer = build_layer(return_sequences)
    sequences, states, weights = problem(layer)
    # An all-true mask sends the layer through Keras' loop over its cell.
    mask = np.ones((BATCH, STEPS), dtype=bool) if route is None else None
    trainable = [variable.value for variable in layer.trainable_variables]

    def loss(values, sequences, states):
        results, _ = layer.stateless_call(values, [], sequences, initial_state=states, mask=mask)
        return sum(jnp.sum(w * value) for w, value in zip(weights, results, strict=True)), results

    original = linear_scan.scan_route
    linear_scan.scan_route = (lambda dtype="float32": route) if route else original
    try:
        gradient = jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2), has_aux=True))
        (_, results), (d_weights, d_inputs, d_states) = gradient(trainable, sequences, states)
    finally:
        linear_scan.scan_route = original
    return [np.asarray(value) for value in (*results, *d_weights, d_inputs, *d_states)]


def assert_close(found: list[np.ndarray], expected: list[np.ndarray], label: str) -> None:
    """Within TOLERANCE, relative to an array's largest value where that is above 1 (gradients summed over
    hundreds of steps)."""
    assert len(found) == len(expected)
    for index, (value, wanted) in enumerate(zip(found, expected, strict=True)):
        scale = max(1.0, float(np.max(np.abs(wanted))))
        np.testing.assert_allclose(value, wanted, rtol=TOLERANCE, atol=TOLERANCE * scale, err_msg=f"{label}: {index}")


@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("route", linear_scan.ROUTES)
def test_every_route_gives_the_cells_steps_outputs_and_gradients(route, return_sequences):
    if route == "kernel" and not kernel_status().available:
        pytest.skip(kernel_status().reason)
    expected = outputs_and_gradients(None, return_sequences)
    assert all(np.all(np.isfinite(value)) for value in expected)
    assert np.max(np.abs(expected[-1])) > 0 and np.max(np.abs(expected[-2])) > 0  # the initial states matter
    assert_close(outputs_and_gradients(route, return_sequences), expected, route)


@pytest.mark.parametrize("route", linear_scan.ROUTES)
@pytest.mark.parametrize("go_backwards", [False, True])
def test_the_layer_reads_a_sequence_as_keras_steps_its_cell(route, go_backwards, monkeypatch):
    # Bidirectional layers read backwards; Keras returns a backward layer's outputs in the order it reads.
    if route == "kernel" and not kernel_status().available:
        pytest.skip(kernel_status().reason)
    monkeypatch.setattr(linear_scan, "scan_route", lambda dtype="float32": route)
    layer = model_info("mamba").build_layer(UNITS, return_sequences=True)
    layer.go_backwards = go_backwards
    sequences = np.random.default_rng(7).normal(size=(BATCH, 30, FEATURES)).astype("float32")
    found = keras.ops.convert_to_numpy(layer(sequences))
    stock = keras.layers.RNN(layer.cell, return_sequences=True, go_backwards=go_backwards)
    np.testing.assert_allclose(found, keras.ops.convert_to_numpy(stock(sequences)), rtol=TOLERANCE, atol=TOLERANCE)


def test_the_initialisation_is_the_official_one():
    cell = model_info("mamba").build_layer(64).cell
    cell.build((None, 28))
    a_log, dt_bias = (keras.ops.convert_to_numpy(weight) for weight in (cell.a_log, cell.dt_bias))
    assert a_log.shape == (128, 16) and np.allclose(np.exp(a_log), np.arange(1, 17)[None, :].repeat(128, 0))
    step_sizes = np.log1p(np.exp(dt_bias))
    assert step_sizes.min() >= 1e-3 * (1 - 1e-5) and step_sizes.max() <= 1e-1 * (1 + 1e-5)
    assert np.all(keras.ops.convert_to_numpy(cell.skip) == 1.0)
    assert cell.rank == 4 and cell.x_kernel.shape == (128, 4 + 32) and cell.dt_kernel.shape == (4, 128)
    assert np.max(np.abs(keras.ops.convert_to_numpy(cell.dt_kernel))) <= 0.5


@pytest.mark.skipif(not kernel_status().available, reason=kernel_status().reason)
def test_the_kernel_refuses_arrays_that_do_not_fit_together():
    delta = x = jnp.ones((BATCH, 5, 6))
    b = c = jnp.ones((BATCH, 5, 3))
    a_of_another_state_size = jnp.ones((6, 4))
    with pytest.raises(Exception, match=r"Delta and x must be \[B\]\[T\]\[d\], B and C \[B\]\[T\]\[N\]"):
        scan = jax_ops.selective_scan(delta, x, b, c, a_of_another_state_size, jnp.ones(6), jnp.ones((BATCH, 6, 3)))
        jax.block_until_ready(scan)


@pytest.mark.skipif(not kernel_status().available, reason=kernel_status().reason)
def test_the_compiled_convolution_refuses_a_head_of_another_width():
    x, w, bias = jnp.ones((BATCH, 5, 6)), jnp.ones((4, 6)), jnp.ones(6)
    with pytest.raises(Exception, match=r"x must be \[B\]\[T\]\[d\], head \[B\]\[K-1\]\[d\], w \[K\]\[d\]"):
        jax.block_until_ready(jax_ops.causal_conv(x, jnp.ones((BATCH, 2, 6)), w, bias))
