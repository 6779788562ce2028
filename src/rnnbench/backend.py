"""Choosing the Keras backend before Keras is imported.

Keras fixes its backend at import time from ``KERAS_BACKEND`` (or ``~/.keras/keras.json``). rnnbench decides the
backend itself (JAX unless asked otherwise), so a user's environment or an installed TensorFlow never changes it
silently.
"""

from __future__ import annotations

import importlib.util
import os
import sys

from rnnbench.errors import RnnbenchError

BACKENDS = ("jax", "tensorflow", "torch")
DEFAULT_BACKEND = "jax"
_EXTRA = {"jax": "rnnbench", "tensorflow": "rnnbench[tensorflow]", "torch": "rnnbench[torch]"}


def select_backend(name: str = DEFAULT_BACKEND) -> None:
    """Make ``name`` the Keras backend of this process; call before anything imports Keras."""
    if name not in BACKENDS:
        raise RnnbenchError(f"unknown backend '{name}'; known: {', '.join(BACKENDS)}")
    if importlib.util.find_spec(name) is None:
        raise RnnbenchError(f"backend '{name}' is not installed; install it with: pip install '{_EXTRA[name]}'")
    if "keras" in sys.modules:
        active = sys.modules["keras"].backend.backend()
        if active != name:
            raise RnnbenchError(
                f"Keras was already imported with backend '{active}' in this process; "
                f"select backend '{name}' before importing Keras (or start a new process)"
            )
        return
    os.environ["KERAS_BACKEND"] = name


def device_kind() -> str:
    """The kind of device the active backend computes on: 'cpu', 'gpu' or 'tpu'."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return str(jax.default_backend())
    if backend == "tensorflow":
        import tensorflow as tf

        return "gpu" if tf.config.list_physical_devices("GPU") else "cpu"
    if backend == "torch":
        import torch

        return "gpu" if torch.cuda.is_available() else "cpu"
    return "cpu"
