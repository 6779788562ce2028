"""A cell registered by its user meets the contract of the built-in ones through the same functions, and the
registry-parametrised tests would run on it: adding a cell takes one registration and no edit to the tests.

The cell here is a diagonal tanh recurrence, h_t = tanh(x_t W + u * h_{t-1}), registered for one test at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import keras
import numpy as np
import pytest
from keras import ops

from model_contract import (
    assert_meets_contract,
    assert_one_step_matches_reference,
    assert_sequence_matches_reference,
    check_model,
    registered_names,
)
from rnnbench.errors import UnknownNameError
from rnnbench.models import CellContract, ModelInfo, list_models, model_info, register_model, unregister_model
from rnnbench.models.contract import Config, States, Weights

NAME = "diagonal"


@keras.saving.register_keras_serializable(package="rnnbench_tests")
class DiagonalCell(keras.layers.Layer):
    """h_t = tanh(x_t W + u * h_{t-1}). Inputs (batch, features); state and output (batch, units)."""

    def __init__(self, units: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units
        self.output_size = units

    def build(self, input_shape: Any) -> None:
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units,), initializer="ones", name="recurrent_kernel")

    def call(self, inputs: Any, states: Any) -> tuple[Any, list[Any]]:
        h = ops.tanh(ops.matmul(inputs, self.kernel) + self.recurrent_kernel * states[0])
        return h, [h]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units}


def diagonal_reference_step(w: Weights, config: Config, x: np.ndarray, states: States) -> tuple[np.ndarray, States]:
    h = np.tanh(x @ w["kernel"] + w["recurrent_kernel"] * states[0])
    return h, [h]


def diagonal(units: int, return_sequences: bool = False, name: str = "recurrent") -> Any:
    return keras.layers.RNN(DiagonalCell(units), return_sequences=return_sequences, name=name)


@contextmanager
def registered_diagonal_cell() -> Iterator[ModelInfo]:
    register_model(
        NAME,
        description="diagonal tanh recurrence",
        equations="h_t = tanh(W x_t + u * h_{t-1})",
        paper="none: a cell of the tests",
        keras_classes=lambda: (DiagonalCell,),
        cost_per_step=lambda units, features: units * features,  # W x; u * h is element-wise
        contract=CellContract(
            recurrent_params=lambda units, features: units * (features + 1),  # W (d, n), u (n)
            reference_params=2762,  # 64 * 29 + BatchNormalization 4 * 64 + Dense 64 * 10 + 10
            matched_units=(159, 575, 2325),
            reference_step=diagonal_reference_step,
        ),
    )(diagonal)
    try:
        yield model_info(NAME)
    finally:
        unregister_model(NAME)


@pytest.fixture
def diagonal_cell() -> Iterator[ModelInfo]:
    with registered_diagonal_cell() as info:
        yield info


def test_the_contract_tests_run_on_a_registered_cell_and_not_after_it_is_removed():
    before = registered_names()
    assert NAME not in before
    with registered_diagonal_cell() as info:
        assert registered_names() == sorted([*before, NAME]) == [each.name for each in list_models()]
        assert info in list_models()
    assert registered_names() == before
    with pytest.raises(UnknownNameError, match=f"unknown model '{NAME}'"):
        unregister_model(NAME)


def test_a_registered_cell_meets_the_model_contract(diagonal_cell, tmp_path):
    assert_meets_contract(NAME, check_model(NAME, tmp_path), diagonal_cell.contract)


def test_a_registered_cell_matches_its_reference_step(diagonal_cell):
    assert_one_step_matches_reference(diagonal_cell)
    assert_sequence_matches_reference(diagonal_cell)


def test_a_wrong_registration_fails_the_contract(diagonal_cell, tmp_path):
    report = check_model(NAME, tmp_path)
    contract = diagonal_cell.contract
    for wrong in (
        replace(contract, recurrent_params=lambda units, features: units * features),
        replace(contract, reference_params=2763),
        replace(contract, matched_units=(159, 575, 2326)),
    ):
        with pytest.raises(AssertionError):
            assert_meets_contract(NAME, report, wrong)


def test_a_wrong_reference_step_fails_the_parity(diagonal_cell):
    def without_recurrence(w: Weights, config: Config, x: np.ndarray, states: States) -> tuple[np.ndarray, States]:
        h = np.tanh(x @ w["kernel"])
        return h, [h]

    wrong = replace(diagonal_cell, contract=replace(diagonal_cell.contract, reference_step=without_recurrence))
    with pytest.raises(AssertionError, match="Not equal to tolerance"):
        assert_one_step_matches_reference(wrong)
    with pytest.raises(AssertionError, match="Not equal to tolerance"):
        assert_sequence_matches_reference(wrong)
