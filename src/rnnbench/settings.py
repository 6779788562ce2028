"""Settings from the environment: read here and nowhere else, parsed one way, and passed down as parameters.

| variable | meaning | default |
|---|---|---|
| ``RNNBENCH_DATA`` | where data sets are cached | ``$XDG_CACHE_HOME/rnnbench`` or ``~/.cache/rnnbench`` |
| ``RNNBENCH_OFFLINE`` | never touch the network | off |
| ``RNNBENCH_JAX_CACHE`` | compiled XLA programs (``off`` disables) | ``<cache>/rnnbench/jax`` |
| ``RNNBENCH_KERNEL_CACHE`` | compiled recurrence kernels | ``<cache>/rnnbench/kernels`` |
| ``RNNBENCH_FAST_LAYERS`` | use the compiled recurrence kernels on JAX | on |
| ``CXX`` | the C++ compiler for the kernels (one named must exist) | ``c++``, else ``g++`` or ``clang++`` |
| ``CI`` | a CI log: no live displays | off |
| ``COLUMNS`` | terminal width for tables in a pipe | unset: 200 |

A switch is on for 1, true, yes or on and off for 0, false, no or off (any case); empty or unset means its default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rnnbench.errors import RnnbenchError

_ON = {"1", "true", "yes", "on"}
_OFF = {"0", "false", "no", "off"}


def switch(name: str, text: str | None, default: bool) -> bool:
    """The value of an on/off variable; anything but the words above is an error naming the variable."""
    value = (text or "").strip().lower()
    if not value:
        return default
    if value in _ON:
        return True
    if value in _OFF:
        return False
    raise RnnbenchError(f"{name}={text!r} is not on or off; write 1/true/yes/on or 0/false/no/off")


def _path(text: str | None) -> Path | None:
    text = (text or "").strip()
    return Path(text).expanduser() if text else None


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    offline: bool
    jax_cache: Path | None
    kernel_cache: Path
    fast_layers: bool
    compiler: str | None  # the one CXX names; None: the first of c++, g++, clang++ found
    ci: bool
    columns: int | None


def read_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings that ``environ`` (default: this process's environment) gives."""
    env = os.environ if environ is None else environ
    cache = (_path(env.get("XDG_CACHE_HOME")) or Path.home() / ".cache") / "rnnbench"
    jax_text = env.get("RNNBENCH_JAX_CACHE", "")
    jax_off = jax_text.strip().lower() in _OFF
    columns = env.get("COLUMNS", "").strip()
    return Settings(
        data_dir=_path(env.get("RNNBENCH_DATA")) or cache,
        offline=switch("RNNBENCH_OFFLINE", env.get("RNNBENCH_OFFLINE"), False),
        jax_cache=None if jax_off else _path(jax_text) or cache / "jax",
        kernel_cache=_path(env.get("RNNBENCH_KERNEL_CACHE")) or cache / "kernels",
        fast_layers=switch("RNNBENCH_FAST_LAYERS", env.get("RNNBENCH_FAST_LAYERS"), True),
        compiler=env.get("CXX", "").strip() or None,
        # CI systems set CI to words of their own; only a plain "on" value counts.
        ci=env.get("CI", "").strip().lower() in _ON,
        columns=int(columns) if columns.isascii() and columns.isdigit() and int(columns) > 0 else None,
    )
