"""Differentiable whole-sequence recurrences for JAX, each a forward and a backward call into recurrent.cc.

Arrays are batch-major, as in Keras: ``x[B, T, F]``, states ``[B, T, H]``. The forward call computes the input
projection ``x W + b`` itself; the backward call returns the gradients of the weights, biases and initial states,
and the gradient of the inputs only where something differentiates through them (not for a model's first layer).
The linear scan h_t = a_t * h_{t-1} + b_t (:func:`linear_scan`) has no weights: its backward call returns the
gradients of a, b and h0. minGRU and minLSTM (:func:`minimal_sequence`) run on it with their gates computed inside
the loop from the pre-activations p = x W + b, whose gradient their backward call returns. IndRNN
(:func:`indrnn_sequence`), h_t = relu(p_t + u * h_{t-1} + b), takes p = x W from XLA too; its backward call returns
the gradients of p, u, b and h0. Mamba's selective scan (:func:`selective_scan`) takes Delta, x, B, C, A, D and h0
and returns y and h_T; its backward call returns the gradients of all seven, recomputing the states it needs. Its
causal convolution with SiLU (:func:`causal_conv`) is a call of its own, before the projections that read x'.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp

from rnnbench.kernels.build import kernel_status

Array = Any


def _call(target: str, *shapes: tuple[int, ...]) -> Any:
    return jax.ffi.ffi_call(
        target, tuple(jax.ShapeDtypeStruct(shape, jnp.float32) for shape in shapes), vmap_method="sequential"
    )


def _states(x: Array, h0: Array) -> tuple[int, int, int]:
    """[B, T, H]: one state per sample and step."""
    return (x.shape[0], x.shape[1], h0.shape[1])


def _values(primals: tuple[Any, ...]) -> tuple[tuple[Array, ...], bool]:
    """The arrays behind a forward rule's arguments, and whether the first (the inputs x) is differentiated."""
    return tuple(primal.value for primal in primals), bool(primals[0].perturbed)


def _dense(cotangent: Any) -> Array:
    """An output's cotangent as an array (zeros where nothing depends on that output)."""
    if isinstance(cotangent, jax.custom_derivatives.SymbolicZero):
        return jnp.zeros(cotangent.shape, cotangent.dtype)
    return cotangent


def _state_gradient(dhseq: Any, dh_last: Any) -> Array:
    """dL/dh for a backward call: every step's [B, T, H], or only the last step's [B, 1, H] when nothing depends on
    the others (a layer that returns its last state only), so that no array of zeros is written and read."""
    if isinstance(dhseq, jax.custom_derivatives.SymbolicZero):
        return _dense(dh_last)[:, None, :]
    if isinstance(dh_last, jax.custom_derivatives.SymbolicZero):
        return dhseq
    return dhseq.at[:, -1].add(dh_last)


def _backward(target: str, x: Array, wants_dx: bool, shapes: tuple[tuple[int, ...], ...], *args: Array) -> Any:
    """A backward call; its first result is dL/dx, or None when nothing needs it (the kernel then skips it)."""
    dx, *rest = _call(target, x.shape if wants_dx else (0,), *shapes)(*args)
    return (dx if wants_dx else None, *rest)


def _rnn_call(x: Array, w: Array, b: Array, u: Array, h0: Array) -> Array:
    return _call("RnnbenchRnnForward", _states(x, h0))(x, w, b, u, h0)[0]


@jax.custom_vjp
def rnn_sequence(x: Array, w: Array, b: Array, u: Array, h0: Array) -> tuple[Array, Array]:
    """SimpleRNN over all steps: h_t = tanh(x_t w + b + h_{t-1} u); returns (hseq[B, T, H], h_T)."""
    hseq = _rnn_call(x, w, b, u, h0)
    return hseq, hseq[:, -1]


def _rnn_forward(*primals: Any) -> tuple[Any, tuple[Any, ...]]:
    (x, w, b, u, h0), wants_dx = _values(primals)
    hseq = _rnn_call(x, w, b, u, h0)
    return (hseq, hseq[:, -1]), (x, w, b, u, h0, hseq, wants_dx)


def _rnn_backward(residuals: tuple[Any, ...], cotangents: tuple[Any, Any]) -> tuple[Any, ...]:
    x, w, b, u, h0, hseq, wants_dx = residuals
    shapes = (w.shape, b.shape, u.shape, h0.shape)
    args = (_state_gradient(*cotangents), x, hseq, h0, w.T, u.T)
    return _backward("RnnbenchRnnBackward", x, wants_dx, shapes, *args)


