"""From a model spec to a Keras model: recurrent layer(s) -> head (BatchNormalization + Dense logits by default)."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnbench.models.registry import model_info
from rnnbench.spec import ModelSpec


def build_model(spec: ModelSpec, steps: int, features: int, classes: int, seed: int | None = None) -> Any:
    """A model for inputs of shape (batch, steps, features) with outputs (batch, classes) logits.

    Stacked layers pass whole sequences to the next; only the last returns its final state. With one layer the
    recurrent layer is named ``recurrent``, so the reference models keep the names of the original experiment.
    The cell's options (``spec.options``, checked against the registry) apply to every layer.
    ``seed`` (the run's) seeds the dropout masks: on the torch backend an unseeded Keras Dropout draws from torch's
    global generator, which a checkpoint cannot restore, so only seeded masks make a resumed run exact there.
    """
    import keras

    info = model_info(spec.name)
    options = info.option_values(spec.options)
    layers: list[Any] = [keras.Input((steps, features), name="sequence")]
    for index in range(spec.layers):
        name = "recurrent" if spec.layers == 1 else f"recurrent_{index + 1}"
        layer = info.build_layer(spec.units, return_sequences=index < spec.layers - 1, name=name, **options)
        if spec.bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"bidirectional_{name}")
        layers.append(layer)
        if spec.dropout:
            layers.append(
                keras.layers.Dropout(spec.dropout, seed=_dropout_seed(seed, index), name=f"dropout_{index + 1}")
            )
    if spec.head == "batchnorm":
        layers.append(keras.layers.BatchNormalization(name="norm"))
    layers.append(keras.layers.Dense(classes, name="logits"))
    return keras.Sequential(layers, name=spec.name)


def _dropout_seed(seed: int | None, layer: int) -> int | None:
    """A seed for the dropout after recurrent layer ``layer`` (0-based): distinct per (run seed, layer)."""
    if seed is None:
        return None
    return int(np.random.SeedSequence([seed, layer]).generate_state(1)[0] >> 1)  # Keras wants a 31-bit seed
