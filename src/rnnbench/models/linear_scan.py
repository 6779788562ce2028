"""The recurrent layer of cells whose gates read the input alone (minGRU, minLSTM): their state follows the linear
recurrence h_t = a_t * h_{t-1} + b_t, computed for the whole sequence in one operation instead of step by step.

A cell for :class:`LinearScanRNN` is a Keras RNN cell (its step, for masked inputs and the reference checks) with
methods ``coefficients(sequences) -> (a, b)`` and ``log_coefficients(sequences) -> (log_a, log_b)``, each (batch,
steps, units), b > 0; a cell with a compiled sequence of its own names it in ``fused_kernel`` (a key of
:data:`rnnbench.kernels.jax_ops.MINIMAL_CELLS`), which takes its ``kernel`` and ``bias`` as they are. The scan takes
one of three routes (:func:`scan_route`):

- ``kernel``: JAX on the CPU with the compiled kernels, h by a loop over time in C++, from the inputs and the cell's
  weights (:func:`rnnbench.kernels.jax_ops.minimal_sequence`) or from a and b
  (:func:`rnnbench.kernels.jax_ops.linear_scan`);
- ``loop``: JAX on the CPU without them (no compiler, ``RNNBENCH_FAST_LAYERS=0``, an export): ``lax.scan`` over the
  steps, which on a CPU is faster than the parallel scan (benchmarks/linear_scan.py);
- ``parallel``: anywhere else (TensorFlow, torch, a GPU), the associative scan in log space as the paper trains.

The Keras class is defined on first use (:func:`keras_classes`), so importing this module does not import Keras.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rnnbench.models.lazy import lazy_keras_classes

if TYPE_CHECKING:
    LinearScanRNN: Any
    InputGatedCell: Any

ROUTES = ("kernel", "loop", "parallel")


def scan_route(dtype: str = "float32") -> str:
    """Which form of the scan runs here for sequences of ``dtype``: one of :data:`ROUTES`."""
    import keras

    if keras.backend.backend() != "jax":
        return "parallel"
    import jax

    if jax.default_backend() != "cpu":
        return "parallel"
    from rnnbench.models import fast

    # An exported graph must run without rnnbench's kernels (fast.stock_recurrence).
    if fast.stock_only() or dtype != "float32":
        return "loop"
    from rnnbench.kernels import jax_ops

    return "kernel" if jax_ops.linear_scan_available() else "loop"


def log_g(x: Any) -> Any:
    """log g(x), the paper's positive activation g(x) = x + 1/2 for x >= 0, sigmoid(x) below, in log space."""
    from keras import ops

    return ops.where(x >= 0, ops.log(ops.relu(x) + 0.5), -ops.softplus(-x))


def g(x: Any) -> Any:
    """The paper's positive activation: x + 1/2 for x >= 0, sigmoid(x) below (continuous at 0)."""
    from keras import ops

    return ops.where(x >= 0, ops.relu(x) + 0.5, ops.sigmoid(x))


def scan_in_log_space(log_a: Any, log_b: Any, h0: Any) -> Any:
    """h_t = a_t h_{t-1} + b_t for log_a, log_b (batch, steps, units) and h0 (batch, units): hseq (batch, steps,
    units), by an associative scan over the steps.

    The pairs (log A, log B) of h_t = A h_s + B compose as (la1 + la2, logaddexp(lb1 + la2, lb2)): every partial
    result stays a log of a product or of a positive sum, never a difference of large numbers. The paper's form,
    a* = cumsum(log a) and a* + logcumsumexp(log b - a*), subtracts numbers that reach hundreds over 784 steps and loses
    float32 digits there. The initial state enters linearly, so it may have any sign (and be 0, whose log is not).
    """
    from keras import ops

    def compose(earlier: tuple[Any, Any], later: tuple[Any, Any]) -> tuple[Any, Any]:
        return earlier[0] + later[0], ops.logaddexp(earlier[1] + later[0], later[1])

    log_products, log_sums = ops.associative_scan(compose, (log_a, log_b), axis=1)
    # TensorFlow's scan loses the static shape in its branches; the layers after this one need it.
    shape = ops.shape(log_a)
    return ops.exp(ops.reshape(log_products, shape)) * h0[:, None, :] + ops.exp(ops.reshape(log_sums, shape))


def scan_step_by_step(a: Any, b: Any, h0: Any) -> Any:
    """The same recurrence from a, b (batch, steps, units) and h0 (batch, units), one step after another
    (``lax.scan`` on JAX): hseq (batch, steps, units)."""
    from keras import ops

    def step(h: Any, coefficients: tuple[Any, Any]) -> tuple[Any, Any]:
        h = coefficients[0] * h + coefficients[1]
        return h, h

    time_major = (ops.transpose(a, (1, 0, 2)), ops.transpose(b, (1, 0, 2)))
    _, hseq = ops.scan(step, h0, time_major)
    return ops.transpose(hseq, (1, 0, 2))


