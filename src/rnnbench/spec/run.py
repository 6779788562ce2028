"""One training run, complete: its spec and the stable key it is stored under."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rnnbench.backend import BACKENDS, DEFAULT_BACKEND
from rnnbench.errors import RnnbenchError
from rnnbench.spec.data import DataSpec
from rnnbench.spec.model import HEAD_ALIASES, ModelSpec
from rnnbench.spec.train import PRESET_ALIASES, TrainSpec

# Seeds seed NumPy's generators, which take 32-bit unsigned integers; a count above MAX_SEED_COUNT is a typo, not a
# study.
SEED_LIMIT = 2**32
MAX_SEED_COUNT = 100_000


@dataclass(frozen=True)
class RunSpec:
    """One training run, complete: what a stored result can be reproduced from."""

    data: DataSpec
    model: ModelSpec
    train: TrainSpec
    seed: int = 0
    backend: str = DEFAULT_BACKEND

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise RnnbenchError(f"unknown backend '{self.backend}'; known: {', '.join(BACKENDS)}")
        if not 0 <= self.seed < SEED_LIMIT:
            raise RnnbenchError(f"seed {self.seed} is out of range; seeds are integers from 0 to {SEED_LIMIT - 1}")

    def to_dict(self) -> dict[str, Any]:
        """The spec, with the preset's recipe written out: a changed recipe is a different run."""
        values = dataclasses.asdict(self)
        values["train"]["recipe"] = self.train.recipe.to_dict()
        # Keys of runs stored before these fields existed stay the same: a field at its old meaning is left out.
        for name in ("test_each_epoch", "custom", "search", "stop_epoch", "validation_only"):
            if not values["train"][name]:
                del values["train"][name]
        if self.train.custom is not None:
            values["train"]["custom"] = self.train.custom.to_dict()
        if not self.model.options:
            del values["model"]["options"]
        return values

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> RunSpec:
        """The inverse of :meth:`to_dict`, also after JSON (which turns tuples into lists)."""
        # The recipe is written out only so that a changed recipe changes the key; the preset or custom names it.
        train = {key: value for key, value in values["train"].items() if key != "recipe"}
        return cls(
            data=DataSpec.from_dict(values["data"]),
            model=ModelSpec.from_dict(values["model"]),
            train=TrainSpec.from_dict(train),
            seed=values["seed"],
            backend=values["backend"],
        )

    def checkpoint_key(self) -> str:
        """The key of the run's checkpoint: a trial stopped at one epoch and continued to a later one is one training,
        so its stop epoch is not part of it."""
        return dataclasses.replace(self, train=dataclasses.replace(self.train, stop_epoch=None)).key()

    def key(self) -> str:
        """A stable hash of the complete spec: equal specs, equal keys, on every machine.

        Renamed values are hashed under their earlier spelling, so the keys of runs already stored stay the same.
        """
        values = self.to_dict()
        values["train"]["preset"] = _earlier_spelling(PRESET_ALIASES, values["train"]["preset"])
        values["model"]["head"] = _earlier_spelling(HEAD_ALIASES, values["model"]["head"])
        canonical = json.dumps(values, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _earlier_spelling(aliases: dict[str, str], name: str) -> str:
    return next((earlier for earlier, current in aliases.items() if current == name), name)


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"3"`` means seeds 0, 1, 2; ``"0,3,7"`` (or ``"7,"`` for seed 7 alone) is an explicit list."""
    text = text.strip()
    try:
        if "," not in text:
            count = int(text)
            if count < 1:
                raise RnnbenchError(
                    f"--seeds {text}: a count must be at least 1 (to train seed 0 alone write --seeds 1)"
                )
            if count > MAX_SEED_COUNT:
                raise RnnbenchError(f"--seeds {text}: at most {MAX_SEED_COUNT:,} seeds; give a smaller count")
            return tuple(range(count))
        seeds = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise RnnbenchError(
            f"--seeds '{text}' is not a count or a list; write e.g. --seeds 3 (seeds 0-2) or --seeds 0,3,7"
        ) from None
    if not seeds or min(seeds) < 0 or max(seeds) >= SEED_LIMIT:
        raise RnnbenchError(f"--seeds '{text}': seeds are integers from 0 to {SEED_LIMIT - 1}, e.g. --seeds 0,3,7")
    return seeds
