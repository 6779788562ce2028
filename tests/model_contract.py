"""The model contract: what every registered cell must meet, checked against the contract data it registers
(:class:`rnnbench.models.CellContract`). The test modules parametrise over :func:`registered_names` and call the
functions here, and so does the test of a cell registered at test time, so a new cell is covered by registering it.

As a script it checks the contract on one Keras backend in a process of its own and prints one JSON report:

Usage: python tests/model_contract.py BACKEND WORKDIR

Keras reads its backend once, at import, so tests/test_models_contract.py runs this script once per installed
non-default backend (in parallel), calls :func:`backend_report` itself for JAX, and asserts on the reports with
:func:`assert_meets_contract`. For every registered model a report records: the output shape, the losses of a few
training steps, which trainable weights no gradient reached, whether a `.keras` save/load round-trip predicts the
same, parameter counts and matched widths, and logits for fixed weights (compared across backends by the test). It
also checks that a run stopped after its first epoch and resumed from its checkpoint ends as an uninterrupted one.

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
from rnnbench.models import CellContract, ModelInfo, list_models
from rnnbench.models.contract import (
    REFERENCE_BUDGETS,
    REFERENCE_CLASSES,
    REFERENCE_FEATURES,
    REFERENCE_STEPS,
    REFERENCE_UNITS,
)

BATCH, STEPS, FEATURES, UNITS, CLASSES = 4, 5, 3, 4, 3
# Parity with a cell's reference step: its tolerance, and a scale of the random weights that drives the
# nonlinearities out of their linear range.
PARITY_TOLERANCE, WEIGHT_SCALE = 1e-5, 0.5


def registered_names() -> list[str]:
    """The models every contract test runs on: the registry's, read when the test module is collected."""
    return [info.name for info in list_models()]


def expected_params(
    contract: CellContract, units: int, features: int, classes: int, layers: int = 1, bidirectional: bool = False
) -> tuple[int, int]:
    """(all, trainable) parameters of the cell's model under the builder's default head: recurrent layer(s) ->
    BatchNormalization -> Dense logits. BatchNormalization's moving statistics are counted by Keras, not trained."""
    directions = 2 if bidirectional else 1
    width = directions * units
    inputs = [features] + [width] * (layers - 1)
    recurrent = directions * sum(contract.recurrent_params(units, layer_inputs) for layer_inputs in inputs)
    trainable = recurrent + 2 * width + width * classes + classes
    return trainable + 2 * width, trainable


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

    reference = ModelSpec(name, REFERENCE_UNITS)
    steps, features, classes = REFERENCE_STEPS, REFERENCE_FEATURES, REFERENCE_CLASSES
    report["reference_params"] = parameter_counts(reference, steps, features, classes)[0]
    report["stacked_bidirectional_params"] = list(
        parameter_counts(ModelSpec(name, UNITS, layers=2, bidirectional=True, dropout=0.1), STEPS, FEATURES, CLASSES)
    )
    report["matched_units"] = {
        str(budget): match_units(ModelSpec(name, 1), budget, steps, features, classes).units
        for budget in REFERENCE_BUDGETS
    }
    return report


def assert_meets_contract(name: str, report: dict[str, Any], contract: CellContract) -> None:
    """``report`` (of :func:`check_model`) shows the model ``name`` meeting the contract and its registered data."""
    assert report["output_shape"] == [BATCH, CLASSES]
    assert len(report["losses"]) == 2 and all(np.isfinite(report["losses"]))
    assert not report["untrained_weights"], f"{name}: no gradient reaches {report['untrained_weights']}"
    assert report["reload_identical"], f"{name}: reloaded model differs by {report['reload_max_difference']}"
    assert (report["params"], report["trainable_params"]) == expected_params(contract, UNITS, FEATURES, CLASSES)
    stacked = expected_params(contract, UNITS, FEATURES, CLASSES, layers=2, bidirectional=True)
    assert tuple(report["stacked_bidirectional_params"]) == stacked
    documented = expected_params(contract, REFERENCE_UNITS, REFERENCE_FEATURES, REFERENCE_CLASSES)[0]
    assert report["reference_params"] == contract.reference_params == documented
    assert tuple(report["matched_units"][str(budget)] for budget in REFERENCE_BUDGETS) == contract.matched_units


def randomise(layer: Any, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Give every weight of ``layer`` known random values; returns them by weight name."""
    values = {}
    for weight in layer.weights:
        value = rng.normal(0.0, WEIGHT_SCALE, size=tuple(weight.shape)).astype("float32")
        weight.assign(value)
        values[weight.name] = value
    return values


def state_sizes(cell: Any) -> list[int]:
    return list(cell.state_size) if isinstance(cell.state_size, (list, tuple)) else [cell.state_size]


def assert_one_step_matches_reference(info: ModelInfo) -> None:
    """One step of the cell, under its contract's step options, computes what its NumPy reference step does."""
    import keras

    rng = np.random.default_rng(1)
    cell = info.build_layer(UNITS, **info.option_values(info.contract.step_options)).cell
    cell.build((BATCH, FEATURES))
    weights = randomise(cell, rng)
    x = rng.normal(size=(BATCH, FEATURES)).astype("float32")
    states = [rng.normal(size=(BATCH, size)).astype("float32") for size in state_sizes(cell)]

    output, new_states = cell(x, states)
    expected_output, expected_states = info.contract.reference_step(weights, cell.get_config(), x, states)

    output = keras.ops.convert_to_numpy(output)
    assert output.shape == (BATCH, UNITS)
    np.testing.assert_allclose(output, expected_output, rtol=PARITY_TOLERANCE, atol=PARITY_TOLERANCE)
    for state, expected in zip(new_states, expected_states, strict=True):
        state = keras.ops.convert_to_numpy(state)
        np.testing.assert_allclose(state, expected, rtol=PARITY_TOLERANCE, atol=PARITY_TOLERANCE)


def assert_sequence_matches_reference(info: ModelInfo) -> None:
    """The registered layer, at the default options, ends a sequence where a loop of the reference step does."""
    import keras

    rng = np.random.default_rng(2)
    layer = info.build_layer(UNITS)
    layer.build((BATCH, STEPS, FEATURES))
    weights = randomise(layer, rng)
    sequences = rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32")

    states = [np.zeros((BATCH, size), dtype="float32") for size in state_sizes(layer.cell)]
    for t in range(STEPS):
        expected, states = info.contract.reference_step(weights, layer.cell.get_config(), sequences[:, t], states)

    output = keras.ops.convert_to_numpy(layer(sequences))
    np.testing.assert_allclose(output, expected, rtol=PARITY_TOLERANCE, atol=PARITY_TOLERANCE)


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

    from rnnbench.models import register_keras_objects

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
