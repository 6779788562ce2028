import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rnnbench.backend import (
    ONE_THREAD_XLA_FLAGS,
    OPTIMIZATION_XLA_FLAG,
    device_kind,
    jax_compilation_cache_dir,
    select_backend,
    xla_flags,
)
from rnnbench.errors import RnnbenchError


def test_the_test_process_runs_keras_on_jax():
    import keras

    assert keras.backend.backend() == "jax"
    assert os.environ["KERAS_BACKEND"] == "jax"
    assert device_kind() == "cpu"


def test_the_active_backend_may_be_selected_again():
    import keras  # noqa: F401

    select_backend("jax")


# A backend that is not installed: tests/test_cli.py (test_a_backend_that_cannot_be_imported_names_its_extra).


THREADS = {
    "tensorflow": "import tensorflow as tf; print(tf.config.threading.get_intra_op_parallelism_threads(), "
    "tf.config.threading.get_inter_op_parallelism_threads())",
    "torch": "import torch; print(torch.get_num_threads(), torch.get_num_interop_threads())",
}


@pytest.mark.parametrize("backend", sorted(THREADS))
def test_a_worker_computes_on_one_thread(backend):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed (rnnbench[{backend}])")
    code = f"import rnnbench.backend as b; b.select_backend({backend!r}); b.use_one_thread(); {THREADS[backend]}"
    environment = {key: value for key, value in os.environ.items() if "THREADS" not in key}
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=120)
    assert process.returncode == 0, process.stderr
    assert process.stdout.split() == ["1", "1"]


XLA_FLAGS_OF_A_RUN = "import os, rnnbench.backend as b; b.select_backend('jax'); print(os.environ['XLA_FLAGS'])"


def test_xla_flags_keep_the_users_and_add_ours_where_they_say_nothing():
    assert xla_flags("").split() == [OPTIMIZATION_XLA_FLAG, *ONE_THREAD_XLA_FLAGS.split()]
    assert xla_flags("--xla_dump_to=/tmp/x").split() == [
        OPTIMIZATION_XLA_FLAG, "--xla_dump_to=/tmp/x", *ONE_THREAD_XLA_FLAGS.split()
    ]  # fmt: skip
    given = "--xla_backend_optimization_level=1 --xla_cpu_multi_thread_eigen=true"
    assert xla_flags(given) == given


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "--xla_backend_optimization_level=2"),
        ("--xla_backend_optimization_level=3 --xla_dump_to=/tmp/x", "--xla_backend_optimization_level=3"),
    ],
)
def test_xla_compiles_at_level_2_unless_the_user_says_otherwise(given, expected):
    environment = {key: value for key, value in os.environ.items() if key != "XLA_FLAGS"}
    if given is not None:
        environment["XLA_FLAGS"] = given
    process = subprocess.run(
        [sys.executable, "-c", XLA_FLAGS_OF_A_RUN], capture_output=True, text=True, env=environment, timeout=120
    )
    assert process.returncode == 0, process.stderr
    flags = process.stdout.split()
    assert [flag for flag in flags if "optimization_level" in flag] == [expected]
    assert "--xla_cpu_multi_thread_eigen=false" in flags
    assert given is None or set(given.split()) <= set(flags)


SEEDED_DRAWS = """
import random, sys
import numpy as np
import rnnbench.backend as b
b.select_backend("jax")
import keras
def draws():
    tensors = [*np.asarray(keras.random.normal((3,))), *np.asarray(keras.random.uniform((2,)))]
    return [*tensors, random.random(), np.random.rand()]
b.seed_everything(7)
ours = draws()
assert "tensorflow" not in sys.modules, "seeding imported TensorFlow"
keras.utils.set_random_seed(7)
assert ours == draws(), "not what keras.utils.set_random_seed gives"
print("ok")
"""


def test_seeding_is_keras_own_without_importing_tensorflow():
    # Keras' set_random_seed imports an installed TensorFlow (3-4 s in every worker) to seed it.
    process = subprocess.run([sys.executable, "-c", SEEDED_DRAWS], capture_output=True, text=True, timeout=120)
    assert process.returncode == 0, process.stderr
    assert process.stdout.strip() == "ok"


def test_unknown_backend():
    with pytest.raises(RnnbenchError, match="unknown backend 'theano'; known: jax, tensorflow, torch"):
        select_backend("theano")


def test_compilation_cache_location(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNBENCH_JAX_CACHE", "off")
    assert jax_compilation_cache_dir() is None
    monkeypatch.setenv("RNNBENCH_JAX_CACHE", str(tmp_path))
    assert jax_compilation_cache_dir() == tmp_path
    monkeypatch.delenv("RNNBENCH_JAX_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert jax_compilation_cache_dir() == tmp_path / "rnnbench" / "jax"


def test_training_fills_the_compilation_cache():
    from rnnbench.data import prepare_data
    from rnnbench.engine.training import train
    from rnnbench.spec import DataSpec, ModelSpec, RunSpec, TrainSpec

    spec = DataSpec("digits", limit_train=100, limit_test=20)
    train(RunSpec(spec, ModelSpec("simplernn", 4), TrainSpec(epochs=1)), prepare_data(spec))
    assert any(Path(os.environ["RNNBENCH_JAX_CACHE"]).iterdir())


CACHE_WITHOUT_JAX = """
import sys
import rnnbench.backend as b
b.select_backend("jax")
assert "jax" not in sys.modules, "selecting the backend imported JAX"
import jax
print(jax.config.jax_compilation_cache_dir, jax.config.jax_persistent_cache_min_compile_time_secs)
"""


def test_the_compilation_cache_is_set_up_without_importing_jax(tmp_path):
    # A driver whose workers do all the computing would otherwise import JAX (1.3 s) only to configure it.
    environment = dict(os.environ, RNNBENCH_JAX_CACHE=str(tmp_path))
    process = subprocess.run(
        [sys.executable, "-c", CACHE_WITHOUT_JAX], capture_output=True, text=True, env=environment, timeout=120
    )
    assert process.returncode == 0, process.stderr
    assert process.stdout.split() == [str(tmp_path), "0.0"]


LEAN_KERAS = """
import sys
import rnnbench.backend as b
b.select_backend("jax")
b.import_keras_without_extras()
assert "keras" in sys.modules
assert not {"sklearn", "matplotlib"} & set(sys.modules), "Keras imported its optional integrations"
import sklearn.datasets, matplotlib  # still importable afterwards
print("ok")
"""


def test_a_worker_imports_keras_without_its_optional_integrations():
    process = subprocess.run([sys.executable, "-c", LEAN_KERAS], capture_output=True, text=True, timeout=120)
    assert process.returncode == 0, process.stderr
    assert process.stdout.strip() == "ok"
