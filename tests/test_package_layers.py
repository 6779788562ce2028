"""The package's layers only look down: what each import loads, checked in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

import pytest

HIGHER = ("rnnbench.report", "rnnbench.cli", "rnnbench.experiment")


def _loaded_after(statement: str) -> set[str]:
    """The rnnbench modules (and Keras/JAX) that ``statement`` loads in a new interpreter."""
    script = (
        f"{statement}\nimport sys\n"
        "print(' '.join(m for m in sys.modules if m.startswith(('rnnbench', 'keras', 'jax', 'matplotlib'))))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


@pytest.mark.parametrize("module", ["rnnbench.data", "rnnbench.models", "rnnbench.store", "rnnbench.stats"])
def test_lower_layers_do_not_import_higher_ones(module):
    loaded = _loaded_after(f"import {module}")
    assert not {name for name in loaded if name.startswith(HIGHER)}, loaded


def test_the_report_does_not_import_the_driver_or_the_command_line():
    loaded = _loaded_after("import rnnbench.report.write, rnnbench.report.table, rnnbench.report.summary")
    assert not {name for name in loaded if name.startswith(("rnnbench.experiment", "rnnbench.cli"))}, loaded


def test_the_backend_module_loads_a_handful_of_modules_and_no_keras():
    loaded = _loaded_after("import rnnbench.backend")
    assert {name for name in loaded if name.startswith("rnnbench")} == {
        "rnnbench", "rnnbench.backend", "rnnbench.errors", "rnnbench.settings", "rnnbench.version",
    }  # fmt: skip
    assert not {name for name in loaded if name.startswith(("keras", "jax"))}


def test_the_package_root_is_lazy_and_still_exposes_the_api():
    assert _loaded_after("import rnnbench") == {"rnnbench", "rnnbench.version"}
    loaded = _loaded_after("import rnnbench; rnnbench.ExperimentSpec; rnnbench.compare")
    assert {"rnnbench.config", "rnnbench.experiment"} <= loaded
    import rnnbench

    assert rnnbench.compare is rnnbench.run_experiment
    assert set(rnnbench.__all__) <= set(dir(rnnbench))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        rnnbench.nothing  # noqa: B018


def test_help_loads_neither_keras_nor_the_report():
    loaded = _loaded_after(
        "import contextlib, io\nfrom rnnbench.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    main(['compare', '--help'])"
    )
    assert not {name for name in loaded if name.startswith(("keras", "jax", "matplotlib", "rnnbench.report.write"))}
