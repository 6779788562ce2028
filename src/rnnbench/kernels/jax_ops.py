"""Differentiable whole-sequence recurrences for JAX, each a forward and a backward call into recurrent.cc.

Arrays are batch-major, as in Keras: ``x[B, T, F]``, states ``[B, T, H]``. The forward call computes the input
projection ``x W + b`` itself; the backward call returns the gradients of the gate pre-activations for every step,
and XLA turns them into the weight, bias and input gradients with products over all samples and steps at once.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

Array = Any


def _call(target: str, *shapes: tuple[int, ...]) -> Any:
    return jax.ffi.ffi_call(
        target, tuple(jax.ShapeDtypeStruct(shape, jnp.float32) for shape in shapes), vmap_method="sequential"
    )


def _states(x: Array, h0: Array) -> tuple[int, int, int]:
    """[B, T, H]: one state per sample and step."""
    return (x.shape[0], x.shape[1], h0.shape[1])


def _flat(array: Array) -> Array:
    """[B, T, W] -> [B*T, W]: XLA runs 2-D products far better than 3-D ones."""
    return array.reshape(-1, array.shape[-1])


def _input_gradients(x: Array, w: Array, dpre: Array) -> tuple[Array, Array, Array]:
    """(dx, dW, db) of the projection x W + b, given the gradient of its result."""
    return dpre @ w.T, _flat(x).T @ _flat(dpre), dpre.sum(axis=(0, 1))


def _recurrent_kernel_gradient(h0: Array, hseq: Array, dpre: Array) -> Array:
    """The sum over samples and steps of h_{t-1}^T dpre_t."""
    return _flat(jnp.concatenate([h0[:, None], hseq[:, :-1]], axis=1)).T @ _flat(dpre)


@jax.custom_vjp
def rnn_sequence(x: Array, w: Array, b: Array, u: Array, h0: Array) -> Array:
    """SimpleRNN over all steps: h_t = tanh(x_t w + b + h_{t-1} u); returns hseq[B, T, H]."""
    return _call("RnnbenchRnnForward", _states(x, h0))(x, w, b, u, h0)[0]


def _rnn_forward(x: Array, w: Array, b: Array, u: Array, h0: Array) -> tuple[Array, tuple[Array, ...]]:
    hseq = rnn_sequence(x, w, b, u, h0)
    return hseq, (x, w, u, h0, hseq)


def _rnn_backward(residuals: tuple[Array, ...], dhseq: Array) -> tuple[Array, ...]:
    x, w, u, h0, hseq = residuals
    dpre, dh0 = _call("RnnbenchRnnBackward", hseq.shape, h0.shape)(dhseq, hseq, u.T)
    dx, dw, db = _input_gradients(x, w, dpre)
    return dx, dw, db, _recurrent_kernel_gradient(h0, hseq, dpre), dh0


rnn_sequence.defvjp(_rnn_forward, _rnn_backward)


def _lstm_call(x: Array, w: Array, b: Array, u: Array, h0: Array, c0: Array) -> tuple[Array, Array, Array]:
    states = _states(x, h0)
    gates = (*states[:2], 4 * states[2])
    return _call("RnnbenchLstmForward", states, states, gates)(x, w, b, u, h0, c0)


@jax.custom_vjp
def lstm_sequence(x: Array, w: Array, b: Array, u: Array, h0: Array, c0: Array) -> tuple[Array, Array]:
    """LSTM (gates i, f, c, o) over all steps; returns (hseq[B, T, H], c_T)."""
    hseq, cseq, _ = _lstm_call(x, w, b, u, h0, c0)
    return hseq, cseq[:, -1]


def _lstm_forward(x: Array, w: Array, b: Array, u: Array, h0: Array, c0: Array) -> tuple[Any, tuple[Array, ...]]:
    hseq, cseq, gates = _lstm_call(x, w, b, u, h0, c0)
    return (hseq, cseq[:, -1]), (x, w, u, h0, c0, hseq, cseq, gates)


def _lstm_backward(residuals: tuple[Array, ...], cotangents: tuple[Array, Array]) -> tuple[Array, ...]:
    x, w, u, h0, c0, hseq, cseq, gates = residuals
    dhseq, dc_last = cotangents
    dgates, dh0, dc0 = _call("RnnbenchLstmBackward", gates.shape, h0.shape, c0.shape)(
        dhseq, dc_last, cseq, gates, c0, u.T
    )
    dx, dw, db = _input_gradients(x, w, dgates)
    return dx, dw, db, _recurrent_kernel_gradient(h0, hseq, dgates), dh0, dc0


lstm_sequence.defvjp(_lstm_forward, _lstm_backward)


def _gru_call(x: Array, w: Array, b_in: Array, u: Array, b_rec: Array, h0: Array) -> tuple[Array, Array, Array]:
    states = _states(x, h0)
    gates = (*states[:2], 3 * states[2])
    return _call("RnnbenchGruForward", states, gates, states)(x, w, b_in, u, b_rec, h0)


@jax.custom_vjp
def gru_sequence(x: Array, w: Array, b_in: Array, u: Array, b_rec: Array, h0: Array) -> Array:
    """GRU with the reset gate after the recurrent product (gates z, r, h); returns hseq[B, T, H]."""
    return _gru_call(x, w, b_in, u, b_rec, h0)[0]


def _gru_forward(x: Array, w: Array, b_in: Array, u: Array, b_rec: Array, h0: Array) -> tuple[Any, tuple[Any, ...]]:
    hseq, gates, rec_n = _gru_call(x, w, b_in, u, b_rec, h0)
    return hseq, (x, w, u, h0, hseq, gates, rec_n)


def _gru_backward(residuals: tuple[Array, ...], dhseq: Array) -> tuple[Array, ...]:
    x, w, u, h0, hseq, gates, rec_n = residuals
    dxproj, drec, dh0 = _call("RnnbenchGruBackward", gates.shape, gates.shape, h0.shape)(
        dhseq, hseq, gates, rec_n, h0, u.T
    )
    dx, dw, db_in = _input_gradients(x, w, dxproj)
    return dx, dw, db_in, _recurrent_kernel_gradient(h0, hseq, drec), drec.sum(axis=(0, 1)), dh0


gru_sequence.defvjp(_gru_forward, _gru_backward)
