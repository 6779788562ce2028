"""LRU: a linear recurrence with a complex diagonal matrix, stable by construction and normalised at the input.

Orvieto, Smith, Gu, Fernando, Gulcehre, Pascanu & De, Resurrecting recurrent neural networks for long sequences,
ICML 2023.

Complex numbers are carried as separate real and imaginary tensors so that the cell runs on every Keras backend.
The cell defines one step, the reference (and what masked inputs and ``unroll`` run); the layer (:class:`LRU`) runs a
whole sequence at once, since lambda does not depend on the input: the input term gamma * (B x_t) of every step and
the outputs Re(C h_t) + D x_t as matrix products, and the recurrence h_t = lambda * h_{t-1} + u_t as one operation
over the steps (:func:`complex_scan`), by the route of :func:`rnnbench.models.linear_scan.scan_route`:

- ``kernel``: JAX on the CPU with the compiled kernels, one call forward and one backward
  (:func:`rnnbench.kernels.jax_ops.lru_sequence`);
- ``loop``: JAX on the CPU without them (no compiler, ``RNNBENCH_FAST_LAYERS=0``, an export, not float32): ``ops.scan``
  over the steps;
- ``parallel``: anywhere else (TensorFlow, torch, a GPU), an associative scan over the pairs (lambda, u).

The Keras classes are defined on first use (:func:`keras_classes`), so importing this module does not import Keras.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from rnnbench.models.contract import CellContract, Config, States, Weights
from rnnbench.models.lazy import lazy_keras_classes
from rnnbench.models.options import CellOption, OptionValue, format_value
from rnnbench.models.registry import register_model

# The ring of the paper's long-range experiments (sequential CIFAR among them; its pseudocode's defaults are
# [0, 1] and 6.28): |lambda| in [0.9, 0.999] gives memories of ten to a thousand steps from the start.
R_MIN, R_MAX, MAX_PHASE = 0.9, 0.999, 2.0 * math.pi


if TYPE_CHECKING:
    from collections.abc import Callable

    LRUCell: Any
    LRU: Any


def _define() -> tuple[Any, ...]:
    return _cell_class(), _layer_class()


def _cell_class() -> type:
    import keras

    class LRUCell(keras.layers.Layer):
        """h_t = lambda * h_{t-1} + gamma * (B x_t);  y_t = Re(C h_t) + D x_t, with complex h, lambda, B, C.

        lambda = exp(-exp(nu_log) + i exp(theta_log)), so |lambda| = exp(-exp(nu_log)) < 1 for every nu_log;
        gamma = exp(gamma_log), initialised to sqrt(1 - |lambda|^2) so that the state keeps the scale of its input
        however close |lambda| is to 1.
        Inputs x (batch, features); states [Re h, Im h] and output y, each (batch, units).
        D is a real (features, units) matrix: the paper's element-wise skip generalised to units != features.
        Parameters: units (3 features + 2 units + 3). Initialisation as the paper: |lambda|^2 uniform on
        [r_min^2, r_max^2], phase uniform on [0, max_phase]; B ~ N(0, 1/(2 features)), C ~ N(0, 1/units) for
        each of the real and imaginary parts; D ~ N(0, 1/features), the paper's N(0, 1) scaled by fan in.
        """

        def __init__(
            self, units: int, r_min: float = R_MIN, r_max: float = R_MAX, max_phase: float = MAX_PHASE, **kwargs: Any
        ) -> None:
            super().__init__(**kwargs)
            if not 0.0 <= r_min <= r_max <= 1.0:
                raise ValueError(f"LRU ring needs 0 <= r_min <= r_max <= 1, got r_min={r_min}, r_max={r_max}")
            self.units = units
            self.r_min = r_min
            self.r_max = r_max
            self.max_phase = max_phase
            self.state_size = [units, units]
            self.output_size = units

        def build(self, input_shape: Any) -> None:
            n, features = self.units, int(input_shape[-1])
            add = self.add_weight
            self.nu_log = add(shape=(n,), initializer=_nu_log_initializer(self.r_min, self.r_max), name="nu_log")
            self.theta_log = add(shape=(n,), initializer=_theta_log_initializer(self.max_phase), name="theta_log")
            self.gamma_log = add(shape=(n,), initializer=_gamma_log_initializer(self.nu_log), name="gamma_log")
            self.b_re = add(shape=(features, n), initializer=_normal((2 * features) ** -0.5), name="b_re")
            self.b_im = add(shape=(features, n), initializer=_normal((2 * features) ** -0.5), name="b_im")
            self.c_re = add(shape=(n, n), initializer=_normal(n**-0.5), name="c_re")
            self.c_im = add(shape=(n, n), initializer=_normal(n**-0.5), name="c_im")
            self.d = add(shape=(features, n), initializer=_normal(features**-0.5), name="d")

        def modulus(self) -> Any:
            """|lambda|, shape (units,)."""
            return _modulus(self.nu_log)

        def call(self, inputs: Any, states: Any) -> tuple[Any, list[Any]]:
            y, h_re, h_im = _lru_step(self, inputs, *states)
            return y, [h_re, h_im]

        def get_config(self) -> dict[str, Any]:
            options = {"units": self.units, "r_min": self.r_min, "r_max": self.r_max, "max_phase": self.max_phase}
            return {**super().get_config(), **options}

    return LRUCell


def _layer_class() -> type:
    import keras

    class LRU(keras.layers.RNN):
        """``keras.layers.RNN`` over an LRUCell: the whole sequence at once (see the module's docstring).

        Inputs (batch, steps, features); output (batch, units), or (batch, steps, units) with ``return_sequences``;
        states [Re h, Im h]. A masked input (or ``unroll``) runs the cell step by step, as Keras does.
        """

        def inner_loop(self, sequences: Any, initial_state: Any, mask: Any, training: bool = False) -> Any:
            if mask is not None or self.unroll:
                return super().inner_loop(sequences, initial_state, mask, training)
            from rnnbench.models.linear_scan import scan_route

            return whole_sequence(self, sequences, initial_state, scan_route(self.compute_dtype))

    return LRU


def whole_sequence(layer: Any, sequences: Any, initial_state: Any, route: str) -> tuple[Any, Any, list[Any]]:
    """What ``keras.layers.RNN.inner_loop`` returns (last output, outputs, [Re h_T, Im h_T]) for sequences (batch,
    steps, features) from initial_state [Re h0, Im h0], the recurrence by ``route`` (one of
    :data:`rnnbench.models.linear_scan.ROUTES`)."""
    import keras
    from keras import ops

    if keras.backend.standardize_dtype(sequences.dtype) != layer.compute_dtype:
        sequences = ops.cast(sequences, layer.compute_dtype)
    if layer.go_backwards:
        # Keras returns the outputs of a backward layer in the order it reads the steps.
        sequences = ops.flip(sequences, axis=1)
    cell, n = layer.cell, layer.cell.units
    gamma = ops.exp(cell.gamma_log)
    # gamma (B x) as (gamma B) x, real parts then imaginary parts side by side: one product in, one out. Its gradient
    # is then one product of x and dL/du, reduced by gamma's few values, not a pass over (batch, steps, 2 units).
    w = ops.concatenate([cell.b_re, cell.b_im], axis=1) * ops.concatenate([gamma, gamma])
    h0 = ops.concatenate(list(initial_state), axis=-1)
    hseq, last = complex_scan(sequences, w, *_lambda(cell), h0, route)
    # Re(C h) = Re(C) Re(h) - Im(C) Im(h).
    c = ops.concatenate([cell.c_re, -cell.c_im], axis=0)
    if layer.return_sequences:
        outputs = ops.matmul(hseq, c) + ops.matmul(sequences, cell.d)
        last_output = outputs[:, -1]
    else:
        last_output = ops.matmul(last, c) + ops.matmul(sequences[:, -1], cell.d)
        outputs = last_output[:, None]
    return last_output, outputs, [last[:, :n], last[:, n:]]


def complex_scan(sequences: Any, w: Any, lambda_re: Any, lambda_im: Any, h0: Any, route: str) -> tuple[Any, Any]:
    """(hseq (batch, steps, 2 units), h_T (batch, 2 units)) of h_t = lambda * h_{t-1} + u_t in complex numbers, for
    u = sequences w, sequences (batch, steps, features), w (features, 2 units) and h0 (batch, 2 units), real parts
    then imaginary parts in the last axis, and lambda_re, lambda_im (units,), by ``route``."""
    from keras import ops

    if route == "kernel":
        from rnnbench.kernels import jax_ops

        return jax_ops.lru_sequence(sequences, w, ops.concatenate([lambda_re, lambda_im]), h0)
    scan = associative_complex_scan if route == "parallel" else loop_complex_scan
    hseq = scan(ops.matmul(sequences, w), lambda_re, lambda_im, h0)
    return hseq, hseq[:, -1]


def associative_complex_scan(u: Any, lambda_re: Any, lambda_im: Any, h0: Any) -> Any:
    """hseq of :func:`complex_scan` by an associative scan over the steps: the pairs (a, b) of h_t = a h_s + b compose
    as (a1, b1) then (a2, b2) -> (a1 a2, a2 b1 + b2), from (lambda, u_t); then h_t = a_t h0 + b_t.

    Every a is a power of lambda, so it is carried as its exponent k (a1 a2 = lambda^(k1 + k2), a sum of whole
    numbers, exact) and read from a table of the powers (:func:`lambda_powers`). Products of products of lambda would
    share their rounding: lambda^512 by nine squarings is off by some 512 float32 epsilons, and so is every step
    behind it, where the cell's loop rounds each step on its own (gradients 3e-5 apart over 784 steps).
    """
    from keras import ops

    n = lambda_re.shape[0]
    u_re, u_im = u[..., :n], u[..., n:]
    powers_re, powers_im = (ops.reshape(table, (-1,)) for table in lambda_powers(lambda_re, lambda_im, u.shape[1]))
    units = ops.arange(n, dtype="int32")

    def power(k: Any) -> tuple[Any, Any]:
        index = ops.cast(k, "int32") * n + units
        return ops.take(powers_re, index), ops.take(powers_im, index)

    def compose(earlier: tuple[Any, Any, Any], later: tuple[Any, Any, Any]) -> tuple[Any, Any, Any]:
        (k1, b1_re, b1_im), (k2, b2_re, b2_im) = earlier, later
        a2_re, a2_im = power(k2)
        return k1 + k2, a2_re * b1_re - a2_im * b1_im + b2_re, a2_re * b1_im + a2_im * b1_re + b2_im

    k, b_re, b_im = ops.associative_scan(compose, (ops.ones_like(u_re), u_re, u_im), axis=1)
    a_re, a_im = power(k)
    h0_re, h0_im = h0[:, None, :n], h0[:, None, n:]
    # TensorFlow's scan loses the static shape in its branches; the layers after this one need it.
    shape = ops.shape(u_re)
    h_re = ops.reshape(a_re * h0_re - a_im * h0_im + b_re, shape)
    h_im = ops.reshape(a_re * h0_im + a_im * h0_re + b_im, shape)
    return ops.concatenate([h_re, h_im], axis=-1)


def lambda_powers(lambda_re: Any, lambda_im: Any, steps: int) -> tuple[Any, Any]:
    """(Re, Im) of lambda^k for k = 0 ... steps, each (steps + 1, units): lambda times lambda^(k-1), in the cell's
    arithmetic, so that each power is rounded as the cell's loop rounds its steps (one loop over (units,) vectors)."""
    from keras import ops

    def times_lambda(power: tuple[Any, Any], _: Any) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
        re, im = power
        power = (lambda_re * re - lambda_im * im, lambda_re * im + lambda_im * re)
        return power, power

    one = (ops.ones_like(lambda_re), ops.zeros_like(lambda_im))
    _, (re, im) = ops.scan(times_lambda, one, length=steps)
    return ops.concatenate([one[0][None], re], axis=0), ops.concatenate([one[1][None], im], axis=0)


def loop_complex_scan(u: Any, lambda_re: Any, lambda_im: Any, h0: Any) -> Any:
    """hseq of :func:`complex_scan` one step after another (``lax.scan`` on JAX), in the cell's own arithmetic."""
    from keras import ops

    n = lambda_re.shape[0]

    def step(h: Any, u_t: Any) -> tuple[Any, Any]:
        h_re, h_im = h[:, :n], h[:, n:]
        new_re = lambda_re * h_re - lambda_im * h_im + u_t[:, :n]
        new_im = lambda_re * h_im + lambda_im * h_re + u_t[:, n:]
        h = ops.concatenate([new_re, new_im], axis=-1)
        return h, h

    _, hseq = ops.scan(step, h0, ops.transpose(u, (1, 0, 2)))
    return ops.transpose(hseq, (1, 0, 2))


def _lambda(cell: Any) -> tuple[Any, Any]:
    """(Re lambda, Im lambda), each (units,)."""
    from keras import ops

    modulus, phase = _modulus(cell.nu_log), ops.exp(cell.theta_log)
    return modulus * ops.cos(phase), modulus * ops.sin(phase)


def _lru_step(cell: Any, inputs: Any, h_re: Any, h_im: Any) -> tuple[Any, Any, Any]:
    """(y_t, Re h_t, Im h_t), each (batch, units), from x_t (batch, features) and h_{t-1} (batch, units) twice."""
    from keras import ops

    lambda_re, lambda_im = _lambda(cell)
    gamma = ops.exp(cell.gamma_log)
    new_re = lambda_re * h_re - lambda_im * h_im + gamma * ops.matmul(inputs, cell.b_re)
    new_im = lambda_re * h_im + lambda_im * h_re + gamma * ops.matmul(inputs, cell.b_im)
    # Re(C h) = Re(C) Re(h) - Im(C) Im(h).
    y = ops.matmul(new_re, cell.c_re) - ops.matmul(new_im, cell.c_im) + ops.matmul(inputs, cell.d)
    return y, new_re, new_im


def _modulus(nu_log: Any) -> Any:
    """|lambda| = exp(-exp(nu_log)), the shape of ``nu_log``."""
    from keras import ops

    return ops.exp(-ops.exp(nu_log))


def _uniform_open(shape: Any, dtype: Any) -> Any:
    """Uniform on [1e-7, 1): never exactly 0, whose log would make theta_log (or nu_log when r_min = 0) infinite."""
    import keras

    return keras.initializers.RandomUniform(1e-7, 1.0)(shape, dtype=dtype)


def _nu_log_initializer(r_min: float, r_max: float) -> Callable[..., Any]:
    """nu_log such that |lambda|^2 is uniform on [r_min^2, r_max^2]."""

    def init(shape: Any, dtype: Any = None) -> Any:
        from keras import ops

        radius_squared = _uniform_open(shape, dtype) * (r_max**2 - r_min**2) + r_min**2
        return ops.log(-0.5 * ops.log(radius_squared))

    return init


def _theta_log_initializer(max_phase: float) -> Callable[..., Any]:
    """theta_log such that the phase exp(theta_log) is uniform on [0, max_phase]."""

    def init(shape: Any, dtype: Any = None) -> Any:
        from keras import ops

        return ops.log(max_phase * _uniform_open(shape, dtype))

    return init


def _gamma_log_initializer(nu_log: Any) -> Callable[..., Any]:
    """gamma_log = log sqrt(1 - |lambda|^2) for the initialised ``nu_log``."""

    def init(shape: Any, dtype: Any = None) -> Any:
        from keras import ops

        # 1 - |lambda|^2 = -expm1(-2 nu), accurate for |lambda| near 1.
        return 0.5 * ops.log(-ops.expm1(-2.0 * ops.exp(ops.cast(nu_log, dtype))))

    return init


def _normal(stddev: float) -> Callable[..., Any]:
    """A Keras initializer, (shape, dtype) -> tensor, of N(0, stddev^2)."""
    import keras

    return keras.initializers.RandomNormal(stddev=stddev)


keras_classes, __getattr__ = lazy_keras_classes(__name__, _define, "LRUCell", "LRU")


def reference_step(w: Weights, config: Config, x: np.ndarray, states: States) -> tuple[np.ndarray, States]:
    """The paper's step in NumPy, in complex arithmetic as the paper writes it (the cell keeps real and imaginary
    parts apart)."""
    h = states[0] + 1j * states[1]
    lam = np.exp(-np.exp(w["nu_log"]) + 1j * np.exp(w["theta_log"]))
    B = w["b_re"] + 1j * w["b_im"]
    C = w["c_re"] + 1j * w["c_im"]
    h = lam * h + np.exp(w["gamma_log"]) * (x @ B)
    y = (h @ C).real + x @ w["d"]
    return y, [h.real, h.imag]


def _ring_check(options: Mapping[str, OptionValue]) -> str | None:
    r_min, r_max = options["r_min"], options["r_max"]
    if r_min > r_max:
        return f"r_min={format_value(r_min)} must be <= r_max={format_value(r_max)}"
    return None


@register_model(
    "lru",
    description="linear recurrent unit: complex diagonal linear recurrence, exponential parameterisation, ring init",
    equations="h_t = lambda*h_{t-1} + exp(gamma_log)*(B x_t), lambda = exp(-exp(nu_log) + i*exp(theta_log)); "
    "y_t = Re(C h_t) + D x_t",
    paper="Orvieto et al., Resurrecting recurrent neural networks for long sequences, ICML 2023",
    keras_classes=keras_classes,
    # B re+im (2d n), C re+im (2 n^2), D (d n); the diagonal recurrence is O(n).
    cost_per_step=lambda units, features: units * (2 * units + 3 * features),
    contract=CellContract(
        # nu, theta, gamma (3n), B re+im (2dn), C re+im (2n^2), D (dn)
        recurrent_params=lambda units, features: units * (3 * features + 2 * units + 3),
        reference_params=14666,
        matched_units=(38, 89, 200),
        reference_step=reference_step,
    ),
    # |lambda| of exactly 1 or 0 would start nu_log at -inf or +inf: the ring stays strictly inside the unit circle.
    options=(
        CellOption("r_min", float, R_MIN, "smallest |lambda| at initialisation", minimum=0.0, exclusive_maximum=1.0),
        CellOption(
            "r_max", float, R_MAX, "largest |lambda| at initialisation", exclusive_minimum=0.0, exclusive_maximum=1.0
        ),
        CellOption("max_phase", float, MAX_PHASE, "largest phase of lambda at initialisation", exclusive_minimum=0.0),
    ),
    check=_ring_check,
)
def lru(units: int, return_sequences: bool = False, name: str = "recurrent", **options: Any) -> Any:
    cell, layer = keras_classes()
    return layer(cell(units, **options), return_sequences=return_sequences, name=name)
