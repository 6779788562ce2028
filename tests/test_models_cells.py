"""The cells beyond Keras' own (IndRNN, coRNN, LEM, LRU): parity with NumPy transcriptions of the papers' equations
and each cell's own guarantees. The contract every model meets on every backend (shape, training, gradients,
save/load, parameter counts) is tests/test_models_contract.py."""

from __future__ import annotations

import importlib
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

from rnnbench.models.registry import model_info

NAMES = ("indrnn", "cornn", "lem", "lru")
BATCH, STEPS, FEATURES, UNITS, CLASSES = 3, 5, 3, 4, 2


def cell_module(name: str) -> Any:
    """Imported here, not at the top: importing registers the model, and the registry test of the classic cells
    (test_models_builder.py) runs before this file and expects only those."""
    return importlib.import_module(f"rnnbench.models.{name}")


def cell_class(name: str) -> Any:
    return cell_module(name).keras_classes()[0]


# NumPy transcriptions of the papers' equations: (weights by name, cell config, x (batch, features), states) ->
# (output, new states). Written from the papers, in the papers' notation, independently of the Keras code.


def indrnn_step(w: dict[str, np.ndarray], config: dict[str, Any], x: np.ndarray, states: list[np.ndarray]) -> Any:
    (h,) = states
    h = np.maximum(x @ w["kernel"] + w["recurrent_kernel"] * h + w["bias"], 0.0)
    return h, [h]


def cornn_step(w: dict[str, np.ndarray], config: dict[str, Any], u: np.ndarray, states: list[np.ndarray]) -> Any:
    y, z = states
    dt, gamma, eps = config["dt"], config["gamma"], config["epsilon"]
    W, W_z, V, b = w["recurrent_kernel"], w["velocity_kernel"], w["kernel"], w["bias"]
    z = z + dt * (np.tanh(y @ W + z @ W_z + u @ V + b) - gamma * y - eps * z)
    y = y + dt * z
    return y, [y, z]


def lem_step(w: dict[str, np.ndarray], config: dict[str, Any], u: np.ndarray, states: list[np.ndarray]) -> Any:
    def sigmoid(a: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-a))

    y, z = states
    dt = config["dt"]
    V1, V2, Vz, Vy = np.split(w["kernel"], 4, axis=1)
    b1, b2, bz, by = np.split(w["bias"], 4)
    W1, W2, Wz = np.split(w["recurrent_kernel"], 3, axis=1)
    Wy = w["state_kernel"]
    dt_n = dt * sigmoid(y @ W1 + u @ V1 + b1)
    dtbar_n = dt * sigmoid(y @ W2 + u @ V2 + b2)
    z = (1 - dt_n) * z + dt_n * np.tanh(y @ Wz + u @ Vz + bz)
    y = (1 - dtbar_n) * y + dtbar_n * np.tanh(z @ Wy + u @ Vy + by)
    return y, [y, z]


def lru_step(w: dict[str, np.ndarray], config: dict[str, Any], x: np.ndarray, states: list[np.ndarray]) -> Any:
    # In complex arithmetic, as the paper writes it; the cell keeps real and imaginary parts apart.
    h = states[0] + 1j * states[1]
    lam = np.exp(-np.exp(w["nu_log"]) + 1j * np.exp(w["theta_log"]))
    B = w["b_re"] + 1j * w["b_im"]
    C = w["c_re"] + 1j * w["c_im"]
    h = lam * h + np.exp(w["gamma_log"]) * (x @ B)
    y = (h @ C).real + x @ w["d"]
    return y, [h.real, h.imag]


NUMPY_STEPS = {"indrnn": indrnn_step, "cornn": cornn_step, "lem": lem_step, "lru": lru_step}


