"""The three cells of the reference experiment: Keras' own layers (their fast drop-ins on JAX, see models/fast.py)."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnbench.models.contract import CellContract, Config, States, Weights, sigmoid
from rnnbench.models.fast import fast_layer_classes
from rnnbench.models.lazy import KerasClasses
from rnnbench.models.registry import register_model


def _layer_class(name: str) -> Any:
    """Keras' own layer, or on the JAX backend its drop-in with the compiled recurrence (same weights and config)."""
    import keras

    if keras.backend.backend() == "jax":
        return fast_layer_classes()[name]
    return {"simplernn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[name]


def _fast_class(name: str) -> KerasClasses:
    """The classes a saved layer may name beyond Keras' own: the fast drop-in, which a file saved on JAX names
    (and which loads on every backend)."""
    return lambda: (fast_layer_classes()[name],)


# NumPy transcriptions of the papers' equations, in Keras' weight layout (gates side by side in one matrix, in
# Keras' order), independently of Keras' code.


def simplernn_reference_step(w: Weights, config: Config, x: np.ndarray, states: States) -> tuple[np.ndarray, States]:
    (h,) = states
    h = np.tanh(x @ w["kernel"] + h @ w["recurrent_kernel"] + w["bias"])
    return h, [h]


def lstm_reference_step(w: Weights, config: Config, x: np.ndarray, states: States) -> tuple[np.ndarray, States]:
    h, c = states
    i, f, candidate, o = np.split(x @ w["kernel"] + h @ w["recurrent_kernel"] + w["bias"], 4, axis=-1)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(candidate)
    h = sigmoid(o) * np.tanh(c)
    return h, [h, c]


def gru_reference_step(w: Weights, config: Config, x: np.ndarray, states: States) -> tuple[np.ndarray, States]:
    # reset_after: the reset gate scales U_n h + b_n, so the recurrent product has a bias of its own (bias row 1).
    (h,) = states
    x_z, x_r, x_n = np.split(x @ w["kernel"] + w["bias"][0], 3, axis=-1)
    h_z, h_r, h_n = np.split(h @ w["recurrent_kernel"] + w["bias"][1], 3, axis=-1)
    z, r = sigmoid(x_z + h_z), sigmoid(x_r + h_r)
    h = z * h + (1.0 - z) * np.tanh(x_n + r * h_n)
    return h, [h]


@register_model(
    "simplernn",
    description="Elman recurrent layer (Keras SimpleRNN)",
    equations="h_t = tanh(W x_t + U h_{t-1} + b)",
    paper="Elman, Finding structure in time, Cognitive Science 1990",
    keras_classes=_fast_class("simplernn"),
    cost_per_step=lambda units, features: units * (units + features),
    contract=CellContract(
        recurrent_params=lambda units, features: units * (features + units + 1),  # W (d, n), U (n, n), b (n)
        reference_params=6858,  # the original experiment's
        matched_units=(64, 137, 295),
        reference_step=simplernn_reference_step,
    ),
)
def simplernn(units: int, return_sequences: bool = False, name: str = "recurrent") -> Any:
    return _layer_class("simplernn")(units, return_sequences=return_sequences, name=name)


@register_model(
    "lstm",
    description="long short-term memory (Keras LSTM)",
    equations="i,f,o = sigmoid(W x_t + U h_{t-1} + b); c_t = f*c_{t-1} + i*tanh(W_c x_t + U_c h_{t-1} + b_c); "
    "h_t = o*tanh(c_t)",
    paper="Hochreiter & Schmidhuber, Long short-term memory, Neural Computation 1997",
    keras_classes=_fast_class("lstm"),
    cost_per_step=lambda units, features: 4 * units * (units + features),
    contract=CellContract(
        recurrent_params=lambda units, features: 4 * units * (features + units + 1),  # four gates
        reference_params=24714,  # the original experiment's
        matched_units=(28, 64, 143),
        reference_step=lstm_reference_step,
    ),
)
def lstm(units: int, return_sequences: bool = False, name: str = "recurrent") -> Any:
    return _layer_class("lstm")(units, return_sequences=return_sequences, name=name)


@register_model(
    "gru",
    description="gated recurrent unit (Keras GRU, reset_after=True)",
    equations="z,r = sigmoid(W x_t + U h_{t-1} + b); n = tanh(W_n x_t + r*(U_n h_{t-1} + b_n)); "
    "h_t = z*h_{t-1} + (1-z)*n",
    paper="Cho et al., Learning phrase representations using RNN encoder-decoder, EMNLP 2014",
    keras_classes=_fast_class("gru"),
    cost_per_step=lambda units, features: 3 * units * (units + features),
    contract=CellContract(
        # Three gates, each with an input and a recurrent bias (reset_after).
        recurrent_params=lambda units, features: 3 * units * (features + units + 2),
        reference_params=18954,  # the original experiment's
        matched_units=(33, 75, 166),
        reference_step=gru_reference_step,
    ),
)
def gru(units: int, return_sequences: bool = False, name: str = "recurrent") -> Any:
    return _layer_class("gru")(units, reset_after=True, return_sequences=return_sequences, name=name)
