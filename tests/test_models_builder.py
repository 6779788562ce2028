import keras
import numpy as np
import pytest

from model_contract import registered_names
from rnnbench.errors import RnnbenchError
from rnnbench.models import build_model, list_models, model_info
from rnnbench.spec import ModelSpec

# Keras count_params() of the reference model (recurrent 64 -> BatchNormalization -> Dense(10)) on 28 x 28 inputs,
# BatchNormalization's moving mean and variance included: the original experiment's.
REFERENCE_PARAMS = {"simplernn": (6858, 6730), "lstm": (24714, 24586), "gru": (18954, 18826)}


@pytest.mark.parametrize("name", sorted(REFERENCE_PARAMS))
def test_reference_parameter_counts(name):
    model = build_model(ModelSpec(name, 64), steps=28, features=28, classes=10)
    total, trainable = REFERENCE_PARAMS[name]
    assert model.count_params() == total == model_info(name).contract.reference_params
    assert sum(int(np.prod(weight.shape)) for weight in model.trainable_weights) == trainable


def test_head_is_batchnorm_then_dense_logits():
    model = build_model(ModelSpec("lstm", 16), steps=8, features=8, classes=5)
    recurrent, norm, dense = model.layers
    assert isinstance(recurrent, keras.layers.LSTM)  # Keras' own, or its fast drop-in on JAX
    assert isinstance(norm, keras.layers.BatchNormalization) and isinstance(dense, keras.layers.Dense)
    assert model.layers[-1].activation is keras.activations.linear
    outputs = model(np.zeros((3, 8, 8), dtype="float32"))
    assert tuple(outputs.shape) == (3, 5)


def test_gru_resets_after_the_matrix_product():
    model = build_model(ModelSpec("gru", 8), steps=4, features=4, classes=2)
    assert model.layers[0].cell.reset_after


def test_registry_lists_its_cells_by_name_and_rejects_unknown_names():
    names = registered_names()
    assert names == sorted(set(names)) and [model_info(name).name for name in names] == names
    assert "Hochreiter" in model_info("lstm").paper
    with pytest.raises(RnnbenchError, match=f"unknown model 'transformer'; known: {', '.join(names)}$"):
        model_info("transformer")


def test_stacked_bidirectional_dropout_and_dense_head():
    spec = ModelSpec("gru", 8, layers=2, bidirectional=True, dropout=0.25, head="dense")
    model = build_model(spec, steps=5, features=3, classes=4)
    assert [layer.name for layer in model.layers] == [
        "bidirectional_recurrent_1", "dropout_1", "bidirectional_recurrent_2", "dropout_2", "logits",
    ]  # fmt: skip
    gru = lambda features: 3 * 8 * (features + 8 + 2)  # noqa: E731 (reset_after GRU: two biases per gate)
    assert model.count_params() == 2 * gru(3) + 2 * gru(16) + (16 * 4 + 4)
    assert tuple(model(np.zeros((2, 5, 3), dtype="float32")).shape) == (2, 4)


@pytest.mark.parametrize("name", registered_names())
def test_every_model_stacks(name):
    model = build_model(ModelSpec(name, 4, layers=2), steps=3, features=2, classes=2)
    assert tuple(model(np.zeros((1, 3, 2), dtype="float32")).shape) == (1, 2)


@pytest.mark.parametrize("budget", [6858, 24714, 100000])
def test_parameter_matching_lands_within_two_percent(budget):
    from rnnbench.models.matching import _count_by_width, match_units, parameter_count

    for info in list_models():
        spec = ModelSpec(info.name, 1)
        matched = match_units(spec, budget, steps=28, features=28, classes=10)
        count = parameter_count(matched, 28, 28, 10)  # built for real at the chosen width
        by_width = _count_by_width(spec, 28, 28, 10)
        assert matched.param_budget == budget and by_width(matched.units) == count
        neighbours = [by_width(matched.units - 1), by_width(matched.units + 1)]
        assert all(abs(other - budget) >= abs(count - budget) for other in neighbours)  # no width is closer
        # Within 2 %, unless one unit more or less moves the count by more than 4 % (then the closest is the best).
        step = max(abs(other - count) for other in neighbours)
        assert abs(count - budget) <= max(0.02 * budget, step / 2), (info.name, matched.units, count)


def test_the_reference_widths_are_found_from_their_counts():
    from rnnbench.models.matching import match_units

    for name, budget in (("simplernn", 6858), ("lstm", 24714), ("gru", 18954)):
        assert match_units(ModelSpec(name, 1), budget, 28, 28, 10).units == 64


@pytest.mark.parametrize("budget", [10, 10**9])
def test_a_budget_no_width_can_approach_is_refused(budget):
    from rnnbench.models.matching import match_units

    with pytest.raises(RnnbenchError, match=rf"--match-params {budget:,}: lstm has 1\d\d parameters at 1 unit and "):
        match_units(ModelSpec("lstm"), budget, 28, 28, 10)
