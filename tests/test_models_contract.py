"""One contract over every registered model on every Keras backend: output shape, finite loss after a few steps,
a non-zero gradient for every trainable weight, an identical `.keras` round-trip, the documented parameter count,
and the same parameter counts, matched widths and (for the same weights) outputs on every backend.

A process can run Keras on one backend only, so tests/model_contract.py checks TensorFlow and torch in subprocesses
of their own while this (JAX) process checks JAX; the tests here assert on their reports. A backend that is not
installed is skipped with the extra that installs it; CI installs all three.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rnnbench.backend import BACKENDS
from rnnbench.models import list_models

CONTRACT = Path(__file__).with_name("model_contract.py")
BATCH, STEPS, FEATURES, UNITS, CLASSES = 4, 5, 3, 4, 3
MODELS = [info.name for info in list_models()]
EXTRAS = {"tensorflow": "pip install 'rnnbench[tensorflow]'", "torch": "pip install 'rnnbench[torch]'"}
TIMEOUT = 600

# Parameters of the recurrent layer alone for d input features and n units, written from each cell's equations.
RECURRENT_PARAMETERS = {
    "simplernn": lambda d, n: n * (d + n + 1),  # W (d, n), U (n, n), b (n)
    "lstm": lambda d, n: 4 * n * (d + n + 1),  # four gates
    "gru": lambda d, n: 3 * n * (d + n + 2),  # three gates, reset_after: input and recurrent bias
    "indrnn": lambda d, n: n * (d + 2),  # W (d, n), u (n), b (n)
    "cornn": lambda d, n: n * (d + 2 * n + 1),  # V (d, n), W (n, n), W_z (n, n), b (n)
    "lem": lambda d, n: 4 * n * (d + n + 1),  # V_{1,2,z,y} (d, 4n), W_{1,2,z} (n, 3n), W_y (n, n), b (4n)
    "lru": lambda d, n: n * (3 * d + 2 * n + 3),  # nu, theta, gamma (3n), B re+im (2dn), C re+im (2n^2), D (dn)
}


def documented_params(name: str, features: int, units: int, classes: int) -> tuple[int, int]:
    """(all, trainable) of cell -> BatchNormalization -> Dense: BatchNormalization's moving statistics (2 units) are
    counted by Keras but not trained."""
    trainable = RECURRENT_PARAMETERS[name](features, units) + 2 * units + units * classes + classes
    return trainable + 2 * units, trainable


# The reference model (64 units on 28 x 28 rows, 10 classes) of every cell: SimpleRNN, LSTM and GRU are the counts of
# the original experiment.
REFERENCE_PARAMS = {
    "simplernn": 6858, "lstm": 24714, "gru": 18954, "indrnn": 2826, "cornn": 10954, "lem": 24714, "lru": 14666,
}  # fmt: skip
# Widths whose count is closest to each budget on the reference input (see test_models_builder.py for the 2 % rule).
MATCHED_UNITS = {
    "simplernn": [64, 137, 295], "lstm": [28, 64, 143], "gru": [33, 75, 166], "indrnn": [156, 561, 2272],
    "cornn": [49, 101, 213], "lem": [28, 64, 143], "lru": [38, 89, 200],
}  # fmt: skip
BUDGETS = ("6858", "24714", "100000")


def installed(backend: str) -> bool:
    return importlib.util.find_spec(backend) is not None


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, dict[str, Any]]:
    """Every installed backend's report: TensorFlow and torch in subprocesses, JAX (this process's) here meanwhile."""
    from model_contract import backend_report

    workdir = tmp_path_factory.mktemp("contract")
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}  # TensorFlow's start-up chatter on stderr
    processes = {
        backend: subprocess.Popen(
            [sys.executable, str(CONTRACT), backend, str(workdir / backend)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        for backend in BACKENDS
        if backend != "jax" and installed(backend)
    }
    found = {"jax": backend_report("jax", workdir / "jax")}
    for backend, process in processes.items():
        stdout, stderr = process.communicate(timeout=TIMEOUT)
        assert process.returncode == 0, f"{backend} contract process failed:\n{stderr[-3000:]}"
        found[backend] = json.loads(stdout.strip().splitlines()[-1])
    return found


def report_of(reports: dict[str, dict[str, Any]], backend: str) -> dict[str, Any]:
    if not installed(backend):
        pytest.skip(f"the {backend} backend is not installed ({EXTRAS[backend]})")
    assert reports[backend]["backend"] == backend
    return reports[backend]


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.mark.parametrize("name", MODELS)
def test_model_contract(reports, backend, name):
    report = report_of(reports, backend)
    assert name not in report["errors"], report["errors"][name]
    model = report["models"][name]
    assert model["output_shape"] == [BATCH, CLASSES]
    assert len(model["losses"]) == 2 and all(np.isfinite(model["losses"]))
    assert not model["untrained_weights"], f"{name} on {backend}: no gradient reaches {model['untrained_weights']}"
    assert model["reload_identical"], f"{name} on {backend}: reloaded model differs by {model['reload_max_difference']}"
    documented = {"RECURRENT_PARAMETERS": RECURRENT_PARAMETERS, "REFERENCE_PARAMS": REFERENCE_PARAMS,
                  "MATCHED_UNITS": MATCHED_UNITS}  # fmt: skip
    missing = [table for table, entries in documented.items() if name not in entries]
    assert not missing, f"{name} is registered but not documented here: add it to {', '.join(missing)}"
    assert (model["params"], model["trainable_params"]) == documented_params(name, FEATURES, UNITS, CLASSES)
    assert model["reference_params"] == REFERENCE_PARAMS[name] == documented_params(name, 28, 64, 10)[0]
    assert [model["matched_units"][budget] for budget in BUDGETS] == MATCHED_UNITS[name]


def test_a_resumed_run_ends_as_an_uninterrupted_one(reports, backend):
    """Dropout masks and Adam's state come back from the checkpoint on every backend."""
    report = report_of(reports, backend)
    assert "resume" not in report["errors"], report["errors"]["resume"]
    resume = report["resume"]
    assert resume["resumed_losses"] == resume["straight_losses"] and len(resume["straight_losses"]) == 2
    assert resume["resumed_test_accuracy"] == resume["straight_test_accuracy"]


@pytest.mark.parametrize("name", MODELS)
def test_every_backend_counts_and_computes_as_jax_does(reports, name):
    """Same structure, same counts, same matched widths, and the same logits for the same weights."""
    others = {backend: report["models"].get(name) for backend, report in reports.items() if backend != "jax"}
    if not others:
        pytest.skip(f"neither TensorFlow nor torch is installed ({EXTRAS['tensorflow']}, {EXTRAS['torch']})")
    jax = reports["jax"]["models"][name]
    for backend, model in others.items():
        assert model is not None, f"{name} failed on {backend}"
        for key in ("weights", "params", "trainable_params", "reference_params", "stacked_bidirectional_params",
                    "matched_units"):  # fmt: skip
            assert model[key] == jax[key], (backend, key)
        np.testing.assert_allclose(
            model["fixed_weight_logits"], jax["fixed_weight_logits"], rtol=1e-4, atol=1e-4, err_msg=backend
        )
