"""Mamba: a selective state space, whose step size and input and output matrices are read from the input, after a
causal depthwise convolution; the block without its residual and normalisation.

Gu & Dao, Mamba: linear-time sequence modeling with selective state spaces, arXiv:2312.00752, 2023.

For inputs u_t, units n, inner width d = E n, state size N, convolution width K and step-size rank R = ceil(n / 16):
[x_t, z_t] = u_t W_in + b_in;  x'_t = silu(sum_k w_k * x_{t-K+1+k} + b_conv);  [r_t, B_t, C_t] = x'_t W_x;
Delta_t = softplus(r_t W_dt + b_dt);  A = -exp(A_log);  h_t = exp(Delta_t A) * h_{t-1} + (Delta_t * x'_t) outer B_t;
y_t = h_t C_t + D * x'_t;  o_t = (y_t * silu(z_t)) W_out.

One departure from the official block: W_in has a bias b_in. In the official model the block reads a normalised
residual stream, which is never exactly zero; a single block on raw pixels reads zeros at the borders of an image, and
without a bias a zero input u_t gives z_t = 0, silu(z_t) = 0 and an output o_t of exactly 0 whatever the state holds:
read pixel by pixel, the last pixel of nearly every image is 0, and the model could not learn at all.

The cell (:class:`MambaCell`) runs one step, from the states [the K - 1 inner inputs x before it, h]: Keras' loop
runs it for masked inputs and ``unroll``. The layer (:class:`MambaRNN`) computes a whole sequence at once: the
projections and the convolution as operations on the whole sequence, the scan over h by the route of
:func:`rnnbench.models.linear_scan.scan_route`: ``kernel``, the compiled selective scan
(:func:`rnnbench.kernels.jax_ops.selective_scan`), and the convolution compiled too
(:func:`rnnbench.kernels.jax_ops.causal_conv`); ``loop``, ``ops.scan`` over the steps; ``parallel``, an
associative scan over the pairs (exp(Delta A), (Delta x') outer B).

The Keras classes are defined on first use (:func:`keras_classes`), so importing this module does not import Keras.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from rnnbench.models.contract import CellContract, Config, States, Weights
from rnnbench.models.lazy import lazy_keras_classes
from rnnbench.models.options import CellOption
from rnnbench.models.registry import register_model

if TYPE_CHECKING:
    MambaCell: Any
    MambaRNN: Any

STATE_SIZE, EXPANSION, CONV_WIDTH = 16, 2, 4
# The official initial step sizes: log-uniform in [DT_MIN, DT_MAX], none below DT_FLOOR.
DT_MIN, DT_MAX, DT_FLOOR = 1e-3, 1e-1, 1e-4


def step_rank(units: int) -> int:
    """R, the rank of the step sizes' projection: ceil(units / 16), as the official ``dt_rank="auto"``."""
    return math.ceil(units / 16)


def recurrent_params(units: int, features: int, state: int = STATE_SIZE, expansion: int = EXPANSION,
                     width: int = CONV_WIDTH) -> int:  # fmt: skip
    """W_in (F, 2d) and b_in (2d), conv w (K, d) and b (d), W_x (d, R + 2N), W_dt (R, d) and b_dt (d), A_log (d, N),
    D (d), W_out (d, n)."""
    inner, rank = expansion * units, step_rank(units)
    return inner * (2 * features + 2 + width + 1 + rank + 2 * state + rank + 1 + state + 1 + units)


def _define() -> tuple[Any, ...]:
    return _cell_class(), _layer_class()


