"""minLSTM: an LSTM whose gates and candidate read the input alone, with forget and input gates normalised to sum to
one, so its state is a linear recurrence that runs over the whole sequence in one scan.

Feng, Tung, Ahmed, Bengio & Hajimirsadeghi, Were RNNs all we needed?, arXiv:2410.01201, 2024.

f_t = sigmoid(W_f x_t + b_f);  i_t = sigmoid(W_i x_t + b_i);  f'_t = f_t / (f_t + i_t);  i'_t = i_t / (f_t + i_t);
h~_t = g(W_h x_t + b_h);  h_t = f'_t * h_{t-1} + i'_t * h~_t, with the paper's positive activation g(x) = x + 1/2 for
x >= 0, sigmoid(x) below. In log space, as the paper trains: with d_t = softplus(-k_f) - softplus(-k_i) =
log(i_t / f_t), log f'_t = -softplus(d_t) and log i'_t = -softplus(-d_t); log h~_t = log g(.).
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
    MinLSTMCell: Any


def _define() -> tuple[Any, ...]:

    class MinLSTMCell(linear_scan.InputGatedCell):  # defined with the layer a saved model names beside it
        """One step of minLSTM: h_t = f'_t * h_{t-1} + i'_t * g(W_h x_t + b_h), with f'_t, i'_t the normalised
        sigmoid(W_f x_t + b_f) and sigmoid(W_i x_t + b_i).

        Inputs (batch, features); state and output (batch, units). ``kernel`` is [W_f W_i W_h] (features, 3 units)
        with ``bias`` [b_f b_i b_h]. Parameters: 3 units (features + 1). Initialisation as PyTorch's ``nn.Linear``
        in the paper's code: uniform in +-1/sqrt(features).
        """

        GATES = 3
        fused_kernel = "minlstm"  # its compiled sequence (rnnbench.kernels.jax_ops.MINIMAL_CELLS)

        def coefficients(self, sequences: Any) -> tuple[Any, Any]:
            """(f', i' h~) of the recurrence h_t = a_t h_{t-1} + b_t, each (..., units), for inputs (...,
            features)."""
            return _coefficients(*self.pre_activations(sequences))

        def log_coefficients(self, sequences: Any) -> tuple[Any, Any]:
            """(log f', log i' + log h~), the paper's log space, each (..., units), for inputs (..., features)."""
            return _log_coefficients(*self.pre_activations(sequences))

    return (MinLSTMCell,)


keras_classes, __getattr__ = lazy_keras_classes(__name__, _define, "MinLSTMCell")


def _coefficients(k_f: Any, k_i: Any, candidate: Any) -> tuple[Any, Any]:
    """(f', i' h~) from the pre-activations of the forget gate, the input gate and the candidate."""
    from keras import ops

    f, i = ops.sigmoid(k_f), ops.sigmoid(k_i)
    return f / (f + i), i * linear_scan.g(candidate) / (f + i)


def _log_coefficients(k_f: Any, k_i: Any, candidate: Any) -> tuple[Any, Any]:
    """(log f', log i' + log h~) from the same pre-activations: f' = 1 / (1 + i/f), i' = 1 / (1 + f/i)."""
    from keras import ops

    log_ratio = ops.softplus(-k_f) - ops.softplus(-k_i)  # log(i / f)
    return -ops.softplus(log_ratio), -ops.softplus(-log_ratio) + linear_scan.log_g(candidate)


def reference_step(w: Weights, config: Config, x: np.ndarray, states: States) -> tuple[np.ndarray, States]:
    """The paper's sequential step in NumPy."""
    (h,) = states
    units = config["units"]
    pre = x @ w["kernel"] + w["bias"]
    f, i, candidate = sigmoid(pre[:, :units]), sigmoid(pre[:, units : 2 * units]), pre[:, 2 * units :]
    h = f / (f + i) * h + i / (f + i) * np.where(candidate >= 0, candidate + 0.5, sigmoid(candidate))
    return h, [h]


@register_model(
    "minlstm",
    description="minimal LSTM: normalised gates from the input alone, a linear recurrence computed by one scan",
    equations="f_t, i_t = sigmoid(W_f x_t + b_f), sigmoid(W_i x_t + b_i); "
    "h_t = (f_t*h_{t-1} + i_t*g(W_h x_t + b_h)) / (f_t + i_t), g(v) = v + 1/2 (v >= 0), sigmoid(v) (v < 0)",
    paper="Feng et al., Were RNNs all we needed?, arXiv:2410.01201, 2024",
    keras_classes=keras_classes,
    cost_per_step=lambda units, features: units * (3 * features + 1),  # W x, and the scan's a h + b
    contract=CellContract(
        recurrent_params=lambda units, features: 3 * units * (features + 1),  # W (d, 3n), b (3n)
        reference_params=6474,
        matched_units=(68, 245, 990),
        reference_step=reference_step,
    ),
)
def minlstm(units: int, return_sequences: bool = False, name: str = "recurrent") -> Any:
    (cell,) = keras_classes()
    layer, _ = linear_scan.keras_classes()
    return layer(cell(units), return_sequences=return_sequences, name=name)
