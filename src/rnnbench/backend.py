"""Choosing the Keras backend before Keras is imported.

Keras fixes its backend at import time from ``KERAS_BACKEND`` (or ``~/.keras/keras.json``). rnnbench decides the
backend itself (JAX unless asked otherwise), so a user's environment or an installed TensorFlow never changes it
silently.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from rnnbench.errors import RnnbenchError
from rnnbench.settings import read_settings

BACKENDS = ("jax", "tensorflow", "torch")
DEFAULT_BACKEND = "jax"
ONE_THREAD_XLA_FLAGS = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
# At XLA's default level (3) some of the programs behind Keras' initializers take four times as long to compile (2 s
# for the head's Dense kernel of shape (64, 10) on a 2-core EPYC, 0.5 s at level 2); training steps run as fast at
# level 2 (their arithmetic is in the recurrence kernels and in XLA's own fused code either way).
OPTIMIZATION_XLA_FLAG = "--xla_backend_optimization_level=2"
_EXTRA = {"jax": "rnnbench", "tensorflow": "rnnbench[tensorflow]", "torch": "rnnbench[torch]"}


def select_backend(name: str = DEFAULT_BACKEND) -> None:
    """Make ``name`` the Keras backend of this process; call before anything imports Keras."""
    if name not in BACKENDS:
        raise RnnbenchError(f"unknown backend '{name}'; known: {', '.join(BACKENDS)}")
    if importlib.util.find_spec(name) is None:
        raise RnnbenchError(f"backend '{name}' is not installed; install it with: pip install '{_EXTRA[name]}'")
    if "keras" in sys.modules:
        active = sys.modules["keras"].backend.backend()
        if active != name:
            raise RnnbenchError(
                f"Keras was already imported with backend '{active}' in this process; "
                f"select backend '{name}' before importing Keras (or start a new process)"
            )
        return
    os.environ["KERAS_BACKEND"] = name
    if name == "jax":
        # JAX takes 75 % of a GPU's memory up front by default; several worker processes then share one GPU.
        os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
        # One thread per run, in this process as in a worker: a multi-threaded product sums in another order, and a
        # run's numbers would depend on where it ran. Parallelism comes from running runs side by side.
        os.environ["XLA_FLAGS"] = xla_flags(os.environ.get("XLA_FLAGS", ""))
        _enable_jax_compilation_cache()


def check_xla_flags() -> None:
    """Flags in ``XLA_FLAGS`` that XLA does not know abort a process with one fatal line of its own: tried in a
    short-lived process first (only when the user set any), so the command can say what is wrong before it trains."""
    given = os.environ.get("XLA_FLAGS", "").strip()
    # The flags rnnbench sets itself (a parent process chose the backend) are known to be good.
    own = {*ONE_THREAD_XLA_FLAGS.split(), OPTIMIZATION_XLA_FLAG}
    if any(flag not in own for flag in given.split()):
        _check_xla_flags(xla_flags(given))


@functools.cache
def _check_xla_flags(flags: str) -> None:
    probe = subprocess.run([sys.executable, "-c", "import jax; jax.devices()"], capture_output=True, text=True,
                           env={**os.environ, "XLA_FLAGS": flags, "JAX_PLATFORMS": "cpu"}, timeout=120,
                           check=False)  # fmt: skip
    if probe.returncode != 0:
        lines = [line for line in probe.stderr.splitlines() if line.strip()]
        said = " ".join(lines[-1].split()) if lines else f"exit status {probe.returncode}"
        raise RnnbenchError(f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '').strip()!r} is refused by XLA ({said}); "
                            "correct or unset XLA_FLAGS")  # fmt: skip


def xla_flags(given: str) -> str:
    """``XLA_FLAGS`` for a run: the given flags, with one thread and OPTIMIZATION_XLA_FLAG where they say nothing."""
    flags = given
    if "xla_cpu_multi_thread_eigen" not in flags:
        flags = f"{flags} {ONE_THREAD_XLA_FLAGS}"
    if "xla_backend_optimization_level" not in flags:
        # First: XLA reads no flag after a word without dashes, and ONE_THREAD_XLA_FLAGS ends with one.
        flags = f"{OPTIMIZATION_XLA_FLAG} {flags}"
    return flags.strip()


def use_one_thread() -> None:
    """Limit the active backend to one thread of math (a worker process among N on N cores).

    The environment of a worker (``OMP_NUM_THREADS``, ``TF_NUM_INTRAOP_THREADS``, ``XLA_FLAGS``, ...) already asks
    for one thread before anything is imported; TensorFlow and torch are told again through their own calls, which
    they honour whatever their build reads from the environment. JAX's CPU client takes its setting from
    ``XLA_FLAGS`` alone.
    """
    import keras

    backend = keras.backend.backend()
    if backend == "torch":
        import torch

        torch.set_num_threads(1)
        with contextlib.suppress(RuntimeError):  # refused once torch has run parallel work; the setting stays
            torch.set_num_interop_threads(1)
    elif backend == "tensorflow":
        import tensorflow as tf

        with contextlib.suppress(RuntimeError):  # refused once TensorFlow's runtime started; it read the env then
            tf.config.threading.set_intra_op_parallelism_threads(1)
            tf.config.threading.set_inter_op_parallelism_threads(1)


def seed_everything(seed: int) -> None:
    """What ``keras.utils.set_random_seed`` does (Python, NumPy, Keras' global seed, torch), and TensorFlow's seed
    only where TensorFlow is the backend: Keras would import an installed TensorFlow just to seed it (3-4 s per
    process), and no other backend's run uses it."""
    import keras

    if keras.backend.backend() == "tensorflow":
        keras.utils.set_random_seed(seed)
        return
    import random

    import numpy as np
    from keras.src.backend.common import global_state
    from keras.src.random import seed_generator
    from keras.src.utils import rng_utils

    global_state.set_global_attribute(rng_utils.GLOBAL_RANDOM_SEED, seed)
    global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, None)
    random.seed(seed)
    np.random.seed(seed)
    if keras.backend.backend() == "torch":
        import torch

        torch.manual_seed(seed)


