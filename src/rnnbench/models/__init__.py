"""Recurrent models: the registry, one file per registered cell (its Keras classes, its registration and the
contract data the tests check it against), the builder that puts the head on them, their cost, and the model-file
format that training writes and serving reads.

It imports the foundation, :mod:`rnnbench.spec` and :mod:`rnnbench.kernels` only.
"""

from rnnbench.models import classic, cornn, indrnn, lem, lru, mamba, mingru, minlstm  # noqa: F401  (importing registers the cells)
from rnnbench.models.builder import build_model
from rnnbench.models.contract import CellContract
from rnnbench.models.options import CellOption
from rnnbench.models.registry import ModelInfo, list_models, model_info, register_model, unregister_model


def register_keras_objects() -> None:
    """Make every registered cell's Keras classes known to Keras, so a saved ``.keras`` model loads in a new
    process."""
    for info in list_models():
        info.keras_classes()


__all__ = [
    "CellContract",
    "CellOption",
    "ModelInfo",
    "build_model",
    "list_models",
    "model_info",
    "register_keras_objects",
    "register_model",
    "unregister_model",
]
