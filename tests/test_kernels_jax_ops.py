"""The backward calls of the recurrences: dL/dh may come for every step or, when a layer returns only its last
state, for the last step alone; both give the same gradients, and any other shape is refused."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rnnbench.kernels import jax_ops
from rnnbench.kernels.build import kernel_status

BATCH, STEPS, FEATURES, UNITS = 29, 7, 5, 13
CELLS = {"simplernn": 1, "lstm": 4, "gru": 3}  # gates per unit

pytestmark = pytest.mark.skipif(not kernel_status().available, reason=kernel_status().reason)


def arguments(name: str) -> tuple[jax.Array, ...]:
    """x, kernel, bias(es), recurrent kernel and initial state(s) of a cell, random."""
    rng = np.random.default_rng(3)
    width = CELLS[name] * UNITS

    def normal(*shape: int) -> jax.Array:
        return jnp.asarray(rng.normal(scale=0.3, size=shape), jnp.float32)

    x, w, b, u, h0 = normal(BATCH, STEPS, FEATURES), normal(FEATURES, width), normal(width), normal(UNITS, width), \
        normal(BATCH, UNITS)  # fmt: skip
    if name == "simplernn":
        return x, w, b, u, h0
    if name == "lstm":
        return x, w, b, u, h0, normal(BATCH, UNITS)
    return x, w, b, u, normal(width), h0


def last_state_gradients(name: str, every_step: bool) -> list[np.ndarray]:
    """Gradients of a loss on the last state, through the vjp rule, with dL/dh handed to the kernel as [B, T, H]
    (zero but the last step) or [B, 1, H]."""
    sequence = getattr(jax_ops, {"simplernn": "rnn", "lstm": "lstm", "gru": "gru"}[name] + "_sequence")
    cotangent = jnp.asarray(np.random.default_rng(4).normal(size=(BATCH, UNITS)), jnp.float32)
    original = jax_ops._state_gradient

    def padded(dhseq: object, dh_last: object) -> jax.Array:
        dense = original(dhseq, dh_last)
        return jnp.zeros((BATCH, STEPS, UNITS)).at[:, -1:].set(dense) if dense.shape[1] == 1 else dense

    jax_ops._state_gradient = padded if every_step else original
    try:
        loss = lambda *args: jnp.sum(sequence(*args)[1] * cotangent)  # noqa: E731
        return [np.asarray(g) for g in jax.grad(loss, argnums=tuple(range(6 if name != "simplernn" else 5)))(
            *arguments(name))]  # fmt: skip
    finally:
        jax_ops._state_gradient = original


@pytest.mark.parametrize("name", sorted(CELLS))
def test_the_last_steps_gradient_alone_gives_the_same_gradients(name):
    for given, padded in zip(last_state_gradients(name, False), last_state_gradients(name, True), strict=True):
        np.testing.assert_array_equal(given, padded)


def test_a_state_gradient_of_another_shape_is_refused():
    x, w, b, u, h0 = arguments("simplernn")
    hseq = jax_ops.rnn_sequence(x, w, b, u, h0)[0]
    wrong = jnp.zeros((BATCH, 2, UNITS))
    shapes = (w.shape, b.shape, u.shape, h0.shape)
    with pytest.raises(Exception, match=r"dL/dh must be \[B\]\[T\]\[H\] or \[B\]\[1\]\[H\]"):
        jax.block_until_ready(jax_ops._backward("RnnbenchRnnBackward", x, False, shapes, wrong, x, hseq, h0, w.T, u.T))
