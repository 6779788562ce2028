"""rnnbench: which recurrent architecture classifies my images best, and at what cost?

Importing rnnbench loads nothing but this file: each public name below is imported when first used (PEP 562), so
``import rnnbench.backend`` or ``rnnbench --help`` stays light, and Keras is never imported before the backend is
chosen (:func:`rnnbench.backend.select_backend`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rnnbench.version import __version__

# Public name -> (module, attribute in it).
_PUBLIC = {
    "select_backend": ("rnnbench.backend", "select_backend"),
    "DataSpec": ("rnnbench.spec", "DataSpec"),
    "ExecutionConfig": ("rnnbench.spec", "ExecutionConfig"),
    "ExperimentSpec": ("rnnbench.spec", "ExperimentSpec"),
    "ModelSpec": ("rnnbench.spec", "ModelSpec"),
    "RunSpec": ("rnnbench.spec", "RunSpec"),
    "TrainSpec": ("rnnbench.spec", "TrainSpec"),
    "parse_seeds": ("rnnbench.spec", "parse_seeds"),
    "experiment_spec": ("rnnbench.spec.builder", "experiment_spec"),
    "list_datasets": ("rnnbench.data", "list_datasets"),
    "load_dataset": ("rnnbench.data", "load_dataset"),
    "prepare_data": ("rnnbench.data", "prepare_data"),
    "RnnbenchError": ("rnnbench.errors", "RnnbenchError"),
    "ExperimentResult": ("rnnbench.driver.experiment", "ExperimentResult"),
    "run_experiment": ("rnnbench.driver.experiment", "run_experiment"),
    "compare": ("rnnbench.driver.experiment", "run_experiment"),
    "build_model": ("rnnbench.models", "build_model"),
    "list_models": ("rnnbench.models", "list_models"),
    "train": ("rnnbench.engine.training", "train"),
}

__all__ = [
    "DataSpec",
    "ExecutionConfig",
    "ExperimentResult",
    "ExperimentSpec",
    "ModelSpec",
    "RnnbenchError",
    "RunSpec",
    "TrainSpec",
    "__version__",
    "build_model",
    "compare",
    "experiment_spec",
    "list_datasets",
    "list_models",
    "load_dataset",
    "parse_seeds",
    "prepare_data",
    "run_experiment",
    "select_backend",
    "train",
]

if TYPE_CHECKING:
    from rnnbench.backend import select_backend
    from rnnbench.data import list_datasets, load_dataset, prepare_data
    from rnnbench.driver.experiment import ExperimentResult, run_experiment
    from rnnbench.driver.experiment import run_experiment as compare
    from rnnbench.engine.training import train
    from rnnbench.errors import RnnbenchError
    from rnnbench.models import build_model, list_models
    from rnnbench.spec import DataSpec, ExecutionConfig, ExperimentSpec, ModelSpec, RunSpec, TrainSpec, parse_seeds
    from rnnbench.spec.builder import experiment_spec


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'rnnbench' has no attribute {name!r}")
    module, attribute = _PUBLIC[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return __all__
