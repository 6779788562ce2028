"""The specs: typed, frozen descriptions of what to train and where, and what builds them from settings and files.

A :class:`RunSpec` describes one training run completely; its :meth:`RunSpec.key` is a stable hash of that
description. An :class:`ExperimentSpec` is a grid of run specs. Every spec validates itself on construction, so the
library and the CLI reject the same bad values. This package imports only :mod:`rnnbench.errors`,
:mod:`rnnbench.backend` (the backend names), :mod:`rnnbench.settings` and, to check cell options, the model registry.
Importing it loads the dataclasses only.
"""

from rnnbench.spec.data import DataSpec
from rnnbench.spec.execution import DEFAULT_REPORT_DIR, DEFAULT_STORE, SAVE_MODELS, ClusterOptions, ExecutionConfig
from rnnbench.spec.experiment import ExperimentSpec
from rnnbench.spec.model import HEAD_ALIASES, HEADS, ModelSpec
from rnnbench.spec.run import MAX_SEED_COUNT, SEED_LIMIT, RunSpec, parse_seeds
from rnnbench.spec.train import PRESET_ALIASES, PRESETS, SEARCHED, Preset, TrainSpec

__all__ = [
    "DEFAULT_REPORT_DIR",
    "DEFAULT_STORE",
    "HEADS",
    "HEAD_ALIASES",
    "MAX_SEED_COUNT",
    "PRESETS",
    "PRESET_ALIASES",
    "SAVE_MODELS",
    "SEARCHED",
    "SEED_LIMIT",
    "ClusterOptions",
    "DataSpec",
    "ExecutionConfig",
    "ExperimentSpec",
    "ModelSpec",
    "Preset",
    "RunSpec",
    "TrainSpec",
    "parse_seeds",
]