rnn_sequence.defvjp(_rnn_forward, _rnn_backward, symbolic_zeros=True)


def _lstm_call(x: Array, w: Array, b: Array, u: Array, h0: Array, c0: Array) -> tuple[Array, Array, Array]:
    states = _states(x, h0)
    gates = (*states[:2], 4 * states[2])
    return _call("RnnbenchLstmForward", states, states, gates)(x, w, b, u, h0, c0)


@jax.custom_vjp
def lstm_sequence(x: Array, w: Array, b: Array, u: Array, h0: Array, c0: Array) -> tuple[Array, Array, Array]:
    """LSTM (gates i, f, c, o) over all steps; returns (hseq[B, T, H], h_T, c_T)."""
    # Not differentiated (inference): the kernel keeps the last cell state only and no gates.
    batch, _, units = states = _states(x, h0)
    hseq, c_last, _ = _call("RnnbenchLstmForward", states, (batch, 1, units), (0,))(x, w, b, u, h0, c0)
    return hseq, hseq[:, -1], c_last[:, 0]


def _lstm_forward(*primals: Any) -> tuple[Any, tuple[Any, ...]]:
    (x, w, b, u, h0, c0), wants_dx = _values(primals)
    hseq, cseq, gates = _lstm_call(x, w, b, u, h0, c0)
    return (hseq, hseq[:, -1], cseq[:, -1]), (x, w, b, u, h0, c0, hseq, cseq, gates, wants_dx)


def _lstm_backward(residuals: tuple[Any, ...], cotangents: tuple[Any, Any, Any]) -> tuple[Any, ...]:
    x, w, b, u, h0, c0, hseq, cseq, gates, wants_dx = residuals
    dhseq, dh_last, dc_last = cotangents
    shapes = (w.shape, b.shape, u.shape, h0.shape, c0.shape)
    args = (_state_gradient(dhseq, dh_last), _dense(dc_last), x, hseq, cseq, gates, h0, c0, w.T, u.T)
    return _backward("RnnbenchLstmBackward", x, wants_dx, shapes, *args)


lstm_sequence.defvjp(_lstm_forward, _lstm_backward, symbolic_zeros=True)


def _gru_call(x: Array, w: Array, b_in: Array, u: Array, b_rec: Array, h0: Array) -> tuple[Array, Array, Array]:
    states = _states(x, h0)
    gates = (*states[:2], 3 * states[2])
    return _call("RnnbenchGruForward", states, gates, states)(x, w, b_in, u, b_rec, h0)


@jax.custom_vjp
def gru_sequence(x: Array, w: Array, b_in: Array, u: Array, b_rec: Array, h0: Array) -> tuple[Array, Array]:
    """GRU with the reset gate after the recurrent product (gates z, r, h); returns (hseq[B, T, H], h_T)."""
    # Not differentiated (inference): the kernel keeps no gates.
    hseq = _call("RnnbenchGruForward", _states(x, h0), (0,), (0,))(x, w, b_in, u, b_rec, h0)[0]
    return hseq, hseq[:, -1]


def _gru_forward(*primals: Any) -> tuple[Any, tuple[Any, ...]]:
    (x, w, b_in, u, b_rec, h0), wants_dx = _values(primals)
    hseq, gates, rec_n = _gru_call(x, w, b_in, u, b_rec, h0)
    return (hseq, hseq[:, -1]), (x, w, b_in, u, b_rec, h0, hseq, gates, rec_n, wants_dx)


def _gru_backward(residuals: tuple[Any, ...], cotangents: tuple[Any, Any]) -> tuple[Any, ...]:
    x, w, b_in, u, b_rec, h0, hseq, gates, rec_n, wants_dx = residuals
    shapes = (w.shape, b_in.shape, u.shape, b_rec.shape, h0.shape)
    args = (_state_gradient(*cotangents), x, hseq, gates, rec_n, h0, w.T, u.T)
    return _backward("RnnbenchGruBackward", x, wants_dx, shapes, *args)


gru_sequence.defvjp(_gru_forward, _gru_backward, symbolic_zeros=True)


def linear_scan_available() -> bool:
    """Whether the compiled linear scan (and the minGRU and minLSTM sequences on it) can run: the kernels are built
    and their handlers registered with JAX (:func:`rnnbench.kernels.build.kernel_status`)."""
    return kernel_status().available