def _cell_class() -> Any:
    import keras
    from keras import ops

    class MambaCell(keras.layers.Layer):
        """One step of Mamba's block without residual and normalisation (the module's equations).

        Inputs (batch, features); states [the previous K - 1 inner inputs x, oldest first, (batch, (K - 1) d);
        h (batch, d N), row-major (d, N)]; output (batch, units). Parameters: :func:`recurrent_params`.
        Initialisation as the official code: A_log = log(1..N) in every row (S4D-real), D = 1, b_dt the inverse
        softplus of step sizes log-uniform in [1e-3, 1e-1], W_dt uniform in +-R^-1/2, the linear maps as PyTorch's
        ``nn.Linear`` (uniform in +-1/sqrt(fan in)), the convolution's weights and bias uniform in +-1/sqrt(K).
        """

        def __init__(self, units: int, state_size: int = STATE_SIZE, expansion: int = EXPANSION,
                     conv_width: int = CONV_WIDTH, **kwargs: Any) -> None:  # fmt: skip
            super().__init__(**kwargs)
            if min(state_size, expansion, conv_width - 1) < 1:
                raise ValueError(f"Mamba needs state_size >= 1, expansion >= 1 and conv_width >= 2, got "
                                 f"{state_size}, {expansion}, {conv_width}")  # fmt: skip
            self.units, self.state_dim, self.expansion, self.conv_width = units, state_size, expansion, conv_width
            self.inner, self.rank = expansion * units, step_rank(units)
            # Keras' own attribute: the sizes of the states, not the option of the same name (``state_dim``).
            self.state_size = [(conv_width - 1) * self.inner, self.inner * state_size]
            self.output_size = units

        def build(self, input_shape: Any) -> None:
            _add_weights(self, int(input_shape[-1]))

        def convolved(self, window: Any) -> Any:
            """x' (..., d) from the K inner inputs of each step, window (..., K, d), oldest first."""
            return ops.silu(ops.sum(window * self.conv_kernel, axis=-2) + self.conv_bias)

        def selection(self, xc: Any) -> tuple[Any, Any, Any]:
            """(Delta (..., d), B (..., N), C (..., N)) from x' (..., d)."""
            r, n = self.rank, self.state_dim
            projected = ops.matmul(xc, self.x_kernel)
            delta = ops.softplus(ops.matmul(projected[..., :r], self.dt_kernel) + self.dt_bias)
            return delta, projected[..., r : r + n], projected[..., r + n :]

        def gated(self, y: Any, z: Any) -> Any:
            """o (..., units) from y and z (..., d)."""
            return ops.matmul(y * ops.silu(z), self.out_kernel)

        def call(self, inputs: Any, states: Any) -> tuple[Any, list[Any]]:
            return _mamba_step(self, inputs, *states)

        def get_config(self) -> dict[str, Any]:
            options = {"state_size": self.state_dim, "expansion": self.expansion, "conv_width": self.conv_width}
            return {**super().get_config(), "units": self.units, **options}

    return MambaCell


def _layer_class() -> Any:
    import keras
    from keras import ops

    from rnnbench.models import linear_scan

    class MambaRNN(keras.layers.RNN):
        """``keras.layers.RNN`` over a :class:`MambaCell` that computes the whole sequence at once.

        Inputs (batch, steps, features); output (batch, units), or (batch, steps, units) with ``return_sequences``.
        A masked input (or ``unroll``) runs the cell step by step, as Keras does; with ``zero_output_for_mask`` (as
        :func:`mamba` builds it), since Keras would take the cell's first state for its last output.
        """

        def inner_loop(self, sequences: Any, initial_state: Any, mask: Any, training: bool = False) -> Any:
            if mask is not None or self.unroll:
                return super().inner_loop(sequences, initial_state, mask, training)
            if keras.backend.standardize_dtype(sequences.dtype) != self.compute_dtype:
                sequences = ops.cast(sequences, self.compute_dtype)
            if self.go_backwards:
                # Keras returns the outputs of a backward layer in the order it reads the steps.
                sequences = ops.flip(sequences, axis=1)
            route = linear_scan.scan_route(self.compute_dtype)
            outputs, states = whole_sequence(self.cell, sequences, initial_state, route, self.return_sequences)
            return outputs[:, -1], outputs, states

    return MambaRNN


