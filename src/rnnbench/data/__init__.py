"""Data sets (registry, loaders, verified downloads) and the views that read images as sequences.

It imports the foundation and :mod:`rnnbench.spec` only: nothing of models, the engine, results or reports.
"""

from rnnbench.data import builtin as _builtin  # noqa: F401  (registers the built-in data sets)
from rnnbench.data.dataset import ImageDataset, make_dataset
from rnnbench.data.prepare import SequenceData, prepare_data
from rnnbench.data.registry import dataset_info, list_datasets, load_dataset, register_dataset
from rnnbench.data.source import DataSource
from rnnbench.data.views import VIEW_NAMES, View, get_view

__all__ = [
    "VIEW_NAMES",
    "DataSource",
    "ImageDataset",
    "SequenceData",
    "View",
    "dataset_info",
    "get_view",
    "list_datasets",
    "load_dataset",
    "make_dataset",
    "prepare_data",
    "register_dataset",
]