def linear_scan(a: Array, b: Array, h0: Array) -> Array:
    """h_t = a_t * h_{t-1} + b_t over a[B, T, H] and b[B, T, H] from h0[B, H]; returns hseq[B, T, H].

    Raises RuntimeError where the kernels are not available (:func:`linear_scan_available` says beforehand)."""
    if not linear_scan_available():
        raise RuntimeError(f"the compiled linear scan is not available: {kernel_status().reason}")
    return _linear_scan(a, b, h0)


@jax.custom_vjp
def _linear_scan(a: Array, b: Array, h0: Array) -> Array:
    return _call("RnnbenchLinearScanForward", a.shape)(a, b, h0)[0]


def _linear_scan_forward(*primals: Any) -> tuple[Any, tuple[Any, ...]]:
    (a, b, h0), _ = _values(primals)
    hseq = _call("RnnbenchLinearScanForward", a.shape)(a, b, h0)[0]
    return hseq, (a, hseq, h0)


def _linear_scan_backward(residuals: tuple[Any, ...], dhseq: Any) -> tuple[Array, Array, Array]:
    a, hseq, h0 = residuals
    da, db, dh0 = _call("RnnbenchLinearScanBackward", a.shape, a.shape, h0.shape)(_dense(dhseq), a, hseq, h0)
    return da, db, dh0


_linear_scan.defvjp(_linear_scan_forward, _linear_scan_backward, symbolic_zeros=True)


# The minimal cells' handlers by gates per unit: p[B, T, G*H] holds the pre-activations of each gate in turn.
MINIMAL_CELLS = {"mingru": ("RnnbenchMinGruForward", "RnnbenchMinGruBackward", 2),
                 "minlstm": ("RnnbenchMinLstmForward", "RnnbenchMinLstmBackward", 3)}  # fmt: skip


def minimal_sequence(cell: str, p: Array, h0: Array) -> tuple[Array, Array]:
    """minGRU (p = [k, c]) or minLSTM (p = [k_f, k_i, c]) over all steps of p[B, T, G*H] from h0[B, H], the gates
    computed inside the scan; returns (hseq[B, T, H], h_T). Raises RuntimeError where the kernels are not
    available."""
    if not linear_scan_available():
        raise RuntimeError(f"the compiled linear scan is not available: {kernel_status().reason}")
    return _minimal(cell)(p, h0)


@functools.cache
def _minimal(cell: str) -> Any:
    """The differentiable sequence of one cell: (p, h0) -> (hseq, h_T)."""
    forward_target, backward_target, _ = MINIMAL_CELLS[cell]

    def call(p: Array, h0: Array) -> Array:
        return _call(forward_target, (p.shape[0], p.shape[1], h0.shape[1]))(p, h0)[0]

    @jax.custom_vjp
    def sequence(p: Array, h0: Array) -> tuple[Array, Array]:
        hseq = call(p, h0)
        return hseq, hseq[:, -1]

    def forward(*primals: Any) -> tuple[Any, tuple[Array, ...]]:
        (p, h0), _ = _values(primals)
        hseq = call(p, h0)
        return (hseq, hseq[:, -1]), (p, hseq, h0)

    def backward(residuals: tuple[Array, ...], cotangents: tuple[Any, Any]) -> tuple[Array, Array]:
        p, hseq, h0 = residuals
        dp, dh0 = _call(backward_target, p.shape, h0.shape)(_state_gradient(*cotangents), p, hseq, h0)
        return dp, dh0

    sequence.defvjp(forward, backward, symbolic_zeros=True)
    return sequence


def indrnn_sequence(p: Array, u: Array, b: Array, h0: Array) -> tuple[Array, Array]:
    """IndRNN over all steps of the projections p[B, T, H] = x W, with recurrent weights u[H] and bias b[H], from
    h0[B, H]: h_t = relu(p_t + u * h_{t-1} + b); returns (hseq[B, T, H], h_T). Raises RuntimeError where the kernels
    are not available."""
    if not kernel_status().available:
        raise RuntimeError(f"the compiled IndRNN is not available: {kernel_status().reason}")
    return _indrnn(p, u, b, h0)


def _indrnn_call(p: Array, u: Array, b: Array, h0: Array) -> Array:
    return _call("RnnbenchIndRnnForward", p.shape)(p, u, b, h0)[0]


