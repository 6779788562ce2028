"""Differentiable whole-sequence recurrences for JAX, each a forward and a backward call into the compiled kernels.

Arrays are batch-major, as in Keras: ``x[B, T, F]``, states ``[B, T, H]``. The forward call computes the input
projection ``x W + b`` itself; the backward call returns the gradients of the weights, biases and initial states,
and the gradient of the inputs only where something differentiates through them (not for a model's first layer). The
linear scan h_t = a_t * h_{t-1} + b_t (:func:`linear_scan`) has no weights: its backward call returns the gradients
of a, b and h0. minGRU and minLSTM (:func:`minimal_sequence`) compute their projection x W + b and their gates
inside the loop, and their backward call returns the gradients of W, b, h0 and (when asked for) x. IndRNN
(:func:`indrnn_sequence`), h_t = relu(p_t + u * h_{t-1} + b), takes p = x W from XLA too; its backward call returns
the gradients of p, u, b and h0. LRU's recurrence (:func:`lru_sequence`), h_t = lambda * h_{t-1} + u_t in complex
numbers with lambda constant over time, takes u = x w from XLA (w = gamma B, real and imaginary parts side by side);
its backward call returns the gradients of u, lambda and h0, and XLA takes those of w and x from dL/du. coRNN
(:func:`cornn_sequence`) and LEM (:func:`lem_sequence`) have two states y and z and return (yseq, y_T, z_T); like
the LSTM they take x and compute x V + b inside, and their backward calls return the gradients of x (where wanted),
V, b, the recurrent weights, y0 and z0. Their options (dt; gamma and epsilon for coRNN) are float attributes of the
calls, one compiled pair of rules per set of values. Mamba's selective scan (:func:`selective_scan`) takes Delta, x,
B, C, A, D and h0 and returns y and h_T; its backward call returns the gradients of all seven, recomputing the
states it needs. Its causal convolution with SiLU (:func:`causal_conv`) is a call of its own, before the projections
that read x'.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

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


def _backward(
    target: str, x: Array, wants_dx: bool, shapes: tuple[tuple[int, ...], ...], *args: Array, **attributes: Any
) -> Any:
    """A backward call; its first result is dL/dx, or None when nothing needs it (the kernel then skips it)."""
    dx, *rest = _call(target, x.shape if wants_dx else (0,), *shapes)(*args, **attributes)
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


# The minimal cells' handlers by gates per unit: W[F, G*H] and b[G*H] hold each gate's projection in turn.
MINIMAL_CELLS = {"mingru": ("RnnbenchMinGruForward", "RnnbenchMinGruBackward", 2),
                 "minlstm": ("RnnbenchMinLstmForward", "RnnbenchMinLstmBackward", 3)}  # fmt: skip


def minimal_sequence(cell: str, x: Array, w: Array, b: Array, h0: Array) -> tuple[Array, Array]:
    """minGRU (W = [W_z W_h]) or minLSTM (W = [W_f W_i W_h]) over all steps of x[B, T, F], with W[F, G*H] and
    b[G*H], from h0[B, H]; the projection and the gates computed inside the scan. Returns (hseq[B, T, H], h_T).
    Raises RuntimeError where the kernels are not available."""
    if not linear_scan_available():
        raise RuntimeError(f"the compiled linear scan is not available: {kernel_status().reason}")
    return _minimal(cell)(x, w, b, h0)


@functools.cache
def _minimal(cell: str) -> Any:
    """The differentiable sequence of one cell: (x, w, b, h0) -> (hseq, h_T)."""
    forward_target, backward_target, _ = MINIMAL_CELLS[cell]

    def call(x: Array, w: Array, b: Array, h0: Array) -> Array:
        return _call(forward_target, _states(x, h0))(x, w, b, h0)[0]

    @jax.custom_vjp
    def sequence(x: Array, w: Array, b: Array, h0: Array) -> tuple[Array, Array]:
        hseq = call(x, w, b, h0)
        return hseq, hseq[:, -1]

    def forward(*primals: Any) -> tuple[Any, tuple[Any, ...]]:
        (x, w, b, h0), wants_dx = _values(primals)
        hseq = call(x, w, b, h0)
        return (hseq, hseq[:, -1]), (x, w, b, hseq, h0, wants_dx)

    def backward(residuals: tuple[Any, ...], cotangents: tuple[Any, Any]) -> tuple[Any, ...]:
        x, w, b, hseq, h0, wants_dx = residuals
        shapes = (w.shape, b.shape, h0.shape)
        return _backward(backward_target, x, wants_dx, shapes, _state_gradient(*cotangents), x, w, b, hseq, h0)

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


def lru_sequence(x: Array, w: Array, lam: Array, h0: Array) -> tuple[Array, Array]:
    """LRU's recurrence h_t = lambda * h_{t-1} + u_t in complex numbers over all steps of u = x w, for x[B, T, F],
    w[F, 2H], lam[2H] = lambda and h0[B, 2H]; the last axis of w, lam, h0 and of the results holds real parts, then
    imaginary parts. Returns (hseq[B, T, 2H], h_T[B, 2H]). Raises RuntimeError where the kernels are not available."""
    if not kernel_status().available:
        raise RuntimeError(f"the compiled LRU scan is not available: {kernel_status().reason}")
    return _lru(x, w, lam, h0)


def _lru_call(x: Array, w: Array, lam: Array, h0: Array) -> Array:
    # u's buffer becomes hseq's (the kernel writes h_t over u_t): a training step then holds one (batch, steps, 2
    # units) array where it would hold two, and stays below the size from which every call of the step maps fresh
    # memory (and faults on every page of it) for its temporaries.
    target = jax.ffi.ffi_call(
        "RnnbenchLruScanForward", jax.ShapeDtypeStruct((*x.shape[:2], h0.shape[1]), jnp.float32),
        vmap_method="sequential", input_output_aliases={0: 0},
    )  # fmt: skip
    return target(x @ w, lam, h0)


@jax.custom_vjp
def _lru(x: Array, w: Array, lam: Array, h0: Array) -> tuple[Array, Array]:
    hseq = _lru_call(x, w, lam, h0)
    return hseq, hseq[:, -1]


def _lru_forward(*primals: Any) -> tuple[Any, tuple[Any, ...]]:
    (x, w, lam, h0), wants_dx = _values(primals)
    hseq = _lru_call(x, w, lam, h0)
    return (hseq, hseq[:, -1]), (x, w, lam, hseq, h0, wants_dx)


def _lru_backward(residuals: tuple[Any, ...], cotangents: tuple[Any, Any]) -> tuple[Any, ...]:
    x, w, lam, hseq, h0, wants_dx = residuals
    # du is written over hseq, whose step t the kernel no longer needs once it has gone back past step t + 1.
    target = jax.ffi.ffi_call(
        "RnnbenchLruScanBackward", tuple(jax.ShapeDtypeStruct(a.shape, jnp.float32) for a in (hseq, lam, h0)),
        vmap_method="sequential", input_output_aliases={2: 0},
    )  # fmt: skip
    du, dlam, dh0 = target(_state_gradient(*cotangents), lam, hseq, h0)
    # dL/dw = x^T du over all samples and steps, as one (B T, F) by (B T, 2H) product: in this order XLA reads du
    # where it lies instead of first writing its transpose.
    rows = x.shape[0] * x.shape[1]
    dw = x.reshape(rows, x.shape[2]).T @ du.reshape(rows, du.shape[2])
    return (du @ w.T if wants_dx else None), dw, dlam, dh0


_lru.defvjp(_lru_forward, _lru_backward, symbolic_zeros=True)


def _oscillator_results(x: Array, y0: Array, acts_width: int, keep: bool) -> tuple[tuple[int, ...], ...]:
    """The shapes of what a coRNN or LEM forward call returns: y at every step; z and the activations (acts_width a
    step) at every step where a backward call reads them (``keep``), else z's last step and no activations."""
    batch, steps, units = x.shape[0], x.shape[1], y0.shape[1]
    if keep:
        return (batch, steps, units), (batch, steps, units), (batch, steps, acts_width)
    return (batch, steps, units), (batch, 1, units), (0,)


