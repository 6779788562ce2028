"""Export a kept model through Keras' own ``model.export``: ONNX or a TensorFlow SavedModel.

The exported graph is traced with Keras' own recurrence (:func:`rnnbench.models.fast.stock_recurrence`), so it runs
wherever ONNX Runtime or TensorFlow runs, without rnnbench. The export is written beside its destination and renamed
into place, so an interrupted export leaves nothing half-written; an existing destination is never replaced.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnnbench.errors import RnnbenchError
from rnnbench.models.model_file import ModelCard
from rnnbench.serving.predict import softmax

FORMATS = ("onnx", "tf_saved_model")
CHECK_INPUTS = 16
CHECK_TOLERANCE = 1e-4
_NEEDS = {
    "onnx": ("jax2onnx", "onnx", "onnxruntime"),
    "tf_saved_model": ("tensorflow",),
}
_EXTRA = {"onnx": "pip install 'rnnbench[export]'", "tf_saved_model": "pip install 'rnnbench[tensorflow]'"}


def default_destination(model_path: Path, export_format: str) -> Path:
    """In the current folder: ``lstm.keras`` -> ``lstm.onnx`` or the folder ``lstm_saved_model`` (not beside a kept
    model, in the folder the store owns)."""
    return Path(model_path.stem + (".onnx" if export_format == "onnx" else "_saved_model"))


def check_exportable(export_format: str) -> None:
    """Say in one line which extra to install when the libraries an export format needs are missing."""
    import importlib.util

    missing = [name for name in _NEEDS[export_format] if importlib.util.find_spec(name) is None]
    if missing:
        raise RnnbenchError(
            f"exporting to {export_format} needs {', '.join(missing)}; install it with: {_EXTRA[export_format]}"
        )


def export_model(model: Any, card: ModelCard, export_format: str, destination: Path) -> None:
    """Write ``model`` to ``destination`` (which must not exist) as ``export_format``, with Keras' own recurrence."""
    from rnnbench.models.fast import stock_recurrence

    check_exportable(export_format)
    if destination.exists():
        raise RnnbenchError(f"{destination} already exists; remove it or give another --out")
    destination.parent.mkdir(parents=True, exist_ok=True)
    model(np.zeros((1, card.steps, card.features), np.float32), training=False)  # Keras exports called models only
    with tempfile.TemporaryDirectory(dir=destination.parent, prefix=f".{destination.name}.") as folder:
        staged = Path(folder) / destination.name
        # Keras and the converters print their progress; the command says what matters in its own words.
        with stock_recurrence(), contextlib.redirect_stdout(io.StringIO()), _tensorflow_quiet(export_format):
            try:
                model.export(str(staged), format=export_format, verbose=False)
            except Exception as error:  # noqa: BLE001 (a converter's failure: said in one line)
                raise RnnbenchError(
                    f"Keras could not export the model to {export_format} ({type(error).__name__}: "
                    f"{_first_line(error)})"
                ) from None
        os.replace(staged, destination)


@dataclass(frozen=True)
class ExportCheck:
    """How the export's outputs compare with Keras' on random inputs of the model's shape."""

    inputs: int
    runtime: str
    largest_difference: float
    same_top1: bool

    @property
    def passed(self) -> bool:
        return self.same_top1 and self.largest_difference <= CHECK_TOLERANCE


def check_export(model: Any, card: ModelCard, export_format: str, destination: Path) -> ExportCheck:
    """Run the export with ONNX Runtime or TensorFlow and compare its class probabilities with the Keras model's."""
    x = np.random.default_rng(0).random((CHECK_INPUTS, card.steps, card.features), dtype=np.float32)
    expected = softmax(np.asarray(model.predict_on_batch(x), dtype=np.float64))
    try:
        logits, runtime = _run_export(export_format, destination, x)
    except Exception as error:  # noqa: BLE001 (a runtime that cannot run the export fails the check, in one line)
        raise RnnbenchError(f"check: the export does not run ({type(error).__name__}: {_first_line(error)})") from None
    got = softmax(np.asarray(logits, dtype=np.float64))
    return ExportCheck(
        inputs=CHECK_INPUTS,
        runtime=runtime,
        largest_difference=float(np.abs(got - expected).max()),
        same_top1=bool(np.array_equal(got.argmax(axis=1), expected.argmax(axis=1))),
    )


def _run_export(export_format: str, destination: Path, x: np.ndarray) -> tuple[np.ndarray, str]:
    """The export's logits for ``x``, and the runtime that computed them."""
    if export_format == "onnx":
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only: unused initialisers are not the user's concern
        session = onnxruntime.InferenceSession(str(destination), options, providers=["CPUExecutionProvider"])
        return session.run(None, {session.get_inputs()[0].name: x})[0], f"onnxruntime {onnxruntime.__version__}"
    with _tensorflow_quiet(export_format):
        import tensorflow as tf

        loaded = tf.saved_model.load(str(destination))  # kept while it runs: its functions refer to its variables
        return loaded.serve(x).numpy(), f"TensorFlow {tf.__version__}"


def _tensorflow_quiet(export_format: str) -> contextlib.AbstractContextManager[None]:
    """TensorFlow's lines on stderr (CPU features, no CUDA driver, gradients an export will never compute) are not the
    user's concern; what fails still raises, and is said in one line."""
    from rnnbench.terminal import stderr_silenced

    return stderr_silenced() if export_format == "tf_saved_model" else contextlib.nullcontext()


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
