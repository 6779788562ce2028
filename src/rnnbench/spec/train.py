"""How a run trains: the named recipes (presets) and the training spec."""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from rnnbench.errors import RnnbenchError
from rnnbench.spec.checks import MAX_BATCH_SIZE, MAX_EPOCHS, MAX_LEARNING_RATE, require_in_range, require_positive

# Earlier spelling, still accepted: "seed" named both the reference recipe and the random seed.
PRESET_ALIASES = {"seed": "reference"}


@dataclass(frozen=True)
class Preset:
    """A named training recipe: optimizer, peak learning rate, schedule, clipping, weight decay."""

    optimizer: str
    learning_rate: float
    description: str
    schedule: str = "constant"
    warmup_epochs: float = 0.0
    clipnorm: float | None = None
    weight_decay: float = 0.0
    model_learning_rates: tuple[tuple[str, float], ...] = ()
    # SGD's momentum (Nesterov's with ``nesterov``) and the loss's label smoothing; recipes chosen by a search use them.
    momentum: float = 0.0
    nesterov: bool = False
    label_smoothing: float = 0.0

    def learning_rate_for(self, model: str) -> float:
        """The peak learning rate for ``model``: its own where the recipe names one, else the recipe's."""
        return dict(self.model_learning_rates).get(model, self.learning_rate)

    def __post_init__(self) -> None:
        if self.optimizer not in ("sgd", "adam", "adamw"):
            raise ValueError(f"optimizer must be sgd, adam or adamw, got {self.optimizer}")
        if self.schedule not in ("constant", "cosine"):
            raise ValueError(f"schedule must be constant or cosine, got {self.schedule}")

    def to_dict(self) -> dict[str, Any]:
        """The recipe as stored with a run; fields added since runs were first stored are left out at their
        defaults, so those runs keep their keys."""
        values = dataclasses.asdict(self)
        for name in ("momentum", "nesterov", "label_smoothing"):
            if values[name] == getattr(Preset, name):
                del values[name]
        return values

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Preset:
        """The inverse of :meth:`to_dict`, also after JSON (which stores the learning rates by model as lists)."""
        values = dict(values)
        values["model_learning_rates"] = tuple(tuple(pair) for pair in values.get("model_learning_rates", ()))
        return cls(**values)


# The preset name of a recipe chosen by a search (TrainSpec.custom holds it).
SEARCHED = "searched"


PRESETS: dict[str, Preset] = {
    "reference": Preset("sgd", 0.01, "the reference experiment: plain SGD, learning rate 0.01"),
    # Chosen on Fashion-MNIST validation accuracy (seed 0, 10 epochs, 64 units); figures in benchmarks/README.md.
    # The gated cells train best at a peak of 1e-2, the simple RNN diverges there and does best at 1e-3.
    "tuned": Preset(
        "adam",
        1e-2,
        "Adam, cosine decay after a one-epoch linear warm-up, global gradient-norm clipping at 1.0; "
        "peak learning rate 1e-2 (simplernn 1e-3)",
        schedule="cosine",
        warmup_epochs=1.0,
        clipnorm=1.0,
        model_learning_rates=(("simplernn", 1e-3),),
    ),
    # For sequences of 784 steps and more (the long-sequence protocols, docs/long-sequences.md). The authors' scripts
    # for these tasks train with Adam at 1.8e-3 to 7.3e-3 (coRNN, LEM) and clip the global gradient norm at about 1
    # (LEM); one rate serves every cell here, so it sits at the low end of that range. The warm-up spares the first
    # updates, taken while the states of a long sequence are still far from trained, the full rate; cosine decay
    # stands in for the papers' tenfold drop near the end of training.
    "long": Preset(
        "adam",
        2e-3,
        "for long sequences: Adam, cosine decay after a one-epoch linear warm-up, global gradient-norm clipping at "
        "1.0; peak learning rate 2e-3",
        schedule="cosine",
        warmup_epochs=1.0,
        clipnorm=1.0,
    ),
}


@dataclass(frozen=True)
class TrainSpec:
    """How to train: the preset's optimizer and learning rate, batch size, epochs (preset ``seed`` is the earlier
    name of ``reference``)."""

    preset: str = "reference"
    batch_size: int = 64
    epochs: int = 10
    learning_rate_override: float | None = None
    # Also evaluate the test set after every epoch (a learning curve, as the reference experiment shows); the best
    # epoch is still chosen on validation alone.
    test_each_epoch: bool = False
    # A recipe chosen by a search (preset SEARCHED), and the search that chose it: its runs form one comparison panel.
    custom: Preset | None = None
    search: str | None = None
    # A search's trial: train only up to ``stop_epoch`` (continued later from its checkpoint) and never evaluate the
    # test set.
    stop_epoch: int | None = None
    validation_only: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "preset", PRESET_ALIASES.get(self.preset, self.preset))
        if self.custom is not None and self.preset != SEARCHED:
            raise RnnbenchError(f"a recipe of its own goes with preset '{SEARCHED}', not '{self.preset}'")
        if self.preset not in PRESETS and not (self.preset == SEARCHED and self.custom is not None):
            raise RnnbenchError(f"unknown preset '{self.preset}'; known: {', '.join(sorted(PRESETS))}")
        require_positive("epochs", self.epochs)
        require_positive("batch_size", self.batch_size)
        if self.epochs > MAX_EPOCHS:
            raise RnnbenchError(f"epochs must be at most {MAX_EPOCHS:,}, got {self.epochs:,}")
        if self.batch_size > MAX_BATCH_SIZE:
            raise RnnbenchError(f"batch_size must be at most {MAX_BATCH_SIZE:,}, got {self.batch_size:,}")
        require_in_range("learning rate", self.learning_rate_override, 0.0, MAX_LEARNING_RATE, low_open=True)
        if self.learning_rate_override is not None:  # a whole number from a file is a float to the optimizer
            object.__setattr__(self, "learning_rate_override", float(self.learning_rate_override))
        if self.stop_epoch is not None and not 1 <= self.stop_epoch < self.epochs:
            raise ValueError(f"stop_epoch must be from 1 to below epochs ({self.epochs}), got {self.stop_epoch}")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> TrainSpec:
        """The inverse of ``dataclasses.asdict``, also after JSON; a run's stored spec leaves out the fields added since
        runs were first stored while they are at their defaults."""
        values = dict(values)
        if values.get("custom") is not None:
            values["custom"] = Preset.from_dict(values["custom"])
        return cls(**values)

    @property
    def recipe(self) -> Preset:
        return self.custom if self.custom is not None else PRESETS[self.preset]

    @property
    def last_epoch(self) -> int:
        """The epoch this run trains up to: ``stop_epoch`` for a search's trial stopped early, else ``epochs``."""
        return self.stop_epoch or self.epochs

    def panel_key(self) -> Hashable:
        """What the runs of one comparison panel share: the whole spec, except that the models tuned by one search
        share a panel whatever recipe it chose for each."""
        return self if self.search is None else (SEARCHED, self.search, self.epochs, self.validation_only)

    @property
    def optimizer(self) -> str:
        return self.recipe.optimizer

    @property
    def learning_rate(self) -> float:
        """The peak learning rate: the override if given, else the preset's."""
        return self.learning_rate_override or self.recipe.learning_rate

    def learning_rate_for(self, model: str) -> float:
        """The peak learning rate of ``model`` under this spec: the override if given, else the recipe's."""
        return self.learning_rate_override or self.recipe.learning_rate_for(model)