def jax_compilation_cache_dir() -> Path | None:
    """``$RNNBENCH_JAX_CACHE`` (``off`` disables it), else ``$XDG_CACHE_HOME/rnnbench/jax`` or ``~/.cache/...``."""
    return read_settings().jax_cache


def _enable_jax_compilation_cache() -> None:
    """Keep compiled XLA programs on disk: every seed of a model, and every later comparison, reuses them.

    A comparison builds a fresh Keras model per run, and each would otherwise compile the same programs again
    (about 4 s of a 5 s run on the digits data set). JAX reads these settings from the environment when it is
    imported, so a driver that never computes (its workers do) does not pay 1.3 s to import it; worker processes
    inherit them.
    """
    directory = jax_compilation_cache_dir()
    if directory is None:
        return
    settings: dict[str, str | float | int] = {
        "jax_compilation_cache_dir": str(directory),
        "jax_persistent_cache_min_compile_time_secs": 0.0,
        "jax_persistent_cache_min_entry_size_bytes": 0,
    }
    os.environ.update({name.upper(): str(value) for name, value in settings.items()})
    if "jax" in sys.modules:
        import jax

        for name, value in settings.items():
            jax.config.update(name, value)


def import_keras_without_extras() -> None:
    """Import Keras in a process that only trains, without the integrations it loads whenever they are installed.

    Keras imports scikit-learn (for its estimator wrappers) and matplotlib (for its image galleries) at import time:
    1.5 s of the 2.5-4 s a worker needs to start, for features training never uses. They are hidden while Keras
    imports and importable again afterwards (rnnbench's digits data set loads through scikit-learn).
    """
    if "keras" in sys.modules:
        return
    with modules_hidden("sklearn", "matplotlib"):
        import keras  # noqa: F401


@contextlib.contextmanager
def modules_hidden(*names: str) -> Iterator[None]:
    """Inside, ``import NAME`` raises ImportError for each of ``names`` not imported yet; importable again after."""
    hidden = [name for name in names if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # None makes `import name` raise ImportError
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]


def training_environment(backend: str) -> dict[str, str]:
    """Where a run trains: package versions (from the installed metadata), host and device; asked in the process
    that trains, which has its backend imported already."""
    import importlib.metadata
    import platform

    from rnnbench.version import __version__

    environment = {"rnnbench_version": __version__}
    for key, package in (("keras_version", "keras"), ("backend_version", backend)):
        try:
            environment[key] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            environment[key] = "unknown"
    return {**environment, "host": platform.node(), "device": device_kind()}


def device_kind() -> str:
    """The kind of device the selected backend computes on: 'cpu', 'gpu' or 'tpu' (without importing Keras)."""
    backend = os.environ.get("KERAS_BACKEND", DEFAULT_BACKEND)
    if "keras" in sys.modules:
        backend = sys.modules["keras"].backend.backend()
    if backend == "jax":
        import jax

        return str(jax.default_backend())
    if backend == "tensorflow":
        import tensorflow as tf

        return "gpu" if tf.config.list_physical_devices("GPU") else "cpu"
    if backend == "torch":
        import torch

        return "gpu" if torch.cuda.is_available() else "cpu"
    return "cpu"
