"""Parameter-matched comparisons: the width at which a model's parameter count is closest to a budget."""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable

from rnnbench.errors import RnnbenchError
from rnnbench.models.builder import build_model
from rnnbench.spec import ModelSpec

MAX_UNITS = 4096


def parameter_count(spec: ModelSpec, steps: int, features: int, classes: int) -> int:
    """Keras ``count_params()`` of the model (BatchNormalization's moving statistics included)."""
    return parameter_counts(spec, steps, features, classes)[0]


def parameter_counts(spec: ModelSpec, steps: int, features: int, classes: int) -> tuple[int, int]:
    """(all parameters as Keras ``count_params()`` counts them, the trainable ones); the same on every backend."""
    import keras

    def count() -> tuple[int, int]:
        model = build_model(spec, steps, features, classes)
        return int(model.count_params()), sum(math.prod(weight.shape) for weight in model.trainable_weights)

    if keras.backend.backend() != "jax":
        return count()
    import jax

    # A count needs shapes only. Under eval_shape JAX traces the weight initialisers instead of compiling and running
    # each one for its shape, which made a parameter-matched comparison spend most of a minute before training.
    counted: list[tuple[int, int]] = []
    jax.eval_shape(lambda: counted.append(count()))
    return counted[0]


@functools.cache
def _count_by_width(spec: ModelSpec, steps: int, features: int, classes: int) -> Callable[[int], int]:
    """The parameter count as a function of the width, without building wide models.

    Every weight of these models is a vector or matrix over the width and the inputs, so the count is a quadratic in
    the width: it is fitted exactly through widths 1, 2 and 3 and checked at widths 5 and 100 (a model that breaks the
    rule, such as Mamba, whose step-size rank is ceil(width / 16), is counted by building it instead).
    """
    measured = {units: parameter_count(dataclasses.replace(spec, units=units), steps, features, classes)
                for units in (1, 2, 3, 5, 100)}  # fmt: skip
    second = measured[3] - 2 * measured[2] + measured[1]  # twice the quadratic coefficient
    first = measured[2] - measured[1] - 3 * second // 2
    constant = measured[1] - first - second // 2

    def quadratic(units: int) -> int:
        return second * units * units // 2 + first * units + constant

    if second % 2 == 0 and quadratic(5) == measured[5] and quadratic(100) == measured[100]:
        return quadratic
    return lambda units: parameter_count(dataclasses.replace(spec, units=units), steps, features, classes)


def parameter_count_at_width(spec: ModelSpec, steps: int, features: int, classes: int) -> int:
    """The parameter count of ``spec`` at its width, computed from narrow models (cheap at any width)."""
    return _count_by_width(dataclasses.replace(spec, units=1, param_budget=None), steps, features, classes)(spec.units)


def match_units(spec: ModelSpec, budget: int, steps: int, features: int, classes: int) -> ModelSpec:
    """``spec`` at the width (1 to MAX_UNITS) whose parameter count is closest to ``budget`` (the smaller on a tie).

    The count grows with the width, so a binary search finds the first width at or above the budget; the answer is
    that width or the one below it.
    """
    count = _count_by_width(dataclasses.replace(spec, units=1, param_budget=None), steps, features, classes)
    if count(1) > budget or count(MAX_UNITS) < budget:
        smallest, largest = count(1), count(MAX_UNITS)
        raise RnnbenchError(
            f"--match-params {budget:,}: {spec.name} has {smallest:,} parameters at 1 unit and {largest:,} at "
            f"{MAX_UNITS:,} on this data; give a budget between them"
        )
    low, high = 1, MAX_UNITS
    while low < high:
        middle = (low + high) // 2
        if count(middle) < budget:
            low = middle + 1
        else:
            high = middle
    best = low
    if low > 1 and abs(count(low - 1) - budget) <= abs(count(low) - budget):
        best = low - 1
    return dataclasses.replace(spec, units=best, param_budget=budget)