def _oscillator(call: Any) -> tuple[Any, Any]:
    """The differentiable sequence (x, V, b, recurrent weights, y0, z0) -> (yseq, y_T, z_T) of a forward call
    ``call(x, v, b, w1, w2, y0, z0, keep)``, and its forward rule, whose residuals are the arguments, whether dL/dx is
    wanted, then y, z and the activations at every step."""

    @jax.custom_vjp
    def sequence(x: Array, v: Array, b: Array, w1: Array, w2: Array, y0: Array, z0: Array) -> tuple[Array, ...]:
        yseq, z_last, _ = call(x, v, b, w1, w2, y0, z0, keep=False)
        return yseq, yseq[:, -1], z_last[:, 0]

    def forward(*primals: Any) -> tuple[Any, tuple[Any, ...]]:
        arrays, wants_dx = _values(primals)
        yseq, zseq, acts = call(*arrays, keep=True)
        return (yseq, yseq[:, -1], zseq[:, -1]), (*arrays, wants_dx, yseq, zseq, acts)

    return sequence, forward


def _floats32(**options: float) -> dict[str, np.float32]:
    """A cell's options as the float attributes of its calls."""
    return {name: np.float32(value) for name, value in options.items()}


def cornn_sequence(x: Array, v: Array, b: Array, w: Array, w_z: Array, y0: Array, z0: Array, *, dt: float,
                   gamma: float, epsilon: float) -> tuple[Array, Array, Array]:  # fmt: skip
    """coRNN over all steps of x[B, T, F], with input kernel v[F, H], bias b[H], recurrent weights w, w_z [H, H], from
    y0, z0 [B, H]: z_t = z_{t-1} + dt (tanh(x_t v + b + y_{t-1} w + z_{t-1} w_z) - gamma y_{t-1} - epsilon z_{t-1}),
    y_t = y_{t-1} + dt z_t; returns (yseq[B, T, H], y_T, z_T). Raises RuntimeError where the kernels are not
    available."""
    if not kernel_status().available:
        raise RuntimeError(f"the compiled coRNN is not available: {kernel_status().reason}")
    return _cornn(float(dt), float(gamma), float(epsilon))(x, v, b, w, w_z, y0, z0)