@jax.custom_vjp
def _indrnn(p: Array, u: Array, b: Array, h0: Array) -> tuple[Array, Array]:
    hseq = _indrnn_call(p, u, b, h0)
    return hseq, hseq[:, -1]


def _indrnn_forward(*primals: Any) -> tuple[Any, tuple[Array, ...]]:
    (p, u, b, h0), _ = _values(primals)
    hseq = _indrnn_call(p, u, b, h0)
    return (hseq, hseq[:, -1]), (u, hseq, h0)


def _indrnn_backward(residuals: tuple[Array, ...], cotangents: tuple[Any, Any]) -> tuple[Array, ...]:
    u, hseq, h0 = residuals
    shapes = (hseq.shape, u.shape, u.shape, h0.shape)
    dp, du, db, dh0 = _call("RnnbenchIndRnnBackward", *shapes)(_state_gradient(*cotangents), u, hseq, h0)
    return dp, du, db, dh0


_indrnn.defvjp(_indrnn_forward, _indrnn_backward, symbolic_zeros=True)


def selective_scan(delta: Array, x: Array, b: Array, c: Array, a: Array, d: Array, h0: Array) -> tuple[Array, Array]:
    """Mamba's selective scan over all steps: h_t = exp(delta_t a) * h_{t-1} + (delta_t x_t) outer b_t and
    y_t = h_t c_t + d x_t, for delta and x [B, T, D], b and c [B, T, N], a [D, N], d [D] and h0 [B, D, N]; returns
    (y[B, T, D], h_T[B, D, N]). The backward call recomputes the states, one sample at a time, instead of keeping
    [B, T, D, N] of them. Raises RuntimeError where the kernels are not available."""
    if not kernel_status().available:
        raise RuntimeError(f"the compiled selective scan is not available: {kernel_status().reason}")
    return _selective(delta, x, b, c, a, d, h0)


def _selective_call(*args: Array) -> tuple[Array, Array]:
    delta, h0 = args[0], args[-1]
    y, h_last = _call("RnnbenchSelectiveScanForward", delta.shape, h0.shape)(*args)
    return y, h_last


@jax.custom_vjp
def _selective(delta: Array, x: Array, b: Array, c: Array, a: Array, d: Array, h0: Array) -> tuple[Array, Array]:
    return _selective_call(delta, x, b, c, a, d, h0)


def _selective_forward(*primals: Any) -> tuple[Any, tuple[Array, ...]]:
    args, _ = _values(primals)
    return _selective_call(*args), args


def _selective_backward(residuals: tuple[Array, ...], cotangents: tuple[Any, Any]) -> tuple[Array, ...]:
    dy, dh_last = (_dense(cotangent) for cotangent in cotangents)
    shapes = tuple(residual.shape for residual in residuals)
    return tuple(_call("RnnbenchSelectiveScanBackward", *shapes)(dy, dh_last, *residuals))


_selective.defvjp(_selective_forward, _selective_backward, symbolic_zeros=True)


def causal_conv(x: Array, head: Array, w: Array, b: Array) -> Array:
    """Mamba's causal depthwise convolution and its SiLU: silu(b + sum_k w[k] * x_{t-K+1+k}) over x[B, T, D], with
    head[B, K-1, D] the inputs before the first step, w[K, D] and b[D]; returns [B, T, D]. Raises RuntimeError where
    the kernels are not available."""
    if not kernel_status().available:
        raise RuntimeError(f"the compiled causal convolution is not available: {kernel_status().reason}")
    return _causal_conv(x, head, w, b)


@jax.custom_vjp
def _causal_conv(x: Array, head: Array, w: Array, b: Array) -> Array:
    return _call("RnnbenchCausalConvForward", x.shape)(x, head, w, b)[0]


def _causal_conv_forward(*primals: Any) -> tuple[Array, tuple[Array, ...]]:
    args, _ = _values(primals)
    return _call("RnnbenchCausalConvForward", args[0].shape)(*args)[0], args


def _causal_conv_backward(residuals: tuple[Array, ...], dout: Any) -> tuple[Array, ...]:
    shapes = tuple(residual.shape for residual in residuals)
    return tuple(_call("RnnbenchCausalConvBackward", *shapes)(_dense(dout), *residuals))


_causal_conv.defvjp(_causal_conv_forward, _causal_conv_backward, symbolic_zeros=True)
