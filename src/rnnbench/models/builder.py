"""From a model spec to a Keras model: recurrent layer -> BatchNormalization -> Dense(classes) logits."""

from __future__ import annotations

from typing import Any

from rnnbench.config import ModelSpec
from rnnbench.models.registry import model_info


def build_model(spec: ModelSpec, steps: int, features: int, classes: int) -> Any:
    """The reference architecture for inputs of shape (batch, steps, features); outputs (batch, classes) logits."""
    import keras

    recurrent = model_info(spec.name).build_layer(spec.units)
    return keras.Sequential(
        [
            keras.Input((steps, features), name="sequence"),
            recurrent,
            keras.layers.BatchNormalization(name="norm"),
            keras.layers.Dense(classes, name="logits"),
        ],
        name=spec.name,
    )