@functools.cache
def _cornn(dt: float, gamma: float, epsilon: float) -> Any:
    options = _floats32(dt=dt, gamma=gamma, epsilon=epsilon)

    def call(x: Array, v: Array, b: Array, w: Array, w_z: Array, y0: Array, z0: Array, keep: bool) -> Any:
        results = _oscillator_results(x, y0, y0.shape[1], keep)
        return _call("RnnbenchCoRnnForward", *results)(x, v, b, w, w_z, y0, z0, **options)

    sequence, forward = _oscillator(call)

    def backward(residuals: tuple[Any, ...], cotangents: tuple[Any, Any, Any]) -> tuple[Any, ...]:
        x, v, b, w, w_z, y0, z0, wants_dx, yseq, zseq, forces = residuals
        dyseq, dy_last, dz_last = cotangents
        shapes = (v.shape, b.shape, w.shape, w_z.shape, y0.shape, z0.shape)
        transposed = jnp.concatenate([w.T, w_z.T], axis=1)  # [W^T W_z^T]: one product gives dL/dy and dL/dz
        args = (_state_gradient(dyseq, dy_last), _dense(dz_last), x, yseq, zseq, forces, y0, z0, v.T, transposed)
        return _backward("RnnbenchCoRnnBackward", x, wants_dx, shapes, *args, **options)

    sequence.defvjp(forward, backward, symbolic_zeros=True)
    return sequence


def lem_sequence(x: Array, v: Array, b: Array, w_rec: Array, w_y: Array, y0: Array, z0: Array, *,
                 dt: float) -> tuple[Array, Array, Array]:  # fmt: skip
    """LEM over all steps of x[B, T, F], with input kernel v[F, 4H] and bias b[4H] (for dt_n, dtbar_n, z and y in
    turn), recurrent weights w_rec = [W_1 W_2 W_z] [H, 3H] on y_{t-1} and w_y [H, H] on z_t, from y0, z0 [B, H];
    returns (yseq[B, T, H], y_T, z_T). Raises RuntimeError where the kernels are not available."""
    if not kernel_status().available:
        raise RuntimeError(f"the compiled LEM is not available: {kernel_status().reason}")
    return _lem(float(dt))(x, v, b, w_rec, w_y, y0, z0)


def _lem_inputs(v: Array, b: Array) -> tuple[Array, Array, Array, Array]:
    """(V_a, V_y, b_a, b_y): the input kernel's and bias's columns for the product on y_{t-1} and for the one on z_t."""
    split = 3 * v.shape[1] // 4
    return v[:, :split], v[:, split:], b[:split], b[split:]


@functools.cache
def _lem(dt: float) -> Any:
    options = _floats32(dt=dt)

    def call(x: Array, v: Array, b: Array, w_rec: Array, w_y: Array, y0: Array, z0: Array, keep: bool) -> Any:
        results = _oscillator_results(x, y0, 4 * y0.shape[1], keep)
        return _call("RnnbenchLemForward", *results)(x, *_lem_inputs(v, b), w_rec, w_y, y0, z0, **options)

    sequence, forward = _oscillator(call)

    def backward(residuals: tuple[Any, ...], cotangents: tuple[Any, Any, Any]) -> tuple[Any, ...]:
        x, v, b, w_rec, w_y, y0, z0, wants_dx, yseq, zseq, acts = residuals
        dyseq, dy_last, dz_last = cotangents
        v_a, v_y, b_a, b_y = _lem_inputs(v, b)
        shapes = (v_a.shape, v_y.shape, b_a.shape, b_y.shape, w_rec.shape, w_y.shape, y0.shape, z0.shape)
        args = (_state_gradient(dyseq, dy_last), _dense(dz_last), x, yseq, zseq, acts, y0, z0, v_a.T, v_y.T)
        dx, dv_a, dv_y, db_a, db_y, *rest = _backward(
            "RnnbenchLemBackward", x, wants_dx, shapes, *args, w_rec.T, w_y.T, **options
        )
        return (dx, jnp.concatenate([dv_a, dv_y], axis=1), jnp.concatenate([db_a, db_y]), *rest)

    sequence.defvjp(forward, backward, symbolic_zeros=True)
    return sequence


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
