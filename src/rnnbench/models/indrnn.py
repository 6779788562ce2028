"""IndRNN: each unit has one recurrent weight, bounded so that gradients neither vanish nor explode over T steps.

Li, Li, Cook, Zhu & Gao, Independently Recurrent Neural Network (IndRNN): Building a longer and deeper RNN, CVPR 2018.

The Keras classes are defined on first use (:func:`keras_classes`), so importing this module does not import Keras.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from rnnbench.models.contract import CellContract, Config, States, Weights
from rnnbench.models.lazy import lazy_keras_classes
from rnnbench.models.options import CellOption
from rnnbench.models.registry import register_model

# Sequence length assumed when the cell is built without one (a standalone cell, or a variable-length input): the
# paper's pixel-by-pixel MNIST, the longest view here, whose bound is the tightest.
DEFAULT_TIMESTEPS = 784
# gamma of recurrent_bound: the paper's value.
MAX_GRADIENT = 2.0


def recurrent_bound(timesteps: int, max_gradient: float = MAX_GRADIENT) -> float:
    """The largest |u| allowed: ``max_gradient ** (1 / timesteps)``.

    With ReLU, the gradient through T steps of an active unit is u^T, so |u| <= gamma^(1/T) keeps it at most gamma
    (the paper's constraint; gamma = 2 as in its experiments, where the later official PyTorch code defaults to 5).
    """
    return float(max_gradient) ** (1.0 / timesteps)


if TYPE_CHECKING:
    from collections.abc import Callable

    IndRNNCell: Any
    IndRNN: Any


def _define() -> tuple[Any, ...]:
    return _cell_class(), _layer_class()


def _cell_class() -> type:
    import keras
    from keras import ops

    class IndRNNCell(keras.layers.Layer):
        """h_t = relu(x_t W + u * h_{t-1} + b), with |u| <= recurrent_bound(timesteps, max_gradient).

        Inputs (batch, features); state and output (batch, units). Parameters: units * (features + 2).
        Initialisation follows the official code: W Kaiming-uniform (a=8, fan in), b = 0, and u uniform in
        [bound^-1, bound] (``long_memory_init``, its init for the layer that feeds the classifier, which ours
        always is) or [0, bound] (its init for inner layers).
        """

        def __init__(
            self,
            units: int,
            timesteps: int | None = None,
            max_gradient: float = MAX_GRADIENT,
            long_memory_init: bool = True,
            **kwargs: Any,
        ) -> None:
            super().__init__(**kwargs)
            self.units = units
            self.timesteps = timesteps
            self.max_gradient = max_gradient
            self.long_memory_init = long_memory_init
            self.state_size = units
            self.output_size = units

        @property
        def bound(self) -> float:
            return recurrent_bound(self.timesteps or DEFAULT_TIMESTEPS, self.max_gradient)

        def build(self, input_shape: Any) -> None:
            bound = self.bound
            # PyTorch's kaiming_uniform_(a=8, mode="fan_in"): limit sqrt(6 / ((1 + a^2) fan_in)).
            kaiming = keras.initializers.VarianceScaling(2.0 / 65.0, "fan_in", "uniform")
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer=kaiming, name="kernel")
            memory = keras.initializers.RandomUniform(1.0 / bound if self.long_memory_init else 0.0, bound)
            self.recurrent_kernel = self.add_weight(
                shape=(self.units,), initializer=memory, constraint=_clip_to(bound), name="recurrent_kernel"
            )
            self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

        def call(self, inputs: Any, states: Any) -> tuple[Any, list[Any]]:
            previous = states[0] if isinstance(states, (list, tuple)) else states
            h = ops.relu(ops.matmul(inputs, self.kernel) + self.recurrent_kernel * previous + self.bias)
            return h, [h]

        def get_config(self) -> dict[str, Any]:
            return {
                **super().get_config(),
                "units": self.units,
                "timesteps": self.timesteps,
                "max_gradient": self.max_gradient,
                "long_memory_init": self.long_memory_init,
            }

    return IndRNNCell


def _layer_class() -> type:
    import keras

    class IndRNN(keras.layers.RNN):
        """``keras.layers.RNN`` that tells its IndRNNCell the sequence length T, on which the bound depends."""

        def build(self, sequences_shape: Any, initial_state_shape: Any = None) -> None:
            if self.cell.timesteps is None and sequences_shape[1] is not None:
                self.cell.timesteps = int(sequences_shape[1])
            super().build(sequences_shape, initial_state_shape)

        def inner_loop(self, sequences: Any, initial_state: Any, mask: Any, training: bool = False) -> Any:
            if not takes_kernel(self, mask):
                return super().inner_loop(sequences, initial_state, mask, training)
            return kernel_loop(self, sequences, initial_state[0])

    return IndRNN


def takes_kernel(layer: Any, mask: Any = None) -> bool:
    """Whether ``layer`` runs its sequence as one compiled call (:func:`rnnbench.kernels.jax_ops.indrnn_sequence`):
    where the linear scan does (JAX on the CPU with the kernels built, float32, outside
    :func:`rnnbench.models.fast.stock_recurrence`, not under ``RNNBENCH_FAST_LAYERS=0``), without a mask or unroll.
    Otherwise the cell runs in Keras' own loop, the reference."""
    from rnnbench.models.linear_scan import scan_route

    return mask is None and not layer.unroll and scan_route(layer.compute_dtype) == "kernel"


def kernel_loop(layer: Any, sequences: Any, h0: Any) -> tuple[Any, Any, list[Any]]:
    """What ``keras.layers.RNN.inner_loop`` returns (last output, outputs, states) for sequences (batch, steps,
    features) from h0 (batch, units), by the compiled sequence."""
    import keras
    from keras import ops

    from rnnbench.kernels import jax_ops

    if keras.backend.standardize_dtype(sequences.dtype) != layer.compute_dtype:
        sequences = ops.cast(sequences, layer.compute_dtype)
    if layer.go_backwards:
        # Keras returns the outputs of a backward layer in the order it reads the steps.
        sequences = ops.flip(sequences, axis=1)
    cell = layer.cell
    hseq, last = jax_ops.indrnn_sequence(
        ops.matmul(sequences, cell.kernel), cell.recurrent_kernel.value, cell.bias.value, h0
    )
    return last, hseq if layer.return_sequences else last[:, None], [last]


def _clip_to(bound: float) -> Callable[[Any], Any]:
    """The constraint |u| <= ``bound``, element-wise: Keras' optimizers apply it after every update, as the official
    code clips before each step."""

    def clip(u: Any) -> Any:
        from keras import ops

        return ops.clip(u, -bound, bound)

    return clip


keras_classes, __getattr__ = lazy_keras_classes(__name__, _define, "IndRNNCell", "IndRNN")


def reference_step(w: Weights, config: Config, x: np.ndarray, states: States) -> tuple[np.ndarray, States]:
    """The paper's step in NumPy: the bound constrains training, not the step."""
    (h,) = states
    h = np.maximum(x @ w["kernel"] + w["recurrent_kernel"] * h + w["bias"], 0.0)
    return h, [h]


@register_model(
    "indrnn",
    description="independently recurrent network: one bounded recurrent weight per unit, ReLU",
    equations="h_t = relu(W x_t + u * h_{t-1} + b), |u| <= 2^(1/T)",
    paper="Li et al., Independently recurrent neural network (IndRNN): building a longer and deeper RNN, CVPR 2018",
    keras_classes=keras_classes,
    cost_per_step=lambda units, features: units * (features + 1),  # W x, and u * h element-wise
    contract=CellContract(
        recurrent_params=lambda units, features: units * (features + 2),  # W (d, n), u (n), b (n)
        reference_params=2826,
        matched_units=(156, 561, 2272),
        reference_step=reference_step,
    ),
    options=(
        # Below 1 the initial range [1/bound, bound] of the recurrent weights is empty; at 1 it is the point 1.
        CellOption(
            "max_gradient", float, MAX_GRADIENT, "largest gradient through all time steps", exclusive_minimum=1.0
        ),
        CellOption("long_memory_init", bool, True, "recurrent weights start in [1/bound, bound], not [0, bound]"),
    ),
)
def indrnn(units: int, return_sequences: bool = False, name: str = "recurrent", **options: Any) -> Any:
    cell, layer = keras_classes()
    return layer(cell(units, **options), return_sequences=return_sequences, name=name)
