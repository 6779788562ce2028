"""Which network a run trains: the registered cell, its width, depth and head."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rnnbench.errors import RnnbenchError
from rnnbench.spec.checks import require_positive

HEADS = ("batchnorm", "dense")
# Deeper stacks are refused at once (building one to count its weights would take minutes), not after an hour.
MAX_LAYERS = 100
# Earlier spelling, still accepted: "seed" named both the reference recipe and the random seed.
HEAD_ALIASES = {"seed": "batchnorm"}


@dataclass(frozen=True)
class ModelSpec:
    """A registered recurrent cell of ``units`` units, ``layers`` deep, optionally bidirectional, then a head.

    ``dropout`` is applied to the output of every recurrent layer; head ``batchnorm`` is the reference experiment's
    BatchNormalization + Dense logits (``seed`` is its earlier name), ``dense`` a Dense layer alone.
    ``param_budget`` records the parameter count that ``units`` was matched to (``--match-params``), if any.
    ``options`` are the cell's own settings that differ from their defaults (coRNN's ``dt``, ...) as sorted
    ``(name, value)`` pairs; the model registry checks them (:meth:`rnnbench.models.ModelInfo.resolve_options`).
    """

    name: str = "lstm"
    units: int = 64
    layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0
    head: str = "batchnorm"
    param_budget: int | None = None
    options: tuple[tuple[str, float | int | bool], ...] = ()

    def __post_init__(self) -> None:
        require_positive("units", self.units)
        require_positive("layers", self.layers)
        if self.layers > MAX_LAYERS:
            raise RnnbenchError(f"layers must be at most {MAX_LAYERS}, got {self.layers:,}; a deeper stack of "
                                "recurrent layers does not train")  # fmt: skip
        if not 0.0 <= self.dropout < 1.0:
            raise RnnbenchError(f"dropout must be in [0, 1), got {self.dropout}")
        object.__setattr__(self, "head", HEAD_ALIASES.get(self.head, self.head))
        if self.head not in HEADS:
            raise RnnbenchError(f"unknown head '{self.head}'; known: {', '.join(HEADS)}")
        object.__setattr__(self, "options", tuple(sorted((str(k), v) for k, v in self.options)))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> ModelSpec:
        """The inverse of ``dataclasses.asdict``, also after JSON (which stores the options as lists); a run's stored
        spec leaves out options when there are none."""
        values = dict(values)
        values["options"] = tuple(tuple(pair) for pair in values.get("options", ()))
        return cls(**values)

    def option(self, name: str) -> float | int | bool | None:
        return dict(self.options).get(name)