def _add_weights(cell: Any, features: int) -> None:
    """The cell's weights for inputs of ``features`` features, initialised as :class:`MambaCell` says."""
    d, n, r, k = cell.inner, cell.state_dim, cell.rank, cell.conv_width
    add = cell.add_weight
    cell.in_kernel = add(shape=(features, 2 * d), initializer=_uniform(features**-0.5), name="in_kernel")
    cell.in_bias = add(shape=(2 * d,), initializer=_uniform(features**-0.5), name="in_bias")
    cell.conv_kernel = add(shape=(k, d), initializer=_uniform(k**-0.5), name="conv_kernel")
    cell.conv_bias = add(shape=(d,), initializer=_uniform(k**-0.5), name="conv_bias")
    cell.x_kernel = add(shape=(d, r + 2 * n), initializer=_uniform(d**-0.5), name="x_kernel")
    cell.dt_kernel = add(shape=(r, d), initializer=_uniform(r**-0.5), name="dt_kernel")
    cell.dt_bias = add(shape=(d,), initializer=_dt_bias_initializer, name="dt_bias")
    cell.a_log = add(shape=(d, n), initializer=_a_log_initializer, name="a_log")
    cell.skip = add(shape=(d,), initializer="ones", name="d")  # D, beside d the inner width
    cell.out_kernel = add(shape=(d, cell.units), initializer=_uniform(d**-0.5), name="out_kernel")


def _mamba_step(cell: Any, inputs: Any, buffer: Any, h: Any) -> tuple[Any, list[Any]]:
    """(o_t (batch, units), [buffer, h]) from u_t (batch, features), the K - 1 inner inputs before it (batch,
    (K - 1) d) and h_{t-1} (batch, d N)."""
    from keras import ops

    batch, d, n = ops.shape(inputs)[0], cell.inner, cell.state_dim
    xz = ops.matmul(inputs, cell.in_kernel) + cell.in_bias
    window = ops.concatenate([ops.reshape(buffer, (batch, -1, d)), xz[:, None, :d]], axis=1)
    xc = cell.convolved(window)
    delta, b, c = cell.selection(xc)
    h = ops.exp(delta[:, :, None] * -ops.exp(cell.a_log)) * ops.reshape(h, (batch, d, n)) + (
        (delta * xc)[:, :, None] * b[:, None, :]
    )
    y = ops.sum(h * c[:, None, :], axis=-1) + cell.skip * xc
    new_states = [ops.reshape(window[:, 1:], (batch, -1)), ops.reshape(h, (batch, d * n))]
    return cell.gated(y, xz[:, d:]), new_states


def whole_sequence(cell: Any, sequences: Any, states: Any, route: str, every_step: bool) -> tuple[Any, list[Any]]:
    """(outputs (batch, steps, units), or (batch, 1, units) for the last step alone unless ``every_step``; the
    final states) of ``cell`` over sequences (batch, steps, features) from ``states``, the scan by ``route``."""
    from keras import ops

    batch, d, n, width = ops.shape(sequences)[0], cell.inner, cell.state_dim, cell.conv_width
    xz = ops.matmul(sequences, cell.in_kernel) + cell.in_bias
    # The K - 1 inner inputs before the first step (zeros by default) lead the sequence, so every step sees K.
    head, x = ops.reshape(states[0], (batch, width - 1, d)), xz[..., :d]
    xc = _convolved(cell, x, head, route)
    delta, b, c = cell.selection(xc)
    h0 = ops.reshape(states[1], (batch, d, n))
    y, h_last = selective_scan(delta, xc, b, c, -ops.exp(cell.a_log), cell.skip.value, h0, route)
    gates = xz[..., d:]
    outputs = cell.gated(y, gates) if every_step else cell.gated(y[:, -1:], gates[:, -1:])
    last_inputs = ops.reshape(ops.concatenate([head, x[:, 1 - width :]], axis=1)[:, 1 - width :], (batch, -1))
    return outputs, [last_inputs, ops.reshape(h_last, (batch, d * n))]


