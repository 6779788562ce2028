"""What a search may vary: the training recipe, never the architecture or its size (those are what is compared).

A space is a set of dimensions, each fixed to one value, a list of choices, or a range (``log`` for a log-uniform one).
The default is the space of the issue that introduced searching; a TOML file replaces any of its dimensions::

    # every key is optional; a key left out keeps the default dimension
    optimizer = ["adam", "adamw", "sgd"]      # choices (sgd: with Nesterov momentum 0.9)
    learning_rate = { low = 1e-4, high = 3e-2, log = true }
    batch_size = [32, 64, 128, 256]
    weight_decay = { low = 1e-6, high = 1e-2, log = true }   # sampled only with adamw
    clipnorm = [0.0, 1.0]                     # 0: no clipping; else the global gradient norm
    schedule = ["constant", "cosine"]         # cosine: a one-epoch linear warm-up, then cosine decay
    label_smoothing = { low = 0.0, high = 0.1 }

A bad file is one :class:`RnnbenchError` naming the file, the line and the key.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnbench.errors import RnnbenchError
from rnnbench.spec.checks import MAX_BATCH_SIZE, MAX_CLIPNORM, MAX_LEARNING_RATE, read_text_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

Value = str | int | float

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True)
class Dimension:
    """One hyperparameter: ``choices`` (a fixed value is one choice), or a range ``low`` to ``high``."""

    name: str
    choices: tuple[Value, ...] = ()
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False

    @property
    def fixed(self) -> bool:
        return len(self.choices) == 1

    def describe(self) -> str:
        if self.choices:
            return " | ".join(map(str, self.choices))
        return f"{self.low:g} to {self.high:g}{' (log)' if self.log else ''}"


# What each dimension may hold: (kind for messages, check of one value).
# Numbers are finite and inside these ranges: a learning rate of 1e300 trains nothing, it only diverges.
_KINDS: dict[str, tuple[str, Any]] = {
    "optimizer": (f"one of {', '.join(OPTIMIZERS)}", lambda v: v in OPTIMIZERS),
    "learning_rate": (
        f"a number above 0 and at most {MAX_LEARNING_RATE:g}",
        lambda v: _number(v) and 0 < v <= MAX_LEARNING_RATE,
    ),
    "batch_size": (
        f"an integer from 1 to {MAX_BATCH_SIZE:,}",
        lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 < v <= MAX_BATCH_SIZE,
    ),
    "weight_decay": ("a number from 0 to 1", lambda v: _number(v) and 0 <= v <= 1),
    "clipnorm": (f"a number from 0 (no clipping) to {MAX_CLIPNORM:g}", lambda v: _number(v) and 0 <= v <= MAX_CLIPNORM),
    "schedule": (f"one of {', '.join(SCHEDULES)}", lambda v: v in SCHEDULES),
    "label_smoothing": ("a number from 0 to below 1", lambda v: _number(v) and 0 <= v < 1),
}
RANGED = ("learning_rate", "weight_decay", "label_smoothing")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


DEFAULT_DIMENSIONS = (
    Dimension("optimizer", choices=OPTIMIZERS),
    Dimension("learning_rate", low=1e-4, high=3e-2, log=True),
    Dimension("batch_size", choices=(32, 64, 128, 256)),
    Dimension("weight_decay", low=1e-6, high=1e-2, log=True),
    Dimension("clipnorm", choices=(0.0, 1.0)),
    Dimension("schedule", choices=SCHEDULES),
    Dimension("label_smoothing", low=0.0, high=0.1),
)


@dataclass(frozen=True)
class SearchSpace:
    """The dimensions of a search, in a fixed order (the order in which trials sample them)."""

    dimensions: tuple[Dimension, ...] = DEFAULT_DIMENSIONS

    def dimension(self, name: str) -> Dimension:
        return next(dimension for dimension in self.dimensions if dimension.name == name)

    def to_dict(self) -> dict[str, Any]:
        """A plain form, part of a search's identity (a changed space is another search)."""
        return {d.name: list(d.choices) if d.choices else {"low": d.low, "high": d.high, "log": d.log}
                for d in self.dimensions}  # fmt: skip

    def describe(self) -> str:
        return "; ".join(f"{dimension.name} {dimension.describe()}" for dimension in self.dimensions)


DEFAULT_SPACE = SearchSpace()


def load_space(path: Path) -> SearchSpace:
    """The default space with the dimensions ``path`` (TOML) sets replaced; errors name the file, line and key."""
    text = read_text_file(path, "search space")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RnnbenchError(f"{path}: not valid TOML ({error})") from None
    return space_from_mapping(document, lambda key: _where(path, text, key))


def space_from_mapping(values: Mapping[str, Any], where: Any = lambda key: "") -> SearchSpace:
    """The default space with the dimensions of ``values`` replaced (an experiment file's ``[search.space]``)."""
    given: dict[str, Dimension] = {}
    for name, value in values.items():
        location = where(name)
        if name not in _KINDS:
            raise RnnbenchError(f"{location}{name} is not a dimension of the search space; known: {', '.join(_KINDS)}")
        given[name] = _dimension(name, value, location)
    return SearchSpace(tuple(given.get(d.name, d) for d in DEFAULT_DIMENSIONS))


def _dimension(name: str, value: Any, location: str) -> Dimension:
    kind, check = _KINDS[name]
    if isinstance(value, list):
        if not value:
            raise RnnbenchError(f"{location}{name} has no choices; give at least one")
        for choice in value:
            if not check(choice):
                raise RnnbenchError(f"{location}{name}: choice {choice!r} is not {kind}")
        if len(set(value)) != len(value):
            raise RnnbenchError(f"{location}{name} names a choice twice")
        return Dimension(name, choices=tuple(value))
    if isinstance(value, dict):
        if name not in RANGED:
            raise RnnbenchError(f"{location}{name} takes a list of choices or one value, not a range")
        unknown = set(value) - {"low", "high", "log"}
        if unknown or "low" not in value or "high" not in value:
            raise RnnbenchError(f"{location}{name} must be {{ low = ..., high = ..., log = true|false }}")
        low, high, log = value["low"], value["high"], value.get("log", False)
        for bound in (low, high):
            if not check(bound):
                raise RnnbenchError(f"{location}{name}: bound {bound!r} is not {kind}")
        if not isinstance(log, bool):
            raise RnnbenchError(f"{location}{name}: log must be true or false, not {log!r}")
        if not low < high:
            raise RnnbenchError(f"{location}{name}: the range {low:g} to {high:g} is empty; give low below high")
        if log and low <= 0:
            raise RnnbenchError(f"{location}{name}: a log range needs bounds above 0, not {low:g}")
        return Dimension(name, low=float(low), high=float(high), log=log)
    if not check(value):
        forms = "a list of such choices or a range" if name in RANGED else "or a list of such choices"
        raise RnnbenchError(f"{location}{name} must be {kind}, {forms}; got {value!r}")
    return Dimension(name, choices=(value,))


def _where(path: Path, text: str, key: str) -> str:
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"\s*(\[\s*)?{re.escape(key)}\s*[=\]]", line):
            return f"{path}:{number}: "
    return f"{path}: "
