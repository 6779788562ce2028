"""Experiment files (TOML): every list under [grid] is an axis of the grid, every other value is fixed.

    name = "classic-comparison"
    backend = "jax"
    protocol = "smnist"          # optional: a named long-sequence task (rnnbench protocols list) choosing the data
                                 # set, view, preset, epochs and batch size this file leaves out

    [grid]
    models = ["simplernn", "lstm", "gru"]
    datasets = ["mnist"]
    views = ["rows"]
    units = [64]                 # or: match_params = [20000]
    seeds = [0, 1, 2, 3, 4]      # or a count: seeds = 5
    presets = ["reference"]      # or [train] preset = "reference" ("seed" is its earlier name)

    [train]
    epochs = 10
    batch_size = 64
    val_fraction = 0.1
    learning_rate = 0.01         # optional: overrides the preset's
    test_each_epoch = false      # optional: a test-set learning curve (never used to pick the best epoch)

    [model]                      # optional
    layers = 1
    bidirectional = false
    dropout = 0.0
    head = "batchnorm"           # or "dense" ("seed" is the earlier name of "batchnorm")

    [model.options]              # optional: the cells' own settings (rnnbench models info NAME lists them)
    dt = 0.1                     # for every model of the grid that has a dt
    cornn.gamma = 3.0            # for one model

    [data]                       # optional
    limit_train = 1000
    limit_test = 500
    permutation_seed = 0
    image_size = [32, 32]
    color = "gray"

    [search]                     # optional: tune every model first (rnnbench tune), one search per data set, view
    trials = 20                  # and width of the grid; the grid's seeds and presets are then not used
    search_seed = 0
    pruner = "asha"
    final_seeds = 3

    [search.space]               # optional: dimensions to change from the default space (docs/tuning.md)
    optimizer = ["adam", "adamw"]

An unknown key or a value of the wrong type is an error naming the key and its line in the file. Values missing from
the file take the spec dataclasses' defaults (:func:`rnnbench.spec.builder.experiment_spec`).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from rnnbench.errors import RnnbenchError
from rnnbench.spec import ExperimentSpec
from rnnbench.spec.builder import experiment_spec
from rnnbench.spec.checks import read_text_file
from rnnbench.spec.protocols import PROTOCOLS
from rnnbench.spec.search import SearchOptions
from rnnbench.spec.search_space import space_from_mapping

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_INT = ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool))
_NUMBER = ("a number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))
_STRING = ("a string", lambda v: isinstance(v, str))


def _list_of(kind: tuple[str, Any]) -> tuple[str, Any]:
    name, check = kind
    return (f"a list of {name.split(' ', 1)[1]}s", lambda v: isinstance(v, list) and bool(v) and all(map(check, v)))


SCHEMA: dict[str, dict[str, tuple[str, Any]]] = {
    "": {"name": _STRING, "backend": _STRING, "protocol": _STRING},
    "grid": {
        "models": _list_of(_STRING),
        "datasets": _list_of(_STRING),
        "views": _list_of(_STRING),
        "units": _list_of(_INT),
        "match_params": _list_of(_INT),
        "seeds": ("a count or a list of integers", lambda v: _INT[1](v) or _list_of(_INT)[1](v)),
        "presets": _list_of(_STRING),
    },
    "train": {
        "preset": _STRING,
        "epochs": _INT,
        "batch_size": _INT,
        "val_fraction": _NUMBER,
        "learning_rate": _NUMBER,
        "test_each_epoch": ("true or false", lambda v: isinstance(v, bool)),
    },
    "model": {
        "layers": _INT,
        "bidirectional": ("true or false", lambda v: isinstance(v, bool)),
        "dropout": _NUMBER,
        "head": _STRING,
        "options": ("a table of option = value", lambda v: isinstance(v, dict)),
    },
    "search": {
        "trials": _INT,
        "search_seed": _INT,
        "pruner": _STRING,
        "final_seeds": _INT,
        "space": ("a table of dimensions", lambda v: isinstance(v, dict)),
    },
    "data": {
        "limit_train": _INT,
        "limit_test": _INT,
        "permutation_seed": _INT,
        "split_seed": _INT,
        "image_size": ("a list of two integers", lambda v: _list_of(_INT)[1](v) and len(v) == 2),
        "color": _STRING,
    },
}


def _line_of(text: str, table: str, key: str) -> int | None:
    """The line where ``key`` is set inside ``[table]`` ('' = top level), or where table ``key`` starts."""
    current = ""
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"\s*\[\s*([^\]]+?)\s*\]", line)
        if header:
            current = header.group(1)
            if table == "" and f"[{current}]" == key:
                return number
        elif current == table and re.match(rf"\s*{re.escape(key)}\s*=", line):
            return number
    return None


def load_experiment_file(path: Path, backend: str | None = None) -> tuple[ExperimentSpec, SearchOptions | None]:
    """The comparison an experiment file describes, and its search options if it has a ``[search]`` table; every
    problem is one :class:`RnnbenchError` naming the file (and line)."""
    text = read_text_file(path, "experiment file")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RnnbenchError(f"{path}: not valid TOML ({error})") from None

    def fail(table: str, key: str, problem: str) -> RnnbenchError:
        line = _line_of(text, table, key)
        where = f"{path}:{line}" if line else str(path)
        name = f"[{table}] {key}" if table else key
        return RnnbenchError(f"{where}: {name} {problem}")

    sections: dict[str, dict[str, Any]] = {"": {}}
    for key, value in document.items():
        if isinstance(value, dict):
            if key not in SCHEMA or key == "":
                known = ", ".join(f"[{t}]" for t in SCHEMA if t)
                raise fail("", f"[{key}]", f"is not a known table; known: {known}")
            sections[key] = value
        else:
            sections[""][key] = value
    for table, values in sections.items():
        for key, value in values.items():
            if key not in SCHEMA[table]:
                raise fail(table, key, f"is not a known key; known: {', '.join(SCHEMA[table])}")
            kind, check = SCHEMA[table][key]
            if not check(value):
                raise fail(table, key, f"must be {kind}, got {value!r}")
    top, grid, train = (sections.get(table, {}) for table in ("", "grid", "train"))
    if "protocol" in top and top["protocol"].strip().lower() not in PROTOCOLS:
        known = ", ".join(sorted(PROTOCOLS))
        raise fail("", "protocol", f"'{top['protocol']}' is not a known protocol; known: {known}")
    if "preset" in train and "presets" in grid:
        raise fail("train", "preset", "and [grid] presets both given; keep one")
    if "units" in grid and "match_params" in grid:
        raise fail("grid", "match_params", "and [grid] units both given; keep one")
    settings = {**document, "name": top.get("name", path.stem)}
    if backend is not None:
        settings["backend"] = backend
    try:
        spec = experiment_spec(settings)
    except RnnbenchError as error:
        raise RnnbenchError(f"{path}: {error}") from None

    def where(key: str) -> str:
        line = _line_of(text, "search.space", key) or _line_of(text, "search", "space")
        return f"{path}:{line}: " if line else f"{path}: "

    options = _search_options(sections.get("search"), where, fail)
    if "grid" not in sections:  # an empty file, or one of settings alone, would train the default MNIST grid
        raise RnnbenchError(f"{path}: the experiment has no [grid] table; an experiment file names at least what to "
                            "compare, e.g. [grid] models = [\"lstm\", \"gru\"] (see docs/experiments.md)")  # fmt: skip
    return spec, options


def _search_options(values: dict[str, Any] | None, where: Any, fail: Any) -> SearchOptions | None:
    """The ``[search]`` table: what it leaves out keeps :class:`SearchOptions`' defaults."""
    if values is None:
        return None
    given = {key: value for key, value in values.items() if key != "space"}
    space = space_from_mapping(values.get("space", {}), where)
    try:
        return SearchOptions(**given, space=space)
    except RnnbenchError as error:
        key = next((key for key in values if key in str(error).replace("-", "_")), "trials")
        raise fail("search", key, f"is not accepted: {error}") from None
