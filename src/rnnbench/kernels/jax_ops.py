"""Differentiable whole-sequence recurrences for JAX, each a forward and a backward call into recurrent.cc.

Sequences are batch-major, as in Keras: ``xproj[B, T, G*H]`` is the input projection plus input bias for all steps
(one matrix product done by XLA before the call). The weight gradient of the recurrent kernel, one product over all
steps, is also left to XLA; the compiled backward pass returns the per-step gradients it needs.
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


def _sequence_shape(xproj: Array, h0: Array) -> tuple[int, int, int]:
    """[B, T, H]: one state per sample and step."""
    return (xproj.shape[0], xproj.shape[1], h0.shape[1])


def _recurrent_kernel_gradient(h0: Array, hseq: Array, dpre: Array) -> Array:
    """sum over samples and steps of h_{t-1}^T dpre_t, as one 2-D product (XLA runs those far better than 3-D ones)."""
    previous = jnp.concatenate([h0[:, None], hseq[:, :-1]], axis=1)
    return previous.reshape(-1, previous.shape[-1]).T @ dpre.reshape(-1, dpre.shape[-1])


@jax.custom_vjp
def rnn_sequence(xproj: Array, u: Array, h0: Array) -> Array:
    """SimpleRNN over all steps: h_t = tanh(xproj_t + h_{t-1} u); returns hseq[B, T, H]."""
    return _call("RnnbenchRnnForward", _sequence_shape(xproj, h0))(xproj, u, h0)[0]


def _rnn_forward(xproj: Array, u: Array, h0: Array) -> tuple[Array, tuple[Array, ...]]:
    hseq = rnn_sequence(xproj, u, h0)
    return hseq, (hseq, u, h0)


def _rnn_backward(residuals: tuple[Array, ...], dhseq: Array) -> tuple[Array, Array, Array]:
    hseq, u, h0 = residuals
    dpre, dh0 = _call("RnnbenchRnnBackward", hseq.shape, h0.shape)(dhseq, hseq, u.T)
    return dpre, _recurrent_kernel_gradient(h0, hseq, dpre), dh0


rnn_sequence.defvjp(_rnn_forward, _rnn_backward)


def _lstm_call(xproj: Array, u: Array, h0: Array, c0: Array) -> tuple[Array, Array, Array]:
    states = _sequence_shape(xproj, h0)
    return _call("RnnbenchLstmForward", states, states, xproj.shape)(xproj, u, h0, c0)


@jax.custom_vjp
def lstm_sequence(xproj: Array, u: Array, h0: Array, c0: Array) -> tuple[Array, Array]:
    """LSTM (gates i, f, c, o) over all steps; returns (hseq[B, T, H], c_T)."""
    hseq, cseq, _ = _lstm_call(xproj, u, h0, c0)
    return hseq, cseq[:, -1]


def _lstm_forward(xproj: Array, u: Array, h0: Array, c0: Array) -> tuple[tuple[Array, Array], tuple[Array, ...]]:
    hseq, cseq, gates = _lstm_call(xproj, u, h0, c0)
    return (hseq, cseq[:, -1]), (hseq, cseq, gates, u, h0, c0)


def _lstm_backward(residuals: tuple[Array, ...], cotangents: tuple[Array, Array]) -> tuple[Array, ...]:
    hseq, cseq, gates, u, h0, c0 = residuals
    dhseq, dc_last = cotangents
    dgates, dh0, dc0 = _call("RnnbenchLstmBackward", gates.shape, h0.shape, c0.shape)(
        dhseq, dc_last, cseq, gates, c0, u.T
    )
    return dgates, _recurrent_kernel_gradient(h0, hseq, dgates), dh0, dc0


lstm_sequence.defvjp(_lstm_forward, _lstm_backward)


def _gru_call(xproj: Array, u: Array, bias_rec: Array, h0: Array) -> tuple[Array, Array, Array]:
    states = _sequence_shape(xproj, h0)
    return _call("RnnbenchGruForward", states, xproj.shape, states)(xproj, u, bias_rec, h0)


@jax.custom_vjp
def gru_sequence(xproj: Array, u: Array, bias_rec: Array, h0: Array) -> Array:
    """GRU with the reset gate after the recurrent product (gates z, r, h); returns hseq[B, T, H]."""
    return _gru_call(xproj, u, bias_rec, h0)[0]


def _gru_forward(xproj: Array, u: Array, bias_rec: Array, h0: Array) -> tuple[Array, tuple[Array, ...]]:
    hseq, gates, rec_n = _gru_call(xproj, u, bias_rec, h0)
    return hseq, (hseq, gates, rec_n, u, h0)


def _gru_backward(residuals: tuple[Array, ...], dhseq: Array) -> tuple[Array, ...]:
    hseq, gates, rec_n, u, h0 = residuals
    dxproj, drec, dh0 = _call("RnnbenchGruBackward", gates.shape, gates.shape, h0.shape)(
        dhseq, hseq, gates, rec_n, h0, u.T
    )
    return dxproj, _recurrent_kernel_gradient(h0, hseq, drec), drec.sum(axis=(0, 1)), dh0


gru_sequence.defvjp(_gru_forward, _gru_backward)
