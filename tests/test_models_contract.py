"""One contract over every registered model on every Keras backend: output shape, finite loss after a few steps,
a non-zero gradient for every trainable weight, an identical `.keras` round-trip, the parameter counts and matched
widths the cell registers, and the same parameter counts, matched widths and (for the same weights) outputs on every
backend. The registered figures of the built-in cells are checked against a copy made by hand here.

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

from model_contract import assert_meets_contract, registered_names
from rnnbench.backend import BACKENDS
from rnnbench.models import list_models, model_info

CONTRACT = Path(__file__).with_name("model_contract.py")
MODELS = registered_names()
EXTRAS = {"tensorflow": "pip install 'rnnbench[tensorflow]'", "torch": "pip install 'rnnbench[torch]'"}
TIMEOUT = 600

# The built-in cells' registered figures, copied by hand so that a registration changed by mistake fails: their
# recurrent layer's parameters at (units, features) = (4, 3), the reference model's count (64 units on 28 x 28 rows,
# 10 classes; SimpleRNN, LSTM and GRU are the counts of the original experiment) and the widths closest to the
# budgets 6,858, 24,714 and 100,000 on the reference input (see test_models_builder.py for the 2 % rule).
BUILT_IN_FIGURES = {
    "simplernn": (32, 6858, (64, 137, 295)), "lstm": (128, 24714, (28, 64, 143)), "gru": (108, 18954, (33, 75, 166)),
    "indrnn": (20, 2826, (156, 561, 2272)), "cornn": (48, 10954, (49, 101, 213)), "lem": (128, 24714, (28, 64, 143)),
    "lru": (80, 14666, (38, 89, 200)), "mamba": (552, 24586, (23, 64, 164)),
}  # fmt: skip


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
    assert_meets_contract(f"{name} on {backend}", report["models"][name], model_info(name).contract)


def test_the_built_in_cells_register_the_figures_copied_here():
    registered = {
        info.name: (info.contract.recurrent_params(4, 3), info.contract.reference_params, info.contract.matched_units)
        for info in list_models()
    }
    assert {name: registered.get(name) for name in BUILT_IN_FIGURES} == BUILT_IN_FIGURES


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