def linear_scan(a: Any, b: Any, h0: Any, route: str) -> Any:
    """hseq (batch, steps, units) of h_t = a_t h_{t-1} + b_t for a, b (batch, steps, units), b > 0, and h0 (batch,
    units), by ``route`` (see :func:`scan_route`)."""
    from keras import ops

    if route == "parallel":
        return scan_in_log_space(ops.log(a), ops.log(b), h0)
    if route == "kernel":
        from rnnbench.kernels import jax_ops

        return jax_ops.linear_scan(a, b, h0)
    return scan_step_by_step(a, b, h0)


def _layer_class() -> Any:
    import keras
    from keras import ops

    class LinearScanRNN(keras.layers.RNN):
        """``keras.layers.RNN`` over a cell with input-only gates: the whole sequence in one scan.

        Inputs (batch, steps, features); output (batch, units), or (batch, steps, units) with
        ``return_sequences``. A masked input (or ``unroll``) runs the cell step by step, as Keras does.
        """

        def inner_loop(self, sequences: Any, initial_state: Any, mask: Any, training: bool = False) -> Any:
            if mask is not None or self.unroll:
                return super().inner_loop(sequences, initial_state, mask, training)
            if keras.backend.standardize_dtype(sequences.dtype) != self.compute_dtype:
                sequences = ops.cast(sequences, self.compute_dtype)
            if self.go_backwards:
                # Keras returns the outputs of a backward layer in the order it reads the steps.
                sequences = ops.flip(sequences, axis=1)
            hseq, last = self.whole_sequence(sequences, initial_state[0])
            return last, hseq if self.return_sequences else last[:, None], [last]

        def whole_sequence(self, sequences: Any, h0: Any) -> tuple[Any, Any]:
            """(hseq (batch, steps, units), h_T (batch, units)) for sequences (batch, steps, features) from h0
            (batch, units), by the route this process takes."""
            route = scan_route(self.compute_dtype)
            fused = getattr(self.cell, "fused_kernel", None)
            if route == "kernel" and fused is not None:
                from rnnbench.kernels import jax_ops

                # The projection and the gates computed inside the kernel's loop: no (batch, steps, units) arrays.
                kernel, bias = (ops.convert_to_tensor(weight) for weight in (self.cell.kernel, self.cell.bias))
                return jax_ops.minimal_sequence(fused, sequences, kernel, bias, h0)
            if route == "parallel":
                log_a, log_b = self.cell.log_coefficients(sequences)
                hseq = scan_in_log_space(log_a, log_b, h0)
            else:
                # Gates straight from their pre-activations: fewer transcendental functions than through the logs.
                a, b = self.cell.coefficients(sequences)
                hseq = linear_scan(a, b, h0, route)
            return hseq, hseq[:, -1]

    return LinearScanRNN


def _cell_class() -> Any:
    import keras
    from keras import ops

    class InputGatedCell(keras.layers.Layer):
        """A cell whose gates read the input alone, one step of h_t = a_t * h_{t-1} + b_t.

        Inputs (batch, features); state and output (batch, units). ``kernel`` (features, GATES units) and ``bias``
        (GATES units) hold the input projections of its gates and candidate, side by side; initialised as PyTorch's
        ``nn.Linear`` in the paper's code, uniform in +-1/sqrt(features). A subclass gives ``GATES`` and, from the
        projections, ``coefficients`` (a, b) and ``log_coefficients`` (log a, log b).
        """

        GATES = 0

        def __init__(self, units: int, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units
            self.output_size = units

        def build(self, input_shape: Any) -> None:
            limit = int(input_shape[-1]) ** -0.5
            init = keras.initializers.RandomUniform(-limit, limit)
            width = self.GATES * self.units
            self.kernel = self.add_weight(shape=(input_shape[-1], width), initializer=init, name="kernel")
            self.bias = self.add_weight(shape=(width,), initializer=init, name="bias")

        def pre_activations(self, sequences: Any) -> tuple[Any, ...]:
            """Each gate's x W + b, (..., units), for inputs (..., features), in the order of ``kernel``."""
            n = self.units
            return tuple(ops.matmul(sequences, self.kernel[:, j * n : (j + 1) * n]) + self.bias[j * n : (j + 1) * n]
                         for j in range(self.GATES))  # fmt: skip

        def call(self, inputs: Any, states: Any) -> tuple[Any, list[Any]]:
            previous = states[0] if isinstance(states, (list, tuple)) else states
            a, b = self.coefficients(inputs)
            h = a * previous + b
            return h, [h]

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "units": self.units}

    return InputGatedCell


def _define() -> tuple[Any, ...]:
    return _layer_class(), _cell_class()


keras_classes, __getattr__ = lazy_keras_classes(__name__, _define, "LinearScanRNN", "InputGatedCell")