def _convolved(cell: Any, x: Any, head: Any, route: str) -> Any:
    """x' (batch, steps, d), the causal convolution and its SiLU over the inner inputs x (batch, steps, d) led by
    head (batch, K - 1, d): compiled on the ``kernel`` route, else as K shifted slices."""
    from keras import ops

    if route == "kernel":
        from rnnbench.kernels import jax_ops

        return jax_ops.causal_conv(x, head, cell.conv_kernel.value, cell.conv_bias.value)
    padded, steps = ops.concatenate([head, x], axis=1), ops.shape(x)[1]
    windows = sum(padded[:, k : k + steps] * cell.conv_kernel[k] for k in range(cell.conv_width))
    return ops.silu(windows + cell.conv_bias)


def selective_scan(delta: Any, x: Any, b: Any, c: Any, a: Any, d: Any, h0: Any, route: str) -> tuple[Any, Any]:
    """(y (batch, steps, inner), h_T (batch, inner, N)) of h_t = exp(Delta_t A) * h_{t-1} + (Delta_t x_t) outer B_t,
    y_t = h_t C_t + D x_t, for Delta and x (batch, steps, inner), B and C (batch, steps, N), A (inner, N), D (inner)
    and h0 (batch, inner, N), by ``route`` (see :func:`rnnbench.models.linear_scan.scan_route`)."""
    if route == "kernel":
        from rnnbench.kernels import jax_ops

        return jax_ops.selective_scan(delta, x, b, c, a, d, h0)
    if route == "parallel":
        return _associative_scan(delta, x, b, c, a, d, h0)
    return _scan_step_by_step(delta, x, b, c, a, d, h0)


def _associative_scan(delta: Any, x: Any, b: Any, c: Any, a: Any, d: Any, h0: Any) -> tuple[Any, Any]:
    """The selective scan as an associative scan over the steps: (batch, steps, inner, N) arrays."""
    from keras import ops

    decay = ops.exp(delta[..., None] * a)
    drive = (delta * x)[..., None] * b[:, :, None, :]

    # h_t = P h_s + S composes as (P1 P2, P2 S1 + S2): products of decays in (0, 1], no logarithms, so the drive may
    # have any sign.
    def compose(earlier: tuple[Any, Any], later: tuple[Any, Any]) -> tuple[Any, Any]:
        return earlier[0] * later[0], later[0] * earlier[1] + later[1]

    products, sums = ops.associative_scan(compose, (decay, drive), axis=1)
    # TensorFlow's scan loses the static shape in its branches; what follows needs it.
    shape = ops.shape(decay)
    h = ops.reshape(products, shape) * h0[:, None] + ops.reshape(sums, shape)
    return ops.sum(h * c[:, :, None, :], axis=-1) + d * x, h[:, -1]


def _scan_step_by_step(delta: Any, x: Any, b: Any, c: Any, a: Any, d: Any, h0: Any) -> tuple[Any, Any]:
    """The selective scan one step after another (``lax.scan`` on JAX)."""
    from keras import ops

    def step(h: Any, inputs: tuple[Any, ...]) -> tuple[Any, Any]:
        delta_t, x_t, b_t, c_t = inputs
        h = ops.exp(delta_t[..., None] * a) * h + (delta_t * x_t)[..., None] * b_t[:, None, :]
        return h, ops.sum(h * c_t[:, None, :], axis=-1) + d * x_t

    time_major = tuple(ops.moveaxis(value, 1, 0) for value in (delta, x, b, c))
    h_last, y = ops.scan(step, h0, time_major)
    return ops.moveaxis(y, 0, 1), h_last


def _uniform(limit: float) -> Any:
    """A Keras initializer, uniform in +-``limit``."""
    import keras

    return keras.initializers.RandomUniform(-limit, limit)


def _dt_bias_initializer(shape: Any, dtype: Any = None) -> Any:
    """The inverse softplus of step sizes log-uniform in [DT_MIN, DT_MAX] (at least DT_FLOOR), so that Delta starts
    there."""
    import keras
    from keras import ops

    uniform = keras.initializers.RandomUniform(math.log(DT_MIN), math.log(DT_MAX))(shape, dtype=dtype)
    dt = ops.maximum(ops.exp(uniform), DT_FLOOR)
    return dt + ops.log(-ops.expm1(-dt))


