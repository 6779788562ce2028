"""minGRU: a GRU whose update gate and candidate read the input alone, so its state is a linear recurrence that runs
over the whole sequence in one scan.

Feng, Tung, Ahmed, Bengio & Hajimirsadeghi, Were RNNs all we needed?, arXiv:2410.01201, 2024.

z_t = sigmoid(W_z x_t + b_z);  h~_t = g(W_h x_t + b_h);  h_t = (1 - z_t) * h_{t-1} + z_t * h~_t, with the paper's
positive activation g(x) = x + 1/2 for x >= 0, sigmoid(x) below. In log space, as the paper trains:
log(1 - z_t) = -softplus(k_t), log z_t = -softplus(-k_t) for k_t = W_z x_t + b_z, and log h~_t = log g(.).
The layer (:class:`rnnbench.models.linear_scan.LinearScanRNN`) starts from h_0 = 0, as every Keras RNN does by
default (the paper's listing starts from g of a given h_0).

The Keras class is defined on first use (:func:`keras_classes`), so importing this module does not import Keras.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from rnnbench.models import linear_scan
from rnnbench.models.contract import CellContract, Config, States, Weights, sigmoid
from rnnbench.models.lazy import lazy_keras_classes
from rnnbench.models.registry import register_model

if TYPE_CHECKING:
    MinGRUCell: Any


def _define() -> tuple[Any, ...]:
    from keras import ops

    class MinGRUCell(linear_scan.InputGatedCell):  # defined with the layer a saved model names beside it
        """One step of minGRU: h_t = (1 - z_t) * h_{t-1} + z_t * g(W_h x_t + b_h), z_t = sigmoid(W_z x_t + b_z).

        Inputs (batch, features); state and output (batch, units). ``kernel`` is [W_z W_h] (features, 2 units) with
        ``bias`` [b_z b_h]. Parameters: 2 units (features + 1). Initialisation as PyTorch's ``nn.Linear`` in the
        paper's code: uniform in +-1/sqrt(features).
        """

        GATES = 2
        fused_kernel = "mingru"  # its compiled sequence (rnnbench.kernels.jax_ops.MINIMAL_CELLS)

        def coefficients(self, sequences: Any) -> tuple[Any, Any]:
            """(1 - z, z h~) of the recurrence h_t = a_t h_{t-1} + b_t, each (..., units), for inputs (...,
            features)."""
            k, candidate = self.pre_activations(sequences)
            return ops.sigmoid(-k), ops.sigmoid(k) * linear_scan.g(candidate)

        def log_coefficients(self, sequences: Any) -> tuple[Any, Any]:
            """(log(1 - z), log z + log h~), the paper's log space, each (..., units), for inputs (..., features)."""
            k, candidate = self.pre_activations(sequences)
            return -ops.softplus(k), -ops.softplus(-k) + linear_scan.log_g(candidate)

    return (MinGRUCell,)


keras_classes, __getattr__ = lazy_keras_classes(__name__, _define, "MinGRUCell")


def reference_step(w: Weights, config: Config, x: np.ndarray, states: States) -> tuple[np.ndarray, States]:
    """The paper's sequential step in NumPy."""
    (h,) = states
    units = config["units"]
    pre = x @ w["kernel"] + w["bias"]
    z, candidate = sigmoid(pre[:, :units]), pre[:, units:]
    h = (1.0 - z) * h + z * np.where(candidate >= 0, candidate + 0.5, sigmoid(candidate))
    return h, [h]


@register_model(
    "mingru",
    description="minimal GRU: gates from the input alone, a linear recurrence computed by one scan",
    equations="z_t = sigmoid(W_z x_t + b_z); h_t = (1 - z_t)*h_{t-1} + z_t*g(W_h x_t + b_h), "
    "g(v) = v + 1/2 (v >= 0), sigmoid(v) (v < 0)",
    paper="Feng et al., Were RNNs all we needed?, arXiv:2410.01201, 2024",
    keras_classes=keras_classes,
    cost_per_step=lambda units, features: units * (2 * features + 1),  # W x, and the scan's a h + b
    contract=CellContract(
        recurrent_params=lambda units, features: 2 * units * (features + 1),  # W (d, 2n), b (2n)
        reference_params=4618,
        matched_units=(95, 343, 1389),
        reference_step=reference_step,
    ),
)
def mingru(units: int, return_sequences: bool = False, name: str = "recurrent") -> Any:
    (cell,) = keras_classes()
    layer, _ = linear_scan.keras_classes()
    return layer(cell(units), return_sequences=return_sequences, name=name)
