"""Trained models kept in a store, as the commands that use them name them: a .keras file or a run key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rnnbench.backend import DEFAULT_BACKEND
from rnnbench.cli.options import store_option

KEPT_MODEL_STORE = store_option("The store whose kept models a RUN_KEY names.")


def load_kept_model(model: str, store: Path) -> tuple[Path, Any, Any]:
    """(file, Keras model, card) of a model file or of a run key's kept model, loaded on JAX."""
    from rnnbench.backend import select_backend
    from rnnbench.models.model_file import load_saved_model
    from rnnbench.serving.lookup import find_model_file

    path = find_model_file(model, store)
    select_backend(DEFAULT_BACKEND)  # a .keras file loads on any backend; JAX is always installed
    loaded, card = load_saved_model(path)
    return path, loaded, card
