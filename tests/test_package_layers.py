"""The package's layers only look down: every import in every file (function-level ones too), and what an import
loads in a fresh interpreter."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import rnnbench

PACKAGE = Path(rnnbench.__file__).parent

# Layer -> the layers it must never import. The root modules (errors, files, settings, terminal, backend, version)
# are the foundation every layer may use.
FORBIDDEN = {
    "kernels": {"spec", "data", "models", "engine", "results", "executors", "driver", "search", "report", "serving",
                "cli"},
    "data": {"models", "kernels", "engine", "results", "executors", "driver", "search", "report", "serving", "cli"},
    "models": {"engine", "results", "executors", "driver", "search", "report", "serving", "cli"},
    "engine": {"executors", "driver", "search", "report", "serving", "cli", "results.store", "results.panels",
               "results.stats"},
    "results": {"engine", "executors", "driver", "search", "report", "serving", "cli"},
    "executors": {"driver", "search", "report", "serving", "cli"},
    "driver": {"search", "report", "serving", "cli"},
    "search": {"report", "serving", "cli"},
    "report": {"engine", "executors", "driver", "search", "serving", "cli"},
    "serving": {"engine", "executors", "driver", "search", "report", "cli"},
}  # fmt: skip
# The spec dataclasses import only the foundation; the builder checks cell options against the model registry.
SPEC_DATACLASSES = ("checks", "data", "model", "train", "run", "experiment", "execution")


def _imported(path: Path) -> set[str]:
    """Every rnnbench module a file imports, wherever the import stands, relative to the package."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("rnnbench."):
            names.add(node.module.removeprefix("rnnbench."))
            names.update(f"{node.module.removeprefix('rnnbench.')}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name.removeprefix("rnnbench.") for a in node.names if a.name.startswith("rnnbench."))
    return names


def _layer_files(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


def _hits(imported: set[str], forbidden: set[str]) -> set[str]:
    return {name for name in imported for bad in forbidden if name == bad or name.startswith(bad + ".")}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_no_file_of_a_layer_imports_a_layer_above_it(layer):
    assert _layer_files(layer), f"no package {layer}"
    wrong = {f"{path.relative_to(PACKAGE)}: {sorted(hits)}" for path in _layer_files(layer)
             if (hits := _hits(_imported(path), FORBIDDEN[layer]))}  # fmt: skip
    assert not wrong, wrong


def test_the_spec_dataclasses_import_only_the_foundation():
    for name in SPEC_DATACLASSES:
        imported = _imported(PACKAGE / "spec" / f"{name}.py")
        assert all(module.split(".")[0] in ("errors", "backend", "spec") for module in imported), (name, imported)


def test_every_package_says_what_it_holds_and_what_it_may_import():
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and "import" in doc, f"{init.relative_to(PACKAGE)} has no docstring naming what it may import"


def test_the_layering_rule_catches_an_upward_import(tmp_path):
    upward = tmp_path / "bad.py"
    upward.write_text("def f():\n    from rnnbench.driver.experiment import run_experiment\n")
    assert _hits(_imported(upward), FORBIDDEN["engine"]) == {"driver.experiment", "driver.experiment.run_experiment"}


def _loaded_after(statement: str) -> set[str]:
    """The rnnbench modules (and Keras/JAX) that ``statement`` loads in a new interpreter."""
    script = (
        f"{statement}\nimport sys\n"
        "print(' '.join(m for m in sys.modules if m.startswith(('rnnbench', 'keras', 'jax', 'matplotlib'))))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_the_backend_module_loads_a_handful_of_modules_and_no_keras():
    loaded = _loaded_after("import rnnbench.backend")
    assert {name for name in loaded if name.startswith("rnnbench")} == {
        "rnnbench", "rnnbench.backend", "rnnbench.errors", "rnnbench.settings", "rnnbench.version",
    }  # fmt: skip
    assert not {name for name in loaded if name.startswith(("keras", "jax"))}


def test_the_specs_load_no_keras_and_no_layer_above_them():
    loaded = _loaded_after("import rnnbench.spec")
    assert not {name for name in loaded if name.startswith(("keras", "jax", "rnnbench.models", "rnnbench.data"))}


def test_the_package_root_is_lazy_and_still_exposes_the_api():
    assert _loaded_after("import rnnbench") == {"rnnbench", "rnnbench.version"}
    loaded = _loaded_after("import rnnbench; rnnbench.ExperimentSpec; rnnbench.compare")
    assert {"rnnbench.spec", "rnnbench.driver.experiment"} <= loaded
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
