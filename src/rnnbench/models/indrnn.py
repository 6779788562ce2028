"""IndRNN: each unit has one recurrent weight, bounded so that gradients neither vanish nor explode over T steps.

Li, Li, Cook, Zhu & Gao, Independently Recurrent Neural Network (IndRNN): Building a longer and deeper RNN, CVPR 2018.

The Keras classes are defined on first use (:func:`keras_classes`), so importing this module does not import Keras.
"""

from __future__ import annotations

import functools
from typing import Any

from rnnbench.models.registry import register_model

# Sequence length assumed when the cell is built without one (a standalone cell, or a variable-length input): the
# paper's pixel-by-pixel MNIST, the longest view here, whose bound is the tightest.
DEFAULT_TIMESTEPS = 784


def recurrent_bound(timesteps: int, max_gradient: float = 2.0) -> float:
    """The largest |u| allowed: ``max_gradient ** (1 / timesteps)``.

    With ReLU, the gradient through T steps of an active unit is u^T, so |u| <= gamma^(1/T) keeps it at most gamma
    (the paper's constraint; gamma = 2 as in its experiments, where the later official PyTorch code defaults to 5).
    """
    return float(max_gradient) ** (1.0 / timesteps)


@functools.cache
def keras_classes() -> tuple[Any, Any]:
    """``(IndRNNCell, IndRNN)``, defined and registered as Keras serializables on first call."""
    import keras
    from keras import ops

    @keras.saving.register_keras_serializable(package="rnnbench")
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
            max_gradient: float = 2.0,
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
            self.kernel = self.add_weight(
                shape=(input_shape[-1], self.units),
                # PyTorch's kaiming_uniform_(a=8, mode="fan_in"): limit sqrt(6 / ((1 + a^2) fan_in)).
                initializer=keras.initializers.VarianceScaling(2.0 / 65.0, "fan_in", "uniform"),
                name="kernel",
            )
            self.recurrent_kernel = self.add_weight(
                shape=(self.units,),
                initializer=keras.initializers.RandomUniform(1.0 / bound if self.long_memory_init else 0.0, bound),
                # Keras' optimizers apply a constraint after every update, as the official code clips before each step.
                constraint=lambda u: ops.clip(u, -bound, bound),
                name="recurrent_kernel",
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

    @keras.saving.register_keras_serializable(package="rnnbench")
    class IndRNN(keras.layers.RNN):
        """``keras.layers.RNN`` that tells its IndRNNCell the sequence length T, on which the bound depends."""

        def build(self, sequences_shape: Any, initial_state_shape: Any = None) -> None:
            if self.cell.timesteps is None and sequences_shape[1] is not None:
                self.cell.timesteps = int(sequences_shape[1])
            super().build(sequences_shape, initial_state_shape)

    return IndRNNCell, IndRNN


def __getattr__(name: str) -> Any:
    """``IndRNNCell`` and ``IndRNN`` as module attributes, defined (and Keras imported) when first asked for."""
    if name in ("IndRNNCell", "IndRNN"):
        cell, layer = keras_classes()
        return cell if name == "IndRNNCell" else layer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@register_model(
    "indrnn",
    description="independently recurrent network: one bounded recurrent weight per unit, ReLU",
    equations="h_t = relu(W x_t + u * h_{t-1} + b), |u| <= 2^(1/T)",
    paper="Li et al., Independently recurrent neural network (IndRNN): building a longer and deeper RNN, CVPR 2018",
)
def indrnn(units: int, return_sequences: bool = False, name: str = "recurrent") -> Any:
    cell, layer = keras_classes()
    return layer(cell(units), return_sequences=return_sequences, name=name)
