"""LEM: long expressive memory, a multiscale ODE whose two learned time steps gate a fast and a slow state.

Rusch, Mishra, Erichson & Mahoney, Long expressive memory for sequence modeling, ICLR 2022.

On JAX on the CPU its layer runs the whole sequence as one compiled call (:func:`kernel_loop`), elsewhere Keras'
loop over the cell. The Keras classes are defined on first use (:func:`keras_classes`), so importing this module
does not import Keras.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from rnnbench.models.contract import CellContract, Config, States, Weights, sigmoid
from rnnbench.models.fast import ordered_floats, takes_sequence_kernel
from rnnbench.models.lazy import lazy_keras_classes
from rnnbench.models.options import CellOption
from rnnbench.models.registry import register_model

# The maximal time step of the official sequential-MNIST script (the paper's sMNIST setting).
DT = 0.21


if TYPE_CHECKING:
    LEMCell: Any
    LEM: Any


def _define() -> tuple[Any, ...]:
    import keras

    class LEMCell(keras.layers.Layer):
        """dt_n = dt sigmoid(W_1 y_{n-1} + V_1 u_n + b_1);  dtbar_n = dt sigmoid(W_2 y_{n-1} + V_2 u_n + b_2);
        z_n = (1 - dt_n) z_{n-1} + dt_n tanh(W_z y_{n-1} + V_z u_n + b_z);
        y_n = (1 - dtbar_n) y_{n-1} + dtbar_n tanh(W_y z_n + V_y u_n + b_y).

        Inputs u (batch, features); states [y, z] and output y, each (batch, units).
        ``kernel`` is [V_1 V_2 V_z V_y] (features, 4 units) with ``bias`` [b_1 b_2 b_z b_y]; ``recurrent_kernel`` is
        [W_1 W_2 W_z] (units, 3 units); ``state_kernel`` is W_y (units, units). Parameters: 4 units (features +
        units + 1), one bias per pre-activation as in the paper (the official code has 4 units more, as its three
        ``nn.Linear`` layers each carry a bias). Initialisation as the official code: everything uniform in
        +-1/sqrt(units).
        """

        def __init__(self, units: int, dt: float = DT, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.units = units
            self.dt = dt
            self.state_size = [units, units]
            self.output_size = units

        def build(self, input_shape: Any) -> None:
            n = self.units
            init = keras.initializers.RandomUniform(-(n**-0.5), n**-0.5)
            self.kernel = self.add_weight(shape=(input_shape[-1], 4 * n), initializer=init, name="kernel")
            self.recurrent_kernel = self.add_weight(shape=(n, 3 * n), initializer=init, name="recurrent_kernel")
            self.state_kernel = self.add_weight(shape=(n, n), initializer=init, name="state_kernel")
            self.bias = self.add_weight(shape=(4 * n,), initializer=init, name="bias")

        def call(self, inputs: Any, states: Any) -> tuple[Any, list[Any]]:
            y, z = _lem_step(self, inputs, *states)
            return y, [y, z]

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "units": self.units, "dt": self.dt}

    class LEM(keras.layers.RNN):
        """``keras.layers.RNN`` over a LEMCell, its whole sequence one compiled call where it can be
        (:func:`rnnbench.models.fast.takes_sequence_kernel`), Keras' loop over the cell elsewhere."""

        def inner_loop(self, sequences: Any, initial_state: Any, mask: Any, training: bool = False) -> Any:
            if not takes_sequence_kernel(self, mask):
                return super().inner_loop(sequences, initial_state, mask, training)
            return kernel_loop(self, sequences, initial_state)

    return LEMCell, LEM