def randomise(layer: Any, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Give every weight of ``layer`` known random values (of a size that exercises the nonlinearities)."""
    values = {}
    for weight in layer.weights:
        value = rng.normal(0.0, 0.5, size=tuple(weight.shape)).astype("float32")
        weight.assign(value)
        values[weight.name] = value
    return values


def zero_states(cell: Any) -> list[np.ndarray]:
    sizes = cell.state_size if isinstance(cell.state_size, (list, tuple)) else [cell.state_size]
    return [np.zeros((BATCH, size), dtype="float32") for size in sizes]


def numpy(value: Any) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(value))


def test_importing_the_cell_modules_does_not_import_keras():
    # Nor does asking a cell module for an attribute it lacks, as import machinery and test tools do.
    code = (
        "import sys\n"
        "import rnnbench.models\n"
        "from rnnbench.models import cornn, fast, indrnn, lem, lru\n"
        "assert not any(hasattr(m, '__wrapped__') for m in (cornn, fast, indrnn, lem, lru))\n"
        "loaded = [name for name in ('keras', 'jax', 'tensorflow', 'torch') if name in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


@pytest.mark.parametrize("name", NAMES)
def test_layer_math_uses_keras_ops_only(name):
    # keras.ops is what makes the cells run on the JAX, TensorFlow and torch backends alike.
    source = Path(cell_module(name).__file__).read_text()
    for engine in ("numpy", "jax", "tensorflow", "torch"):
        assert f"import {engine}" not in source and f"from {engine}" not in source


@pytest.mark.parametrize(
    ("name", "author", "defaults"),
    [
        ("indrnn", "Li et al.", {"timesteps": None, "max_gradient": 2.0, "long_memory_init": True}),
        ("cornn", "Rusch & Mishra", {"dt": 0.042, "gamma": 2.7, "epsilon": 4.7}),
        ("lem", "Rusch et al.", {"dt": 0.21}),
        ("lru", "Orvieto et al.", {"r_min": 0.9, "r_max": 0.999, "max_phase": 2 * math.pi}),
    ],
)
def test_registered_with_the_papers_defaults(name, author, defaults):
    cell_module(name)
    info = model_info(name)
    assert info.paper.startswith(author) and info.equations and info.description
    layer = info.build_layer(8)
    assert isinstance(layer, keras.layers.RNN) and layer.name == "recurrent"
    assert keras.saving.get_registered_name(type(layer.cell)) == f"rnnbench>{type(layer.cell).__name__}"
    config = layer.cell.get_config()
    assert {key: config[key] for key in defaults} == defaults
    options = info.option_values()  # what the registry builds with, unless told otherwise
    assert {key: config[key] for key in options} == options


@pytest.mark.parametrize(
    ("name", "config"),
    [
        ("indrnn", {"timesteps": 10}),
        ("cornn", {"dt": 0.3, "gamma": 1.5, "epsilon": 2.0}),
        ("lem", {"dt": 0.7}),
        ("lru", {}),
    ],
)
def test_one_step_matches_the_papers_equations(name, config):
    rng = np.random.default_rng(1)
    cell = cell_class(name)(UNITS, **config)
    cell.build((BATCH, FEATURES))
    weights = randomise(cell, rng)
    x = rng.normal(size=(BATCH, FEATURES)).astype("float32")
    states = [rng.normal(size=state.shape).astype("float32") for state in zero_states(cell)]

    output, new_states = cell(x, states)
    expected_output, expected_states = NUMPY_STEPS[name](weights, cell.get_config(), x, states)

    assert numpy(output).shape == (BATCH, UNITS)
    np.testing.assert_allclose(numpy(output), expected_output, rtol=1e-5, atol=1e-5)
    for state, expected in zip(new_states, expected_states, strict=True):
        np.testing.assert_allclose(numpy(state), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_a_sequence_through_keras_rnn_matches_a_numpy_loop(name):
    cell_module(name)
    rng = np.random.default_rng(2)
    layer = model_info(name).build_layer(UNITS)
    layer.build((BATCH, STEPS, FEATURES))
    weights = randomise(layer, rng)
    sequences = rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32")

    states = zero_states(layer.cell)
    for t in range(STEPS):
        expected, states = NUMPY_STEPS[name](weights, layer.cell.get_config(), sequences[:, t], states)

    np.testing.assert_allclose(numpy(layer(sequences)), expected, rtol=1e-5, atol=1e-5)


def test_indrnn_takes_its_recurrent_bound_from_the_sequence_length():
    cell, _ = cell_module("indrnn").keras_classes()
    layer = model_info("indrnn").build_layer(UNITS)
    layer.build((None, 28, FEATURES))
    assert layer.cell.timesteps == 28
    assert layer.cell.bound == pytest.approx(2 ** (1 / 28))
    u = numpy(layer.cell.recurrent_kernel)
    assert np.all((u >= 2 ** (-1 / 28)) & (u <= 2 ** (1 / 28)))  # the init of the layer that feeds the classifier
    assert cell(UNITS).bound == pytest.approx(2 ** (1 / 784))  # no sequence length known: pixel-by-pixel MNIST's


def test_indrnn_recurrent_weights_stay_bounded_under_a_huge_learning_rate():
    cell_module("indrnn")
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(8, STEPS, FEATURES)).astype("float32")
    y = rng.integers(0, CLASSES, size=8)
    layer = model_info("indrnn").build_layer(UNITS)
    model = keras.Sequential([keras.Input((STEPS, FEATURES)), layer, keras.layers.Dense(CLASSES)])
    model.compile(
        optimizer=keras.optimizers.SGD(1e3), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)

    u = numpy(layer.cell.recurrent_kernel)
    bound = 2 ** (1 / STEPS)
    assert np.all(np.isfinite(u)) and np.abs(u).max() <= bound * (1 + 1e-6)
    assert np.abs(u).max() == pytest.approx(bound)  # the steps pushed past the bound: the constraint did the work


def test_lru_ring_initialisation():
    (cell,) = cell_module("lru").keras_classes()
    keras.utils.set_random_seed(0)
    lru = cell(512, r_min=0.5, r_max=0.7, max_phase=math.pi / 10)
    lru.build((None, FEATURES))
    modulus = numpy(lru.modulus())
    assert modulus.min() >= 0.5 - 1e-6 and modulus.max() <= 0.7 + 1e-6
    # Uniform in |lambda|^2 on the ring (uniform over its area): mean of |lambda|^2 = (r_min^2 + r_max^2) / 2.
    assert np.mean(modulus**2) == pytest.approx((0.25 + 0.49) / 2, abs=0.02)
    phase = np.exp(numpy(lru.theta_log))
    assert phase.min() >= 0.0 and phase.max() <= math.pi / 10 + 1e-6
    np.testing.assert_allclose(numpy(lru.gamma_log), np.log(np.sqrt(1 - modulus.astype("float64") ** 2)), atol=1e-5)

    default = cell(UNITS)
    default.build((None, FEATURES))
    assert numpy(default.modulus()).max() < 1.0
    with pytest.raises(ValueError, match="r_min <= r_max"):
        cell(UNITS, r_min=0.9, r_max=0.5)


def test_lru_modulus_is_below_one_for_any_parameter_value():
    # |lambda| = exp(-exp(nu_log)) < 1 for every finite nu_log. In float32 it rounds to exactly 1 only once
    # exp(nu_log) < 6e-8 (nu_log < -16.6), a memory of more than ten million steps.
    (cell,) = cell_module("lru").keras_classes()
    lru = cell(64)
    lru.build((None, FEATURES))
    lru.nu_log.assign(np.linspace(-16.0, 30.0, 64).astype("float32"))
    modulus = numpy(lru.modulus())
    assert np.all(modulus < 1.0) and np.all(modulus >= 0.0)
