"""The model registry: a decorator registers a recurrent-layer builder under a name (timm-style).

Builders import Keras inside their body, so registering a model never imports Keras (the backend must be chosen
first, see :mod:`rnnbench.backend`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rnnbench.errors import UnknownNameError

# build_layer(units, return_sequences=False, name="recurrent") -> a Keras recurrent layer
LayerBuilder = Callable[..., Any]


@dataclass(frozen=True)
class ModelInfo:
    name: str
    description: str
    equations: str
    paper: str
    build_layer: LayerBuilder


_REGISTRY: dict[str, ModelInfo] = {}


def register_model(
    name: str, *, description: str, equations: str, paper: str
) -> Callable[[LayerBuilder], LayerBuilder]:
    """Decorator: register ``build_layer(units, return_sequences=False, name="recurrent")`` under ``name``.

    The builder returns a Keras recurrent layer over (batch, steps, features) inputs: its output is (batch, units),
    or (batch, steps, units) with ``return_sequences`` (for stacking)."""

    def decorate(build_layer: LayerBuilder) -> LayerBuilder:
        if name in _REGISTRY:
            raise ValueError(f"model '{name}' is registered twice")
        _REGISTRY[name] = ModelInfo(name, description, equations, paper, build_layer)
        return build_layer

    return decorate


def list_models() -> list[ModelInfo]:
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def model_info(name: str) -> ModelInfo:
    if name not in _REGISTRY:
        raise UnknownNameError("model", name, list(_REGISTRY))
    return _REGISTRY[name]
