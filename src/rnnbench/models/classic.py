"""The three cells of the reference experiment: Keras' own layers (their fast drop-ins on JAX, see models/fast.py)."""

from __future__ import annotations

from typing import Any

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


@register_model(
    "simplernn",
    description="Elman recurrent layer (Keras SimpleRNN)",
    equations="h_t = tanh(W x_t + U h_{t-1} + b)",
    paper="Elman, Finding structure in time, Cognitive Science 1990",
    keras_classes=_fast_class("simplernn"),
    cost_per_step=lambda units, features: units * (units + features),
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
)
def gru(units: int, return_sequences: bool = False, name: str = "recurrent") -> Any:
    return _layer_class("gru")(units, reset_after=True, return_sequences=return_sequences, name=name)
