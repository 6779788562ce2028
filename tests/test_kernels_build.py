"""Building the recurrence kernels: once per machine into a cache, and a clear fallback when that is impossible."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rnnbench.errors import RnnbenchError
from rnnbench.kernels.build import check_named_compiler, kernel_cache_dir, kernel_status

PROBE = """
import json
from rnnbench.backend import select_backend
select_backend("jax")
import numpy as np
from rnnbench.spec import ModelSpec
from rnnbench.models.builder import build_model
from rnnbench.models.fast import fast_path_reason
model = build_model(ModelSpec(name="lstm", units=4), 3, 2, 2)
layer = model.get_layer("recurrent")
outputs = model.predict(np.zeros((5, 3, 2), "float32"), verbose=0)
print(json.dumps({"reason": fast_path_reason(layer), "shape": list(outputs.shape)}))
"""


def probe(env: dict[str, str]) -> dict[str, object]:
    """Build an LSTM in a fresh process (the kernels load once per process) and say which path it takes."""
    result = subprocess.run([sys.executable, "-c", PROBE], env={**os.environ, **env}, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_library_is_built_once_into_the_cache():
    if shutil.which(os.environ.get("CXX", "c++")) is None and shutil.which("g++") is None:
        pytest.skip("no C++ compiler on this machine: the fast layers fall back to Keras' own")
    status = kernel_status()
    assert status.available, status.reason
    library = Path(status.reason)
    assert library.is_file() and library.is_relative_to(kernel_cache_dir())
    built = library.stat().st_mtime_ns
    assert probe({})["reason"] is None  # another process finds it in the cache ...
    assert library.stat().st_mtime_ns == built  # ... and does not build it again


def test_a_failing_compiler_leaves_keras_own_path(tmp_path: Path):
    compiler = tmp_path / "broken-c++"
    compiler.write_text("#!/bin/sh\necho 'classic.cc:1: error: this compiler is broken' >&2\nexit 1\n")
    compiler.chmod(0o755)
    outcome = probe({"CXX": str(compiler), "RNNBENCH_KERNEL_CACHE": str(tmp_path / "cache")})
    assert outcome == {
        "reason": "compiling the kernels failed: classic.cc:1: error: this compiler is broken",
        "shape": [5, 2],
    }
    assert not list((tmp_path / "cache").rglob("*.so"))  # no half-written library left behind


def test_fast_layers_can_be_turned_off():
    assert probe({"RNNBENCH_FAST_LAYERS": "0"})["reason"] == "disabled by RNNBENCH_FAST_LAYERS"


@pytest.mark.parametrize("march", ["x86-64", "x86-64-v3", "x86-64-v4"])  # no SIMD path, AVX2, AVX-512
def test_the_sources_compile_for_each_instruction_set_they_have_a_path_for(march):
    """The library is built with -march=native, so a machine only ever compiles its own path; this compiles the
    others too (without running them), so that none of them breaks unnoticed."""
    import platform

    import jax

    from rnnbench.kernels.build import SOURCES

    compiler = shutil.which(os.environ.get("CXX", "c++")) or shutil.which("g++")
    if compiler is None or platform.machine() not in {"x86_64", "AMD64"}:
        pytest.skip("needs a C++ compiler for x86-64")
    command = [compiler, "-fsyntax-only", f"-march={march}", "-std=c++17", f"-I{jax.ffi.include_dir()}"]
    result = subprocess.run([*command, *map(str, SOURCES)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


def test_every_source_in_the_kernels_folder_is_compiled():
    from rnnbench.kernels import build

    folder = Path(build.__file__).parent
    assert sorted(build.SOURCES) == sorted(folder.glob("*.cc"))
    assert sorted(build.HEADERS) == sorted(folder.glob("*.h"))


def test_the_cache_key_covers_every_source_and_the_header(tmp_path: Path, monkeypatch):
    """A change to any one file, the shared header included, builds a new library instead of loading a stale one."""
    from rnnbench.kernels import build

    copies = {path: tmp_path / path.name for path in build.SOURCES + build.HEADERS}
    for path, copy in copies.items():
        shutil.copyfile(path, copy)
    monkeypatch.setattr(build, "SOURCES", tuple(copies[path] for path in build.SOURCES))
    monkeypatch.setattr(build, "HEADERS", tuple(copies[path] for path in build.HEADERS))
    keys = {build._cache_key(sys.executable, "include")}  # any program that answers --version will do
    for copy in (build.HEADERS[0], build.SOURCES[0], build.SOURCES[-1]):
        copy.write_text(copy.read_text() + "\n")
        keys.add(build._cache_key(sys.executable, "include"))
    assert len(keys) == 4


def test_a_compiler_named_in_cxx_is_used_or_refused(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("CXX", str(tmp_path / "nonexistent-cc"))
    with pytest.raises(RnnbenchError, match=r"CXX=.*nonexistent-cc names no compiler on this machine"):
        check_named_compiler()
    outcome = probe({"CXX": str(tmp_path / "nonexistent-cc")})
    assert outcome["reason"] == f"CXX={tmp_path / 'nonexistent-cc'}: no such compiler"
    monkeypatch.setenv("RNNBENCH_FAST_LAYERS", "0")  # no kernel is built, so no compiler is needed
    check_named_compiler()