def _lem_step(cell: Any, inputs: Any, y: Any, z: Any) -> tuple[Any, Any]:
    """(y_n, z_n), each (batch, units), from u_n (batch, features) and y_{n-1}, z_{n-1} (batch, units)."""
    from keras import ops

    from_input = ops.split(ops.matmul(inputs, cell.kernel) + cell.bias, 4, axis=-1)
    from_y = ops.split(ops.matmul(y, cell.recurrent_kernel), 3, axis=-1)
    dt_z = cell.dt * ops.sigmoid(from_input[0] + from_y[0])
    dt_y = cell.dt * ops.sigmoid(from_input[1] + from_y[1])
    z = (1.0 - dt_z) * z + dt_z * ops.tanh(from_input[2] + from_y[2])
    # The slow state reads the fast state of this step, not the previous one.
    y = (1.0 - dt_y) * y + dt_y * ops.tanh(ops.matmul(z, cell.state_kernel) + from_input[3])
    return y, z


def kernel_loop(layer: Any, sequences: Any, initial_state: Any) -> tuple[Any, Any, list[Any]]:
    """What ``keras.layers.RNN.inner_loop`` returns (last output, outputs, states [y, z]) for sequences (batch, steps,
    features) from initial_state [y0, z0] (batch, units each), by the compiled sequence."""
    from rnnbench.kernels import jax_ops

    cell = layer.cell
    weights = (cell.kernel.value, cell.bias.value, cell.recurrent_kernel.value, cell.state_kernel.value)
    yseq, y_last, z_last = jax_ops.lem_sequence(ordered_floats(layer, sequences), *weights, *initial_state, dt=cell.dt)
    return y_last, yseq if layer.return_sequences else y_last[:, None], [y_last, z_last]


keras_classes, __getattr__ = lazy_keras_classes(__name__, _define, "LEMCell", "LEM")


def reference_step(w: Weights, config: Config, u: np.ndarray, states: States) -> tuple[np.ndarray, States]:
    """The paper's step in NumPy, in its notation."""
    y, z = states
    dt = config["dt"]
    V1, V2, Vz, Vy = np.split(w["kernel"], 4, axis=1)
    b1, b2, bz, by = np.split(w["bias"], 4)
    W1, W2, Wz = np.split(w["recurrent_kernel"], 3, axis=1)
    Wy = w["state_kernel"]
    dt_n = dt * sigmoid(y @ W1 + u @ V1 + b1)
    dtbar_n = dt * sigmoid(y @ W2 + u @ V2 + b2)
    z = (1 - dt_n) * z + dt_n * np.tanh(y @ Wz + u @ Vz + bz)
    y = (1 - dtbar_n) * y + dtbar_n * np.tanh(z @ Wy + u @ Vy + by)
    return y, [y, z]


@register_model(
    "lem",
    description="long expressive memory: two states updated with learned, gated time steps (dt=0.21)",
    equations="dt_n, dtbar_n = dt*sigmoid(W_{1,2} y_{n-1} + V_{1,2} u_n + b_{1,2}); "
    "z_n = (1-dt_n)*z_{n-1} + dt_n*tanh(W_z y_{n-1} + V_z u_n + b_z); "
    "y_n = (1-dtbar_n)*y_{n-1} + dtbar_n*tanh(W_y z_n + V_y u_n + b_y)",
    paper="Rusch et al., Long expressive memory for sequence modeling, ICLR 2022",
    keras_classes=keras_classes,
    cost_per_step=lambda units, features: units * (4 * units + 4 * features),  # V (d, 4n), W (n, 3n), W_y (n, n)
    contract=CellContract(
        # V_{1,2,z,y} (d, 4n), W_{1,2,z} (n, 3n), W_y (n, n), b (4n)
        recurrent_params=lambda units, features: 4 * units * (features + units + 1),
        reference_params=24714,
        matched_units=(28, 64, 143),
        reference_step=reference_step,
        step_options=(("dt", 0.7),),
    ),
    options=(
        # Above 1 the gates could step past the target: 1 - dt_n < 0 flips the sign of the kept state.
        CellOption("dt", float, DT, "largest time step the gates can take", exclusive_minimum=0.0, maximum=1.0),
    ),
)
def lem(units: int, return_sequences: bool = False, name: str = "recurrent", **options: Any) -> Any:
    cell, layer = keras_classes()
    return layer(cell(units, **options), return_sequences=return_sequences, name=name)
