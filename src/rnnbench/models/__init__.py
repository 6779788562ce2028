"""Recurrent models: the registry, the registered cells, and the builder that puts the head on them."""

from rnnbench.models import classic as _classic  # noqa: F401  (registers the built-in cells)
from rnnbench.models.builder import build_model
from rnnbench.models.registry import ModelInfo, list_models, model_info, register_model

__all__ = ["ModelInfo", "build_model", "list_models", "model_info", "register_model"]