def _a_log_initializer(shape: Any, dtype: Any = None) -> Any:
    """log(1), ..., log(N) in every row (S4D-real): A = -(1, ..., N)."""
    from keras import ops

    rows, n = shape
    return ops.log(ops.tile(ops.arange(1, n + 1, dtype=dtype)[None, :], (rows, 1)))


keras_classes, __getattr__ = lazy_keras_classes(__name__, _define, "MambaCell", "MambaRNN")


def reference_step(w: Weights, config: Config, u: np.ndarray, states: States) -> tuple[np.ndarray, States]:
    """The paper's step in NumPy, written from the equations."""
    n, big_n = config["units"], config["state_size"]
    d, rank = config["expansion"] * n, step_rank(n)
    batch = u.shape[0]
    x, z = np.split(u @ w["in_kernel"] + w["in_bias"], 2, axis=-1)
    window = np.concatenate([states[0].reshape(batch, -1, d), x[:, None]], axis=1)  # x_{t-K+1}, ..., x_t
    pre = np.einsum("bkd,kd->bd", window, w["conv_kernel"]) + w["conv_bias"]
    xc = pre / (1.0 + np.exp(-pre))
    r, b, c = np.split(xc @ w["x_kernel"], [rank, rank + big_n], axis=-1)
    delta = np.logaddexp(0.0, r @ w["dt_kernel"] + w["dt_bias"])
    a = -np.exp(w["a_log"])
    h = states[1].reshape(batch, d, big_n)
    h = np.exp(delta[:, :, None] * a) * h + np.einsum("bd,bn->bdn", delta * xc, b)
    y = np.einsum("bdn,bn->bd", h, c) + w["d"] * xc
    o = (y * z / (1.0 + np.exp(-z))) @ w["out_kernel"]
    return o, [window[:, 1:].reshape(batch, -1), h.reshape(batch, -1)]


def _cost_per_step(units: int, features: int) -> int:
    """Multiply-adds of a step at the default options, one per weight of a matrix: the projections W_in, W_x, W_dt
    and W_out, the convolution's K taps and the scan's d x N decays."""
    inner, rank = EXPANSION * units, step_rank(units)
    projections = inner * (2 * features + rank + 2 * STATE_SIZE + rank + units)
    return projections + inner * CONV_WIDTH + inner * STATE_SIZE


@register_model(
    "mamba",
    description="Mamba's selective state space block (no residual or normalisation): input-dependent step size "
    "and state matrices after a causal convolution",
    equations="(x_t, z_t) = W_in u_t + b_in; x'_t = silu(conv_K(x)_t); (r_t, B_t, C_t) = W_x x'_t; "
    "Delta_t = softplus(W_dt r_t + b_dt); h_t = exp(Delta_t A)*h_{t-1} + (Delta_t*x'_t) B_t^T; "
    "o_t = W_out((h_t C_t + D*x'_t) * silu(z_t))",
    paper="Gu & Dao, Mamba: linear-time sequence modeling with selective state spaces, arXiv:2312.00752, 2023",
    keras_classes=keras_classes,
    cost_per_step=_cost_per_step,
    contract=CellContract(
        recurrent_params=lambda units, features: recurrent_params(units, features),
        reference_params=24586,
        matched_units=(23, 64, 164),
        reference_step=reference_step,
        step_options=(("state_size", 3), ("expansion", 3), ("conv_width", 3)),
    ),
    options=(
        CellOption("state_size", int, STATE_SIZE, "N, the state's size per inner channel", minimum=1),
        CellOption("expansion", int, EXPANSION, "E, the inner width d = E units", minimum=1),
        CellOption("conv_width", int, CONV_WIDTH, "K, the steps the causal convolution reads", minimum=2),
    ),
)
def mamba(units: int, return_sequences: bool = False, name: str = "recurrent", **options: Any) -> Any:
    cell, layer = keras_classes()
    # Keras' masked loop repeats a masked step's output from the cell's first state unless it outputs zeros there;
    # this cell's first state is its convolution's inputs, not its output.
    return layer(cell(units, **options), return_sequences=return_sequences, zero_output_for_mask=True, name=name)
