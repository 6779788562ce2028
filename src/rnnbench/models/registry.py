"""The model registry: a decorator registers a recurrent-layer builder under a name (timm-style), together with
everything else known about the cell: the Keras classes a saved model needs, its cost per step, its options and
its contract data (:mod:`rnnbench.models.contract`).

Builders import Keras inside their body, so registering a model never imports Keras (the backend must be chosen
first, see :mod:`rnnbench.backend`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rnnbench.errors import RnnbenchError, UnknownNameError
from rnnbench.models.contract import CellContract
from rnnbench.models.lazy import KerasClasses
from rnnbench.models.options import CellOption, OptionValue

# build_layer(units, return_sequences=False, name="recurrent", **options) -> a Keras recurrent layer
LayerBuilder = Callable[..., Any]
# cost_per_step(units, features) -> multiply-adds per sample per time step of one layer
CostPerStep = Callable[[int, int], float]
# check(all option values) -> what is wrong with their combination, or None
OptionsCheck = Callable[[Mapping[str, OptionValue]], str | None]


@dataclass(frozen=True)
class ModelInfo:
    """A registered cell. ``keras_classes()`` returns the classes rnnbench defines for its layers (Keras' own are
    always known), registered so that a saved model loads; ``contract`` is what the model contract checks it
    against; ``check`` vets a combination of options that each pass their own range."""

    name: str
    description: str
    equations: str
    paper: str
    build_layer: LayerBuilder
    keras_classes: KerasClasses
    cost_per_step: CostPerStep
    contract: CellContract
    options: tuple[CellOption, ...] = ()
    check: OptionsCheck | None = None

    def defaults(self) -> dict[str, OptionValue]:
        return {option.name: option.default for option in self.options}

    def resolve_options(self, given: Mapping[str, object]) -> tuple[tuple[str, OptionValue], ...]:
        """``given`` (strings from the command line, or TOML values) checked and converted: the options that differ
        from their defaults, sorted by name, so that a spec at the defaults keeps the run key it had before options.

        Raises RnnbenchError on an unknown name, a value of the wrong type or out of range, or a bad combination.
        """
        known = {option.name: option for option in self.options}
        values = self.defaults()
        for name, value in given.items():
            if name not in known:
                if not known:
                    raise RnnbenchError(f"model '{self.name}' has no options")
                raise RnnbenchError(f"model '{self.name}' has no option '{name}'; its options: {', '.join(known)}")
            try:
                values[name] = known[name].convert(value)
            except ValueError as error:
                raise RnnbenchError(f"model '{self.name}' option {error}") from None
        if self.check is not None and (problem := self.check(values)) is not None:
            raise RnnbenchError(f"model '{self.name}' options do not fit together: {problem}")
        defaults = self.defaults()
        return tuple(sorted((name, value) for name, value in values.items() if value != defaults[name]))

    def option_values(self, options: Iterable[tuple[str, object]] = ()) -> dict[str, OptionValue]:
        """Every option of the cell, the given ones (a spec's ``options``, checked again) over the defaults: what
        ``build_layer`` receives."""
        return {**self.defaults(), **dict(self.resolve_options(dict(options)))}


_REGISTRY: dict[str, ModelInfo] = {}


def register_model(
    name: str,
    *,
    description: str,
    equations: str,
    paper: str,
    keras_classes: KerasClasses,
    cost_per_step: CostPerStep,
    contract: CellContract,
    options: tuple[CellOption, ...] = (),
    check: OptionsCheck | None = None,
) -> Callable[[LayerBuilder], LayerBuilder]:
    """Decorator: register ``build_layer(units, return_sequences=False, name="recurrent", **options)`` as ``name``.

    The builder returns a Keras recurrent layer over (batch, steps, features) inputs: its output is (batch, units),
    or (batch, steps, units) with ``return_sequences`` (for stacking). It receives every one of ``options``.
    Registering does no more than check the registration: no Keras, no model built."""

    def decorate(build_layer: LayerBuilder) -> LayerBuilder:
        if name in _REGISTRY:
            raise ValueError(f"model '{name}' is registered twice")
        info = ModelInfo(
            name=name,
            description=description,
            equations=equations,
            paper=paper,
            build_layer=build_layer,
            keras_classes=keras_classes,
            cost_per_step=cost_per_step,
            contract=contract,
            options=tuple(options),
            check=check,
        )
        # A default outside its own range is a mistake in the registration, not in a user's input.
        for option in info.options:
            option.convert(option.default)
        if check is not None and (problem := check(info.defaults())) is not None:
            raise ValueError(f"model '{name}': the default options do not fit together: {problem}")
        try:
            info.resolve_options(dict(contract.step_options))
        except RnnbenchError as error:
            raise ValueError(f"model '{name}': the contract's step options: {error}") from None
        _REGISTRY[name] = info
        return build_layer

    return decorate


def unregister_model(name: str) -> ModelInfo:
    """Remove ``name`` from the registry and return what it held: for a cell registered for a while only (a test's
    own cell). Keras keeps its classes registered, which is harmless: nothing builds them without the registry."""
    return _REGISTRY.pop(model_info(name).name)


def list_models() -> list[ModelInfo]:
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def model_info(name: str) -> ModelInfo:
    if name not in _REGISTRY:
        raise UnknownNameError("model", name, list(_REGISTRY))
    return _REGISTRY[name]
