"""coRNN: a network of coupled, damped, driven oscillators, discretised with an implicit-explicit (IMEX) scheme.

Rusch & Mishra, Coupled oscillatory recurrent neural network (coRNN): an accurate and (gradient) stable architecture
for learning long time dependencies, ICLR 2021.

On JAX on the CPU its layer runs the whole sequence as one compiled call (:func:`kernel_loop`), elsewhere Keras'
loop over the cell. The Keras classes are defined on first use (:func:`keras_classes`), so importing this module
does not import Keras.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from rnnbench.models.contract import CellContract, Config, States, Weights
from rnnbench.models.fast import ordered_floats, takes_sequence_kernel
from rnnbench.models.lazy import lazy_keras_classes
from rnnbench.models.options import CellOption
from rnnbench.models.registry import register_model

# The paper's sequential-MNIST hyper-parameters, also the defaults of the official sMNIST script.
DT, GAMMA, EPSILON = 0.042, 2.7, 4.7


if TYPE_CHECKING:
    CoRNNCell: Any
    CoRNN: Any


def _define() -> tuple[Any, ...]:
    import keras

    class CoRNNCell(keras.layers.Layer):
        """z_n = z_{n-1} + dt (tanh(W y_{n-1} + W_z z_{n-1} + V u_n + b) - gamma y_{n-1} - eps z_{n-1});
        y_n = y_{n-1} + dt z_n.

        Inputs u (batch, features); states [y, z] and output y, each (batch, units).
        Parameters: units * (features + 2 units + 1). Initialisation as the official code's single
        ``nn.Linear(features + 2 units, units)``: every weight and bias uniform in +-1/sqrt(features + 2 units).
        """

        def __init__(
            self, units: int, dt: float = DT, gamma: float = GAMMA, epsilon: float = EPSILON, **kwargs: Any
        ) -> None:
            super().__init__(**kwargs)
            self.units = units
            self.dt = dt
            self.gamma = gamma
            self.epsilon = epsilon
            self.state_size = [units, units]
            self.output_size = units

        def build(self, input_shape: Any) -> None:
            features, n = int(input_shape[-1]), self.units
            limit = (features + 2 * n) ** -0.5
            init = keras.initializers.RandomUniform(-limit, limit)
            self.kernel = self.add_weight(shape=(features, n), initializer=init, name="kernel")
            self.recurrent_kernel = self.add_weight(shape=(n, n), initializer=init, name="recurrent_kernel")
            self.velocity_kernel = self.add_weight(shape=(n, n), initializer=init, name="velocity_kernel")
            self.bias = self.add_weight(shape=(n,), initializer=init, name="bias")

        def call(self, inputs: Any, states: Any) -> tuple[Any, list[Any]]:
            y, z = _cornn_step(self, inputs, *states)
            return y, [y, z]

        def get_config(self) -> dict[str, Any]:
            options = {"units": self.units, "dt": self.dt, "gamma": self.gamma, "epsilon": self.epsilon}
            return {**super().get_config(), **options}

    class CoRNN(keras.layers.RNN):
        """``keras.layers.RNN`` over a CoRNNCell, its whole sequence one compiled call where it can be
        (:func:`rnnbench.models.fast.takes_sequence_kernel`), Keras' loop over the cell elsewhere."""

        def inner_loop(self, sequences: Any, initial_state: Any, mask: Any, training: bool = False) -> Any:
            if not takes_sequence_kernel(self, mask):
                return super().inner_loop(sequences, initial_state, mask, training)
            return kernel_loop(self, sequences, initial_state)

    return CoRNNCell, CoRNN


def _cornn_step(cell: Any, inputs: Any, y: Any, z: Any) -> tuple[Any, Any]:
    """(y_n, z_n), each (batch, units), from u_n (batch, features) and y_{n-1}, z_{n-1} (batch, units)."""
    from keras import ops

    force = ops.tanh(
        ops.matmul(y, cell.recurrent_kernel)
        + ops.matmul(z, cell.velocity_kernel)
        + ops.matmul(inputs, cell.kernel)
        + cell.bias
    )
    # IMEX: the velocity is updated from the old position, then the position from the new velocity.
    z = z + cell.dt * (force - cell.gamma * y - cell.epsilon * z)
    y = y + cell.dt * z
    return y, z


def kernel_loop(layer: Any, sequences: Any, initial_state: Any) -> tuple[Any, Any, list[Any]]:
    """What ``keras.layers.RNN.inner_loop`` returns (last output, outputs, states [y, z]) for sequences (batch, steps,
    features) from initial_state [y0, z0] (batch, units each), by the compiled sequence."""
    from rnnbench.kernels import jax_ops

    cell = layer.cell
    weights = (cell.kernel.value, cell.bias.value, cell.recurrent_kernel.value, cell.velocity_kernel.value)
    yseq, y_last, z_last = jax_ops.cornn_sequence(
        ordered_floats(layer, sequences), *weights, *initial_state, dt=cell.dt, gamma=cell.gamma, epsilon=cell.epsilon
    )
    return y_last, yseq if layer.return_sequences else y_last[:, None], [y_last, z_last]


keras_classes, __getattr__ = lazy_keras_classes(__name__, _define, "CoRNNCell", "CoRNN")


def reference_step(w: Weights, config: Config, u: np.ndarray, states: States) -> tuple[np.ndarray, States]:
    """The paper's IMEX step in NumPy, in its notation."""
    y, z = states
    dt, gamma, eps = config["dt"], config["gamma"], config["epsilon"]
    W, W_z, V, b = w["recurrent_kernel"], w["velocity_kernel"], w["kernel"], w["bias"]
    z = z + dt * (np.tanh(y @ W + z @ W_z + u @ V + b) - gamma * y - eps * z)
    y = y + dt * z
    return y, [y, z]


@register_model(
    "cornn",
    description="coupled oscillatory RNN: second-order ODE of damped, driven oscillators (IMEX, dt=0.042)",
    equations="z_n = z_{n-1} + dt*(tanh(W y_{n-1} + W_z z_{n-1} + V u_n + b) - gamma*y_{n-1} - eps*z_{n-1}); "
    "y_n = y_{n-1} + dt*z_n",
    paper="Rusch & Mishra, Coupled oscillatory recurrent neural network (coRNN), ICLR 2021",
    keras_classes=keras_classes,
    cost_per_step=lambda units, features: units * (2 * units + features),  # V u, W y, W_z z
    contract=CellContract(
        # V (d, n), W (n, n), W_z (n, n), b (n)
        recurrent_params=lambda units, features: units * (features + 2 * units + 1),
        reference_params=10954,
        matched_units=(49, 101, 213),
        reference_step=reference_step,
        step_options=(("dt", 0.3), ("gamma", 1.5), ("epsilon", 2.0)),
    ),
    options=(
        CellOption("dt", float, DT, "time step of the discretised ODE", exclusive_minimum=0.0),
        CellOption("gamma", float, GAMMA, "stiffness: how strongly each oscillator is pulled back", minimum=0.0),
        CellOption("epsilon", float, EPSILON, "damping of the velocity", minimum=0.0),
    ),
)
def cornn(units: int, return_sequences: bool = False, name: str = "recurrent", **options: Any) -> Any:
    cell, layer = keras_classes()
    return layer(cell(units, **options), return_sequences=return_sequences, name=name)
