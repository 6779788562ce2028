"""Recurrent models: the registry, the registered cells, and the builder that puts the head on them."""

from rnnbench.models import classic as _classic  # noqa: F401  (registers the Keras cells)
from rnnbench.models import cornn, indrnn, lem, lru  # (registers the cells from the literature)
from rnnbench.models.builder import build_model
from rnnbench.models.registry import ModelInfo, list_models, model_info, register_model


def register_keras_objects() -> None:
    """Make rnnbench's own Keras classes known to Keras, so a saved ``.keras`` model loads in a new process."""
    for module in (cornn, indrnn, lem, lru):
        module.keras_classes()


__all__ = ["ModelInfo", "build_model", "list_models", "model_info", "register_keras_objects", "register_model"]
