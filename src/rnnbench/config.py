"""Typed, frozen descriptions of what to train: one dataclass per component.

A :class:`RunSpec` describes one training run completely; its :meth:`RunSpec.key` is a stable hash of that
description. An :class:`ExperimentSpec` is a grid of run specs (models x seeds) over one data set and protocol.
Every spec validates itself on construction, so the library and the CLI reject the same bad values.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnbench.backend import BACKENDS, DEFAULT_BACKEND
from rnnbench.errors import RnnbenchError

# Where results go unless the user says otherwise.
DEFAULT_STORE = Path("rnnbench.db")
DEFAULT_REPORT_DIR = Path("rnnbench-report")


# Seeds seed NumPy's generators, which take 32-bit unsigned integers; a count above MAX_SEED_COUNT is a typo, not a
# study.
SEED_LIMIT = 2**32
MAX_SEED_COUNT = 100_000


def _require_positive(name: str, value: int | None) -> None:
    if value is not None and value < 1:
        raise RnnbenchError(f"{name} must be a positive integer, got {value}")


@dataclass(frozen=True)
class DataSpec:
    """Which images, read as which sequence, split how.

    ``name`` is a registered data set (``rnnbench datasets list``) or a path (``.npz``, idx folder, image folder).
    The validation set is a stratified split of the training data drawn with ``split_seed``; the test set is only
    ever used to report. ``permutation_seed`` fixes the pixel order of the ``permuted`` view; ``image_size`` (H, W)
    and ``color`` apply to image folders.
    """

    name: str = "mnist"
    view: str = "rows"
    val_fraction: float = 0.1
    limit_train: int | None = None
    limit_test: int | None = None
    split_seed: int = 0
    permutation_seed: int = 0
    image_size: tuple[int, int] | None = None
    color: str = "gray"

    def __post_init__(self) -> None:
        if self.color not in ("gray", "rgb"):
            raise RnnbenchError(f"color must be gray or rgb, got '{self.color}'")
        if self.image_size is not None and (len(self.image_size) != 2 or min(self.image_size) < 1):
            raise RnnbenchError(f"image size must be two positive integers HxW, got {self.image_size}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise RnnbenchError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        _require_positive("limit_train", self.limit_train)
        _require_positive("limit_test", self.limit_test)


HEADS = ("batchnorm", "dense")
# Earlier spellings, still accepted: "seed" named both the reference recipe and the random seed.
HEAD_ALIASES = {"seed": "batchnorm"}
PRESET_ALIASES = {"seed": "reference"}


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
        _require_positive("units", self.units)
        _require_positive("layers", self.layers)
        if not 0.0 <= self.dropout < 1.0:
            raise RnnbenchError(f"dropout must be in [0, 1), got {self.dropout}")
        object.__setattr__(self, "head", HEAD_ALIASES.get(self.head, self.head))
        if self.head not in HEADS:
            raise RnnbenchError(f"unknown head '{self.head}'; known: {', '.join(HEADS)}")
        object.__setattr__(self, "options", tuple(sorted((str(k), v) for k, v in self.options)))

    def option(self, name: str) -> float | int | bool | None:
        return dict(self.options).get(name)


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
    def from_dict(cls, values: dict[str, Any]) -> Preset:
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
        _require_positive("epochs", self.epochs)
        _require_positive("batch_size", self.batch_size)
        if self.learning_rate_override is not None and not self.learning_rate_override > 0:
            raise RnnbenchError(f"learning rate must be positive, got {self.learning_rate_override}")
        if self.stop_epoch is not None and not 1 <= self.stop_epoch < self.epochs:
            raise ValueError(f"stop_epoch must be from 1 to below epochs ({self.epochs}), got {self.stop_epoch}")

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
    def from_dict(cls, values: dict[str, Any]) -> RunSpec:
        """The inverse of :meth:`to_dict` (JSON turns tuples into lists; they are restored)."""
        train = {key: value for key, value in values["train"].items() if key != "recipe"}
        if train.get("custom") is not None:
            train["custom"] = Preset.from_dict(train["custom"])
        data = dict(values["data"])
        if data.get("image_size") is not None:
            data["image_size"] = tuple(data["image_size"])
        model = dict(values["model"])
        model["options"] = tuple(tuple(pair) for pair in model.get("options", ()))
        return cls(
            data=DataSpec(**data),
            model=ModelSpec(**model),
            train=TrainSpec(**train),
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


@dataclass(frozen=True)
class ExperimentSpec:
    """A grid of runs: every data spec x training spec x width x model x seed.

    ``data`` holds one spec per (data set, view) of the grid and ``train`` one per preset; each (data, train) pair is a
    *panel* of the comparison, in which the models are compared over seeds. ``model_options`` gives the options of
    the models that have any, checked and completed by the model registry (:func:`rnnbench.specs.experiment_spec`).
    """

    name: str = "comparison"
    data: tuple[DataSpec, ...] = (DataSpec(),)
    train: tuple[TrainSpec, ...] = (TrainSpec(),)
    models: tuple[str, ...] = ("simplernn", "lstm", "gru")
    units: tuple[int, ...] = (64,)
    seeds: tuple[int, ...] = (0,)
    backend: str = DEFAULT_BACKEND
    match_params: tuple[int, ...] = ()
    structure: ModelSpec = ModelSpec()
    model_options: tuple[tuple[str, tuple[tuple[str, float | int | bool], ...]], ...] = ()

    def __post_init__(self) -> None:
        widths = ("parameter budget", self.match_params) if self.match_params else ("units", self.units)
        for axis, values in (("model", self.models), ("seed", self.seeds), widths,
                             ("data set and view", self.data), ("preset", self.train)):  # fmt: skip
            if not values:
                raise RnnbenchError(f"the grid has no {axis}; give at least one")
            if len(set(values)) != len(values):
                raise RnnbenchError(f"a {axis} is named twice in the grid")
        for seed in self.seeds:
            if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < SEED_LIMIT:
                raise RnnbenchError(f"seed {seed!r} is out of range; seeds are integers from 0 to {SEED_LIMIT - 1}")
        for units in self.units:
            _require_positive("units", units)
        for budget in self.match_params:
            _require_positive("parameter budget", budget)

    def panels(self) -> list[tuple[DataSpec, TrainSpec]]:
        return [(data, train) for data in self.data for train in self.train]

    def run_count(self) -> int:
        widths = len(self.match_params or self.units)
        return len(self.panels()) * widths * len(self.models) * len(self.seeds)

    def runs(self, match: Callable[[DataSpec, ModelSpec, int], ModelSpec] | None = None) -> list[RunSpec]:
        """The grid, panel by panel, then width, model and seed.

        With parameter budgets, ``match(data, model, budget)`` gives the model's spec at the width whose parameter
        count is closest to the budget (it needs Keras: see :func:`rnnbench.models.matching.match_units`).
        """
        if self.match_params and match is None:
            raise ValueError("a grid of parameter budgets needs a match function to choose the widths")
        runs: list[RunSpec] = []
        for data, train in self.panels():
            for width in self.match_params or self.units:
                for model in self.models:
                    options = dict(self.model_options).get(model, ())
                    template = dataclasses.replace(self.structure, name=model, units=width, options=options)
                    if self.match_params:
                        assert match is not None
                        template = match(data, dataclasses.replace(template, units=1), width)
                    runs.extend(RunSpec(data, template, train, seed, self.backend) for seed in self.seeds)
        return runs

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


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


@dataclass(frozen=True)
class ClusterOptions:
    """Where and how runs train on a Ray cluster (``--executor ray``).

    ``address``: None starts a Ray instance on this machine for the command; ``auto`` or ``HOST:PORT`` joins a
    running cluster. ``cpus_per_run`` and ``gpus_per_run`` are the resources Ray reserves for each run (fractions
    share a GPU between runs); ``max_retries`` bounds how often a run whose worker or node is lost trains again.
    """

    address: str | None = None
    cpus_per_run: float = 1.0
    gpus_per_run: float = 0.0
    max_retries: int = 2

    def __post_init__(self) -> None:
        if not self.cpus_per_run > 0:
            raise RnnbenchError(f"--cpus-per-run must be above 0, got {self.cpus_per_run:g}")
        if self.gpus_per_run < 0:
            raise RnnbenchError(f"--gpus-per-run must be 0 or more, got {self.gpus_per_run:g}")
        if self.gpus_per_run > 1 and self.gpus_per_run != int(self.gpus_per_run):
            raise RnnbenchError(f"--gpus-per-run above 1 must be a whole number, got {self.gpus_per_run:g}")
        if self.max_retries < 0:
            raise RnnbenchError(f"--max-retries must be 0 or more, got {self.max_retries}")
