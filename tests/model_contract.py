"""The model contract, checked on one Keras backend in a process of its own; prints one JSON report on stdout.

Usage: python tests/model_contract.py BACKEND WORKDIR

Keras reads its backend once, at import, so tests/test_models_contract.py runs this script once per installed
non-default backend (in parallel), calls :func:`backend_report` itself for JAX, and asserts on the reports. For every
registered model a report records: the output shape, the losses of a few training steps, which trainable weights no
gradient reached, whether a `.keras` save/load round-trip predicts the same, parameter counts and matched widths, and
logits for fixed weights (compared across backends by the test). It also checks that a run stopped after its first
epoch and resumed from its checkpoint ends as an uninterrupted one.

Every check catches its own failure and reports it, so one broken model does not hide the others.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from rnnbench.backend import select_backend

BATCH, STEPS, FEATURES, UNITS, CLASSES = 4, 5, 3, 4, 3
# The reference input (MNIST rows) and width, and the parameter budgets the matching is tested for.
REFERENCE = {"steps": 28, "features": 28, "units": 64, "classes": 10}
BUDGETS = (6858, 24714, 100000)


def structural_path(path: str) -> str:
    """A weight's path without Keras' per-process numbering of unnamed layers ('co_rnn_cell_12' -> 'co_rnn_cell')."""
    return re.sub(r"_\d+(?=/|$)", "", path)


def fixed_weights(model: Any) -> None:
    """Give every weight a value that depends only on its place in the model, so every backend computes with the
    same numbers."""
    for variable in model.variables:
        if "seed_generator" in variable.path:
            continue
        seed = sum(map(ord, structural_path(variable.path)))
        value = np.random.default_rng(seed).normal(0.0, 0.4, size=tuple(variable.shape))
        if "moving_variance" in variable.path:
            value = np.abs(value) + 0.5
        variable.assign(value.astype(variable.dtype))


def check_model(name: str, workdir: Path) -> dict[str, Any]:
    import keras

    from rnnbench.models import build_model
    from rnnbench.models.matching import match_units, parameter_counts
    from rnnbench.spec import ModelSpec

    report: dict[str, Any] = {}
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2 * BATCH, STEPS, FEATURES)).astype("float32")
    y = (np.arange(2 * BATCH) % CLASSES).astype("int32")
    keras.utils.set_random_seed(0)
    model = build_model(ModelSpec(name, UNITS), STEPS, FEATURES, CLASSES)
    report["params"] = int(model.count_params())
    report["trainable_params"] = sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)
    report["weights"] = [[structural_path(weight.path), list(weight.shape)] for weight in model.weights]

    # Plain SGD moves a weight exactly when its gradient is non-zero: the backend's own training step (compiled as
    # in a real run) shows which weights a gradient reaches, and its losses whether training stays finite.
    model.compile(
        optimizer=keras.optimizers.SGD(0.5), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    before = [keras.ops.convert_to_numpy(weight) for weight in model.trainable_weights]
    history = model.fit(x, y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
    report["losses"] = [float(loss) for loss in history.history["loss"]]
    report["untrained_weights"] = [
        weight.path
        for weight, old in zip(model.trainable_weights, before, strict=True)
        if np.array_equal(keras.ops.convert_to_numpy(weight), old)
    ]

    # The same weights on every backend (compared by the test), saved and loaded back.
    fixed_weights(model)
    path = workdir / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    logits = keras.ops.convert_to_numpy(model(x[:BATCH], training=False))
    reloaded = keras.ops.convert_to_numpy(loaded(x[:BATCH], training=False))
    report["output_shape"] = list(logits.shape)
    report["fixed_weight_logits"] = logits.tolist()
    report["reload_identical"] = bool(np.array_equal(logits, reloaded))
    report["reload_max_difference"] = float(np.max(np.abs(logits - reloaded)))

    reference = ModelSpec(name, REFERENCE["units"])
    steps, features, classes = REFERENCE["steps"], REFERENCE["features"], REFERENCE["classes"]
    report["reference_params"] = parameter_counts(reference, steps, features, classes)[0]
    report["stacked_bidirectional_params"] = parameter_counts(
        ModelSpec(name, UNITS, layers=2, bidirectional=True, dropout=0.1), STEPS, FEATURES, CLASSES
    )[0]
    report["matched_units"] = {
        str(budget): match_units(ModelSpec(name, 1), budget, steps, features, classes).units for budget in BUDGETS
    }
    return report


def check_resume(backend: str, workdir: Path) -> dict[str, Any]:
    """Stop a run with dropout and Adam after epoch 1, resume it from the checkpoint, compare with a straight run."""
    from rnnbench.data.prepare import SequenceData
    from rnnbench.engine.training import train
    from rnnbench.spec import DataSpec, ModelSpec, RunSpec, TrainSpec

    rng = np.random.default_rng(1)
    sequences = rng.random((96, STEPS, FEATURES), dtype="float32")
    labels = (np.arange(96) % CLASSES).astype("int32")
    data = SequenceData(
        name="random", view="rows", image_shape=(STEPS, FEATURES, 1),
        x_train=sequences[:64], y_train=labels[:64], x_val=sequences[64:80], y_val=labels[64:80],
        x_test=sequences[80:], y_test=labels[80:], classes=CLASSES,
    )  # fmt: skip
    spec = RunSpec(
        data=DataSpec("random"),
        model=ModelSpec("gru", UNITS, dropout=0.3),
        train=TrainSpec(preset="tuned", batch_size=16, epochs=2),
        seed=3,
        backend=backend,
    )
    checkpoint, after_one = workdir / "run.npz", workdir / "after-one.npz"

    class CopyAfterEpochOne:
        def run_started(self, *args: Any) -> None: ...
        def run_resumed(self, *args: Any) -> None: ...
        def batch_ended(self, *args: Any) -> None: ...
        def run_ended(self, *args: Any) -> None: ...

        def epoch_ended(self, spec: Any, metrics: Any) -> None:
            if metrics.epoch == 1:
                shutil.copy(checkpoint, after_one)

    straight = train(spec, data, CopyAfterEpochOne(), checkpoint)
    resumed = train(spec, data, None, after_one)
    return {
        "straight_losses": [epoch.train_loss for epoch in straight.epochs],
        "resumed_losses": [epoch.train_loss for epoch in resumed.epochs],
        "straight_test_accuracy": straight.test_accuracy,
        "resumed_test_accuracy": resumed.test_accuracy,
    }


def backend_report(backend: str, workdir: Path) -> dict[str, Any]:
    """The contract checked for every registered model on ``backend``, which this process must already run."""
    import keras

    from rnnbench.models import list_models, register_keras_objects

    started = time.perf_counter()
    workdir.mkdir(parents=True, exist_ok=True)
    register_keras_objects()
    report: dict[str, Any] = {"backend": keras.backend.backend(), "models": {}, "errors": {}}
    for info in list_models():
        try:
            model_started = time.perf_counter()
            report["models"][info.name] = check_model(info.name, workdir)
            report["models"][info.name]["seconds"] = time.perf_counter() - model_started
        except Exception:  # noqa: BLE001 (reported, and the test fails on it)
            report["errors"][info.name] = traceback.format_exc()
    try:
        resume_started = time.perf_counter()
        report["resume"] = check_resume(backend, workdir)
        report["resume"]["seconds"] = time.perf_counter() - resume_started
    except Exception:  # noqa: BLE001
        report["errors"]["resume"] = traceback.format_exc()
    report["seconds"] = time.perf_counter() - started
    return report


def main() -> None:
    backend, workdir = sys.argv[1], Path(sys.argv[2])
    select_backend(backend)
    print(json.dumps(backend_report(backend, workdir)))


if __name__ == "__main__":
    main()
