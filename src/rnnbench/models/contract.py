"""What a cell is checked against, registered with it: its parameter formula, its figures on the reference input and
a NumPy transcription of one step of its equations (the model contract, tests/model_contract.py, reads them from
the registry, so a new cell is tested without editing a test).

The figures are written down with the cell, not computed when it is registered: the contract compares them with
what its Keras code measures, so a change to either that the other does not follow fails.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnbench.models.options import OptionValue

# The reference experiment: 28 x 28 MNIST images read by rows, one recurrent layer of 64 units, 10 classes.
REFERENCE_STEPS, REFERENCE_FEATURES, REFERENCE_UNITS, REFERENCE_CLASSES = 28, 28, 64, 10
# The budgets a cell's matched widths are registered for: the reference SimpleRNN's and LSTM's counts, and 100k.
REFERENCE_BUDGETS = (6858, 24714, 100000)

# A reference step's arguments: the cell's weights by name and its Keras config; its states, each (batch, size), in
# the order of the Keras cell's ``state_size``.
Weights = Mapping[str, np.ndarray]
Config = Mapping[str, Any]
States = list[np.ndarray]
# reference_step(weights, config, inputs (batch, features), states) -> (output (batch, units), new states)
ReferenceStep = Callable[[Weights, Config, np.ndarray, States], tuple[np.ndarray, States]]
# recurrent_params(units, features) -> the weights of one recurrent layer on that many input features.
ParameterFormula = Callable[[int, int], int]


@dataclass(frozen=True)
class CellContract:
    """A cell's contract data.

    ``reference_params`` is Keras' ``count_params()`` of the reference model (the cell at REFERENCE_UNITS on
    REFERENCE_FEATURES inputs, BatchNormalization, Dense logits for REFERENCE_CLASSES); ``matched_units`` the width
    that parameter matching picks for each of REFERENCE_BUDGETS on the reference input. ``reference_step`` is
    written from the paper in NumPy, independently of the Keras cell it is compared with: one step under
    ``step_options`` (the options that enter the step, away from their defaults, so that a step that ignored one
    would differ), a whole sequence under the defaults.
    """

    recurrent_params: ParameterFormula
    reference_params: int
    matched_units: tuple[int, ...]
    reference_step: ReferenceStep
    step_options: tuple[tuple[str, OptionValue], ...] = ()

    def __post_init__(self) -> None:
        if len(self.matched_units) != len(REFERENCE_BUDGETS):
            raise ValueError(f"matched_units needs one width per budget of {REFERENCE_BUDGETS}")


def sigmoid(a: np.ndarray) -> np.ndarray:
    """The logistic function, for reference steps."""
    return 1.0 / (1.0 + np.exp(-a))
