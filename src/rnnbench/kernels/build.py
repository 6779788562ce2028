"""Compiling the kernels on first use and registering their handlers with JAX.

The sources, one per cell family, all including common.h, are compiled as one translation unit (a unit that includes
each of them, read from standard input: the FFI headers are then parsed once, not once per source, which more than
halves the build) into one library, with the machine's C++ compiler against the FFI headers that ship with jaxlib,
for the CPU it runs on (``-march=native``), and kept in a cache keyed by everything that affects the binary. Without
a compiler, or if the build fails, the fast layers fall back to Keras' own; :func:`kernel_status` says why.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rnnbench.errors import RnnbenchError
from rnnbench.settings import read_settings

DIRECTORY = Path(__file__).parent
# One source per cell family, and the header they all include (the cache key hashes them all, sorted by name).
SOURCES = tuple(
    DIRECTORY / name
    for name in ("classic.cc", "indrnn.cc", "linear_scan.cc", "lru.cc", "oscillators.cc", "selective_scan.cc")
)
HEADERS = (DIRECTORY / "common.h",)
HANDLERS = (
    "RnnbenchRnnForward",
    "RnnbenchRnnBackward",
    "RnnbenchLstmForward",
    "RnnbenchLstmBackward",
    "RnnbenchGruForward",
    "RnnbenchGruBackward",
    "RnnbenchLinearScanForward",
    "RnnbenchLinearScanBackward",
    "RnnbenchMinGruForward",
    "RnnbenchMinGruBackward",
    "RnnbenchMinLstmForward",
    "RnnbenchMinLstmBackward",
    "RnnbenchIndRnnForward",
    "RnnbenchIndRnnBackward",
    "RnnbenchLruScanForward",
    "RnnbenchLruScanBackward",
    "RnnbenchCoRnnForward",
    "RnnbenchCoRnnBackward",
    "RnnbenchLemForward",
    "RnnbenchLemBackward",
    "RnnbenchSelectiveScanForward",
    "RnnbenchSelectiveScanBackward",
    "RnnbenchCausalConvForward",
    "RnnbenchCausalConvBackward",
)
FLAGS = ("-O3", "-march=native", "-std=c++17", "-shared", "-fPIC", "-w")


@dataclass(frozen=True)
class KernelStatus:
    available: bool
    reason: str  # why the kernels are not available, or where the library lies


DEFAULT_COMPILERS = ("c++", "g++", "clang++")


def check_named_compiler() -> None:
    """A compiler named in ``CXX`` is used or refused, never replaced by another one without a word."""
    named = read_settings().compiler
    if named and fast_layers_enabled() and shutil.which(named) is None:
        raise RnnbenchError(f"CXX={named} names no compiler on this machine; give the path of a C++ compiler, or unset "
                            "CXX to use c++, g++ or clang++")  # fmt: skip


def kernel_cache_dir() -> Path:
    """``$RNNBENCH_KERNEL_CACHE``, else ``$XDG_CACHE_HOME/rnnbench/kernels`` or ``~/.cache/rnnbench/kernels``."""
    return read_settings().kernel_cache


def fast_layers_enabled() -> bool:
    """``RNNBENCH_FAST_LAYERS=0`` makes every layer take Keras' own path (for comparisons and debugging)."""
    return read_settings().fast_layers


@functools.cache
def kernel_status() -> KernelStatus:
    """Build (or find in the cache), load and register the kernels once per process."""
    if not fast_layers_enabled():
        return KernelStatus(False, "disabled by RNNBENCH_FAST_LAYERS")
    named = read_settings().compiler
    compiler = shutil.which(named) if named else next(filter(None, map(shutil.which, DEFAULT_COMPILERS)), None)
    if compiler is None:
        return KernelStatus(False, f"CXX={named}: no such compiler" if named else "no C++ compiler found (set CXX "
                            "or install g++)")  # fmt: skip
    import jax

    include = jax.ffi.include_dir()
    key = _cache_key(compiler, include)
    library = kernel_cache_dir() / key / "librecurrent.so"
    if not library.exists():
        failure = _compile(compiler, include, library)
        if failure:
            return KernelStatus(False, failure)
    try:
        handle = ctypes.cdll.LoadLibrary(str(library))
        for name in HANDLERS:
            jax.ffi.register_ffi_target(name, jax.ffi.pycapsule(getattr(handle, name)), platform="cpu")
    except (OSError, AttributeError) as error:
        return KernelStatus(False, f"could not load {library}: {error}")
    return KernelStatus(True, str(library))


def _cache_key(compiler: str, include: str) -> str:
    """Everything the binary depends on: sources, compiler, flags, FFI headers' version, processor."""
    import jax

    version = subprocess.run([compiler, "--version"], capture_output=True, text=True, check=False).stdout
    digest = hashlib.sha256()
    for part in (*_source_parts(), version.encode(), " ".join(FLAGS).encode(), jax.__version__.encode(),
                 include.encode(), platform.machine().encode(), _cpu_flags().encode()):  # fmt: skip
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _source_parts() -> list[bytes]:
    """Each source and header, name then contents, in sorted order: a renamed or moved definition changes the key."""
    parts = []
    for path in sorted(SOURCES + HEADERS):
        parts += [path.name.encode(), path.read_bytes()]
    return parts


def _cpu_flags() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return line
    except OSError:
        pass
    return platform.processor()


def _compile(compiler: str, include: str, library: Path) -> str | None:
    """Compile into a temporary file and rename it into place, so concurrent workers never load a half-written one."""
    library.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(suffix=".so", dir=library.parent)
    os.close(descriptor)
    command = [compiler, *FLAGS, f"-I{include}", "-x", "c++", "-", "-o", temporary]
    unit = "".join(f'#include "{source}"\n' for source in SOURCES)
    try:
        result = subprocess.run(command, input=unit, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            first = next((line for line in result.stderr.splitlines() if "error" in line), result.stderr.strip())
            return f"compiling the kernels failed: {first[:300]}"
        os.replace(temporary, library)
        return None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
