"""rnnbench: which recurrent architecture classifies my images best, and at what cost?

Importing rnnbench does not import Keras: the backend is chosen first (:func:`rnnbench.backend.select_backend`).
"""

__version__ = "0.1.0"

from rnnbench.backend import select_backend  # noqa: E402
from rnnbench.config import DataSpec, ExperimentSpec, ModelSpec, RunSpec, TrainSpec, parse_seeds  # noqa: E402
from rnnbench.data import list_datasets, load_dataset, prepare_data  # noqa: E402
from rnnbench.errors import RnnbenchError  # noqa: E402
from rnnbench.experiment import ExperimentResult, run_experiment  # noqa: E402
from rnnbench.experiment import run_experiment as compare  # noqa: E402
from rnnbench.models import build_model, list_models  # noqa: E402
from rnnbench.training import train  # noqa: E402

__all__ = [
    "DataSpec",
    "ExperimentResult",
    "ExperimentSpec",
    "ModelSpec",
    "RnnbenchError",
    "RunSpec",
    "TrainSpec",
    "__version__",
    "build_model",
    "compare",
    "list_datasets",
    "list_models",
    "load_dataset",
    "parse_seeds",
    "prepare_data",
    "run_experiment",
    "select_backend",
    "train",
]
