"""The linear scan h_t = a_t * h_{t-1} + b_t in one operation over a whole sequence: the compiled kernel, the
``lax.scan`` loop and the associative scan in log space each give what a plain step-by-step loop gives, outputs and
gradients (of a, b and h0), over the 784 steps of a pixel-by-pixel image and from a non-zero initial state."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rnnbench.kernels import jax_ops
from rnnbench.kernels.build import kernel_status
from rnnbench.models import linear_scan

BATCH, STEPS, UNITS = 3, 784, 9
TOLERANCE = 1e-5
needs_kernels = pytest.mark.skipif(not kernel_status().available, reason=kernel_status().reason)


def coefficients() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """a, b (batch, steps, units) as minGRU makes them (a = 1 - z, b = z g(h~) > 0), h0 of both signs, and the
    weights of a loss on every step."""
    rng = np.random.default_rng(5)
    k, candidate = rng.normal(size=(2, BATCH, STEPS, UNITS))
    z = 1.0 / (1.0 + np.exp(-k))
    g = np.where(candidate >= 0, candidate + 0.5, 1.0 / (1.0 + np.exp(-candidate)))
    h0, weights = rng.normal(size=(BATCH, UNITS)), rng.normal(size=(BATCH, STEPS, UNITS))
    return tuple(value.astype("float32") for value in (1.0 - z, z * g, h0, weights))  # type: ignore[return-value]


def step_by_step(a: np.ndarray, b: np.ndarray, h0: np.ndarray, weights: np.ndarray) -> list[np.ndarray]:
    """The recurrence as written, one step at a time in float64, and the gradients of sum(weights * hseq) with
    respect to a, b and h0 by the chain rule, one step at a time backwards: [hseq, da, db, dh0]."""
    a, b, h0, weights = (value.astype("float64") for value in (a, b, h0, weights))
    hseq = np.empty_like(a)
    h = h0
    for t in range(a.shape[1]):
        h = hseq[:, t] = a[:, t] * h + b[:, t]
    previous = np.concatenate([h0[:, None], hseq[:, :-1]], axis=1)
    da, db, carried = np.empty_like(a), np.empty_like(a), np.zeros_like(h0)
    for t in reversed(range(a.shape[1])):
        db[:, t] = weights[:, t] + carried  # dL/dh_t: from the loss, and through h_{t+1}
        da[:, t] = db[:, t] * previous[:, t]
        carried = a[:, t] * db[:, t]
    return [hseq, da, db, carried]


def by_route(route: str):
    """The scan that ``route`` takes, as a function of (a, b, h0)."""
    return jax.jit(lambda a, b, h0: linear_scan.linear_scan(a, b, h0, route))


def outputs_and_gradients(scan, a, b, h0, weights) -> list[np.ndarray]:
    """[hseq, and the gradients of sum(weights * hseq) with respect to a, b and h0] through ``scan``."""
    loss = lambda *args: jnp.sum(weights * scan(*args))  # noqa: E731
    return [np.asarray(value) for value in (scan(a, b, h0), *jax.grad(loss, argnums=(0, 1, 2))(a, b, h0))]


def assert_close(found: list[np.ndarray], expected: list[np.ndarray], label: str) -> None:
    for name, value, wanted in zip(("hseq", "da", "db", "dh0"), found, expected, strict=True):
        np.testing.assert_allclose(value, wanted, rtol=TOLERANCE, atol=TOLERANCE, err_msg=f"{label}: {name}")


def test_the_reference_gradients_are_those_of_automatic_differentiation():
    # On the first 40 steps: a Python loop of 784 steps under jax.grad takes half a minute here.
    a, b, h0, weights = (value[:, :40] if value.ndim == 3 else value for value in coefficients())

    def loop(a: jax.Array, b: jax.Array, h0: jax.Array) -> jax.Array:
        h, states = h0, []
        for t in range(a.shape[1]):
            h = a[:, t] * h + b[:, t]
            states.append(h)
        return jnp.stack(states, axis=1)

    assert_close(step_by_step(a, b, h0, weights), outputs_and_gradients(loop, a, b, h0, weights), "reference")


@pytest.mark.parametrize("route", linear_scan.ROUTES)
def test_every_route_gives_the_loops_outputs_and_gradients(route):
    if route == "kernel" and not jax_ops.linear_scan_available():
        pytest.skip(kernel_status().reason)
    a, b, h0, weights = coefficients()
    assert_close(outputs_and_gradients(by_route(route), a, b, h0, weights), step_by_step(a, b, h0, weights), route)


def test_log_space_takes_a_zero_initial_state():
    # log 0 is -inf: the initial state enters the log-space scan linearly, so h0 = 0 gives finite gradients.
    a, b, _, weights = coefficients()
    h0 = np.zeros((BATCH, UNITS), np.float32)
    found = outputs_and_gradients(by_route("parallel"), a, b, h0, weights)
    assert_close(found, step_by_step(a, b, h0, weights), "parallel from 0")


@needs_kernels
def test_the_kernel_refuses_a_state_gradient_of_another_shape():
    assert jax_ops.linear_scan_available()
    a, b, h0, _ = (jnp.asarray(value) for value in coefficients())
    hseq = jax_ops.linear_scan(a, b, h0)
    wrong = jnp.zeros((BATCH, 2, UNITS))
    backward = jax_ops._call("RnnbenchLinearScanBackward", a.shape, a.shape, h0.shape)
    with pytest.raises(Exception, match=r"dL/dh must be \[B\]\[T\]\[H\] or \[B\]\[1\]\[H\]"):
        jax.block_until_ready(backward(wrong, a, hseq, h0))


@needs_kernels
def test_the_kernel_refuses_coefficients_of_different_shapes():
    assert jax_ops.linear_scan_available()
    a, b, h0, _ = (jnp.asarray(value) for value in coefficients())
    with pytest.raises(Exception, match=r"a and b must be \[B\]\[T\]\[H\] and h0 \[B\]\[H\]"):
        jax.block_until_ready(jax_ops.linear_scan(a, b[:, 1:], h0))


def layer_outputs_and_gradients(layer, sequences: np.ndarray, weights: np.ndarray) -> list[np.ndarray]:
    """[outputs, and the gradient of sum(weights * outputs) for each trainable weight of ``layer``]."""
    trainable = [variable.value for variable in layer.trainable_variables]

    def loss(values: list[jax.Array]) -> tuple[jax.Array, jax.Array]:
        outputs, _ = layer.stateless_call(values, [], sequences)
        return jnp.sum(weights * outputs), outputs

    (_, outputs), gradients = jax.jit(jax.value_and_grad(loss, has_aux=True))(trainable)
    return [np.asarray(outputs), *(np.asarray(gradient) for gradient in gradients)]


@needs_kernels
@pytest.mark.parametrize("last_only", [False, True])
@pytest.mark.parametrize("name", ["mingru", "minlstm"])
@pytest.mark.parametrize("features", [1, 4])
def test_the_cells_compiled_sequences_give_the_loops_outputs_and_gradients(name, last_only, features):
    """The projection and the gates computed inside the kernel, against the loop over the cell's own gates from x W + b:
    outputs, and gradients of x, W, b and a non-zero h0, from every step or (a layer's last state) the last one alone,
    over 784 steps."""
    assert jax_ops.linear_scan_available()
    cell, gates = identity_cell(name)
    rng = np.random.default_rng(8)
    x = rng.normal(size=(BATCH, STEPS, features)).astype("float32")
    w = rng.normal(scale=2.0, size=(features, gates * UNITS)).astype("float32")
    b, h0 = rng.normal(size=(gates * UNITS,)).astype("float32"), rng.normal(size=(BATCH, UNITS)).astype("float32")
    weights = rng.normal(size=(BATCH, 1 if last_only else STEPS, UNITS)).astype("float32")

    def loop(x: jax.Array, w: jax.Array, b: jax.Array, h0: jax.Array) -> jax.Array:
        hseq = linear_scan.scan_step_by_step(*cell.coefficients(x @ w + b), h0)
        return hseq[:, -1:] if last_only else hseq

    def compiled(x: jax.Array, w: jax.Array, b: jax.Array, h0: jax.Array) -> jax.Array:
        hseq, last = jax_ops.minimal_sequence(name, x, w, b, h0)
        return last[:, None] if last_only else hseq

    found, expected = ([np.asarray(value) for value in (jax.jit(form)(x, w, b, h0), *jax.jit(jax.grad(
        lambda *args, form=form: jnp.sum(weights * form(*args)), argnums=(0, 1, 2, 3)))(x, w, b, h0))]
        for form in (compiled, loop))  # fmt: skip
    for label, value, wanted in zip(("hseq", "dx", "dW", "db", "dh0"), found, expected, strict=True):
        np.testing.assert_allclose(value, wanted, rtol=TOLERANCE, atol=sum_tolerance(wanted), err_msg=label)


def sum_tolerance(sums: np.ndarray) -> float:
    """1e-5, relative to the largest of ``sums`` where they exceed 1: dW sums thousands of (sample, step) terms in
    float32, and two orders of summation differ by more than 1e-5 at the scale of tens (at 4 features, the kernel and
    XLA's loop each lie about 2e-5 from the float64 sum, of elements up to 40)."""
    return TOLERANCE * max(1.0, float(np.abs(sums).max()))


def identity_cell(name: str) -> tuple[object, int]:
    """The cell ``name`` whose own projection passes its inputs through (W = I, b = 0), and its gates per unit: its
    ``coefficients`` then read pre-activations."""
    from rnnbench.models import model_info

    gates = jax_ops.MINIMAL_CELLS[name][2]
    cell = model_info(name).build_layer(UNITS).cell
    cell.build((None, gates * UNITS))
    cell.kernel.assign(np.eye(gates * UNITS, dtype=np.float32))
    cell.bias.assign(np.zeros(gates * UNITS, np.float32))
    return cell, gates


@needs_kernels
def test_the_compiled_sequence_skips_the_input_gradient_nothing_asks_for():
    # A first layer's inputs are not differentiated: the backward call then writes no dL/dx, and W, b, h0 still
    # get theirs.
    cell, gates = identity_cell("mingru")
    rng = np.random.default_rng(9)
    x = rng.normal(size=(BATCH, STEPS, 1)).astype("float32")
    w, b = rng.normal(size=(2, 1, gates * UNITS)).astype("float32")
    h0 = rng.normal(size=(BATCH, UNITS)).astype("float32")

    def compiled(w: jax.Array, b: jax.Array, h0: jax.Array) -> jax.Array:
        return jnp.sum(jax_ops.minimal_sequence("mingru", x, w, b[0], h0)[1])

    def loop(w: jax.Array, b: jax.Array, h0: jax.Array) -> jax.Array:
        return jnp.sum(linear_scan.scan_step_by_step(*cell.coefficients(x @ w + b[0]), h0)[:, -1])

    found, expected = (jax.jit(jax.grad(form, argnums=(0, 1, 2)))(w, b, h0) for form in (compiled, loop))
    for label, value, wanted in zip(("dW", "db", "dh0"), found, expected, strict=True):
        np.testing.assert_allclose(value, wanted, rtol=TOLERANCE, atol=TOLERANCE, err_msg=label)


@needs_kernels
def test_the_compiled_sequence_refuses_a_bias_of_another_width():
    assert jax_ops.linear_scan_available()
    x, h0 = jnp.zeros((BATCH, STEPS, 1)), jnp.zeros((BATCH, UNITS))
    with pytest.raises(Exception, match=r"b must be \[G\*H\]"):
        jax.block_until_ready(jax_ops.minimal_sequence("minlstm", x, jnp.zeros((1, 3 * UNITS)), jnp.zeros(UNITS), h0))


@pytest.mark.parametrize("name", ["mingru", "minlstm"])
def test_the_cells_train_alike_on_every_route(name, monkeypatch):
    """Log space through the associative scan (as the paper trains), the kernel and the loop: the same outputs and
    weight gradients over 784 pixel steps."""
    import keras

    from rnnbench.models import model_info

    rng = np.random.default_rng(6)
    keras.utils.set_random_seed(0)
    layer = model_info(name).build_layer(UNITS, return_sequences=True)
    layer.build((BATCH, STEPS, 1))
    sequences = rng.random((BATCH, STEPS, 1), dtype=np.float32)
    weights = rng.normal(size=(BATCH, STEPS, UNITS)).astype("float32")
    found = {}
    for route in linear_scan.ROUTES:
        if route == "kernel" and not jax_ops.linear_scan_available():
            continue
        monkeypatch.setattr(linear_scan, "scan_route", lambda dtype="float32", route=route: route)
        found[route] = layer_outputs_and_gradients(layer, sequences, weights)
    for route, values in found.items():
        for value, expected in zip(values, found["parallel"], strict=True):
            np.testing.assert_allclose(value, expected, rtol=TOLERANCE, atol=TOLERANCE, err_msg=route)


@pytest.mark.parametrize("route", linear_scan.ROUTES)
@pytest.mark.parametrize("go_backwards", [False, True])
def test_the_layer_reads_a_sequence_as_keras_steps_its_cell(route, go_backwards, monkeypatch):
    # Bidirectional layers read backwards; Keras returns a backward layer's outputs in the order it reads.
    import keras

    from rnnbench.models import model_info

    if route == "kernel" and not jax_ops.linear_scan_available():
        pytest.skip(kernel_status().reason)
    monkeypatch.setattr(linear_scan, "scan_route", lambda dtype="float32": route)
    layer = model_info("minlstm").build_layer(UNITS, return_sequences=True)
    layer.go_backwards = go_backwards
    sequences = np.random.default_rng(7).normal(size=(BATCH, 30, 2)).astype("float32")
    found = keras.ops.convert_to_numpy(layer(sequences))
    stock = keras.layers.RNN(layer.cell, return_sequences=True, go_backwards=go_backwards)
    np.testing.assert_allclose(found, keras.ops.convert_to_numpy(stock(sequences)), rtol=TOLERANCE, atol=TOLERANCE)
