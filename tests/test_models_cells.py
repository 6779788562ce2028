"""Every registered cell against the NumPy reference step it registers (a transcription of its paper's equations),
its registration and its math; then the guarantees of single cells. The contract every model meets on every backend
(shape, training, gradients, save/load, parameter counts) is tests/test_models_contract.py."""

from __future__ import annotations

import ast
import importlib
import inspect
import math
import subprocess
import sys
from typing import Any

import keras
import numpy as np
import pytest

from model_contract import assert_one_step_matches_reference, assert_sequence_matches_reference, registered_names
from rnnbench.models import list_models
from rnnbench.models.registry import model_info

MODELS = registered_names()
BATCH, STEPS, FEATURES, UNITS, CLASSES = 3, 5, 3, 4, 2
# The defaults each paper gives its cell (the cell's config at registry defaults).
PAPERS_DEFAULTS = {
    "indrnn": ("Li et al.", {"timesteps": None, "max_gradient": 2.0, "long_memory_init": True}),
    "cornn": ("Rusch & Mishra", {"dt": 0.042, "gamma": 2.7, "epsilon": 4.7}),
    "lem": ("Rusch et al.", {"dt": 0.21}),
    "lru": ("Orvieto et al.", {"r_min": 0.9, "r_max": 0.999, "max_phase": 2 * math.pi}),
}
# Module names that make a cell's math run on one backend only, unlike keras.ops.
ENGINES = ("numpy", "jax", "tensorflow", "torch")


def cell_module(name: str) -> Any:
    return importlib.import_module(model_info(name).build_layer.__module__)


def numpy(value: Any) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(value))


def test_importing_the_cell_modules_does_not_import_keras():
    # Nor does asking a cell module for an attribute it lacks, as import machinery and test tools do, nor reading
    # a cell's contract data.
    code = (
        "import sys\n"
        "from rnnbench.models import fast, list_models\n"
        "modules = [sys.modules[info.build_layer.__module__] for info in list_models()] + [fast]\n"
        "assert not any(hasattr(m, '__wrapped__') for m in modules)\n"
        "assert all(info.contract.recurrent_params(4, 3) > 0 for info in list_models())\n"
        "loaded = [name for name in ('keras', 'jax', 'tensorflow', 'torch') if name in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def engine_uses_outside(source: str, allowed: set[str]) -> list[str]:
    """Where ``source`` imports an engine other than NumPy, or uses NumPy outside the top-level functions
    ``allowed``: as ``line: code``."""
    tree = ast.parse(source)
    engine_names, found = set(), []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            roots = {module.split(".")[0] for module in modules}
            if roots & {"jax", "tensorflow", "torch"}:
                found.append(f"{node.lineno}: {ast.unparse(node)}")
            if roots & set(ENGINES):
                engine_names |= {alias.asname or alias.name.split(".")[0] for alias in node.names}
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef) and statement.name in allowed:
            continue
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and node.id in engine_names:
                found.append(f"{node.lineno}: {node.id}")
    return found


@pytest.mark.parametrize("name", MODELS)
def test_layer_math_uses_keras_ops_only(name):
    # keras.ops is what makes the cells run on the JAX, TensorFlow and torch backends alike; NumPy is for the
    # reference steps, which stand beside the cells they check.
    module = cell_module(name)
    steps = {info.contract.reference_step for info in list_models() if info.build_layer.__module__ == module.__name__}
    assert all(step.__module__ == module.__name__ for step in steps), f"{name}'s reference step is not beside it"
    assert engine_uses_outside(inspect.getsource(module), {step.__name__ for step in steps}) == []


def test_the_engine_check_finds_numpy_in_layer_math():
    source = (
        "import numpy as np\nimport jax.numpy as jnp\n"
        "def step(x):\n    return np.tanh(x)\n"
        "def call(x):\n    return np.tanh(x)\n"
    )
    assert engine_uses_outside(source, {"step"}) == ["2: import jax.numpy as jnp", "6: np"]


@pytest.mark.parametrize("name", MODELS)
def test_registered_with_a_recurrent_layer_and_its_options(name):
    info = model_info(name)
    assert info.paper and info.equations and info.description
    layer = info.build_layer(8)
    assert isinstance(layer, keras.layers.RNN) and layer.name == "recurrent"
    assert {type(layer), type(layer.cell)} & set(info.keras_classes()), "a saved model could not name its class"
    config = layer.cell.get_config()
    options = info.option_values()  # what the registry builds with, unless told otherwise
    assert {key: config[key] for key in options} == options


@pytest.mark.parametrize("name", sorted(PAPERS_DEFAULTS))
def test_registered_with_the_papers_defaults(name):
    author, defaults = PAPERS_DEFAULTS[name]
    info = model_info(name)
    assert info.paper.startswith(author)
    cell = info.build_layer(8).cell
    assert keras.saving.get_registered_name(type(cell)) == f"rnnbench>{type(cell).__name__}"
    config = cell.get_config()
    assert {key: config[key] for key in defaults} == defaults


@pytest.mark.parametrize("name", MODELS)
def test_one_step_matches_the_papers_equations(name):
    assert_one_step_matches_reference(model_info(name))


@pytest.mark.parametrize("name", MODELS)
def test_a_sequence_through_keras_rnn_matches_a_numpy_loop(name):
    assert_sequence_matches_reference(model_info(name))


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
    cell, _ = cell_module("lru").keras_classes()
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
    cell, _ = cell_module("lru").keras_classes()
    lru = cell(64)
    lru.build((None, FEATURES))
    lru.nu_log.assign(np.linspace(-16.0, 30.0, 64).astype("float32"))
    modulus = numpy(lru.modulus())
    assert np.all(modulus < 1.0) and np.all(modulus >= 0.0)
