"""What the registry knows about each cell beyond its builder: options (checked, converted, completed, and built
into the layer) and the cost per step."""

from __future__ import annotations

import math

import pytest

from model_contract import registered_names
from rnnbench.errors import RnnbenchError
from rnnbench.models import CellOption, build_model, model_info
from rnnbench.models.options import format_value
from rnnbench.spec import ModelSpec

MODELS = registered_names()


def recurrent_cell(spec: ModelSpec):
    return build_model(spec, steps=5, features=3, classes=2).get_layer("recurrent").cell


@pytest.mark.parametrize("name", MODELS)
def test_the_defaults_given_explicitly_resolve_to_nothing(name):
    # A spec at the defaults has no options, so its run key is the one it had before cells had options.
    info = model_info(name)
    assert info.resolve_options({option.name: option.default for option in info.options}) == ()
    assert info.resolve_options({option.name: format_value(option.default) for option in info.options}) == ()
    assert list(info.option_values()) == [option.name for option in info.options]


def test_only_the_options_that_differ_are_kept_sorted_and_typed():
    cornn = model_info("cornn")
    assert cornn.resolve_options({"gamma": 2.7, "epsilon": "3", "dt": 1}) == (("dt", 1.0), ("epsilon", 3.0))
    assert all(isinstance(value, float) for _, value in cornn.resolve_options({"dt": 1}))
    assert model_info("indrnn").resolve_options({"long_memory_init": "No"}) == (("long_memory_init", False),)
    assert cornn.option_values((("dt", 0.1),)) == {"dt": 0.1, "gamma": 2.7, "epsilon": 4.7}


@pytest.mark.parametrize(
    ("name", "given", "message"),
    [
        ("cornn", {"foo": 1}, "model 'cornn' has no option 'foo'; its options: dt, gamma, epsilon"),
        ("lstm", {"dt": 0.1}, "model 'lstm' has no options"),
        ("cornn", {"dt": -1}, "model 'cornn' option dt=-1 is out of range; it must be > 0"),
        ("cornn", {"gamma": "-0.5"}, "model 'cornn' option gamma=-0.5 is out of range; it must be >= 0"),
        ("lem", {"dt": 1.5}, r"model 'lem' option dt=1.5 is out of range; it must be in \(0, 1\]"),
        ("lru", {"r_max": 2}, r"model 'lru' option r_max=2 is out of range; it must be in \(0, 1\)"),
        ("lru", {"r_max": 1}, r"model 'lru' option r_max=1 is out of range; it must be in \(0, 1\)"),
        ("lru", {"r_min": 1}, r"model 'lru' option r_min=1 is out of range; it must be in \[0, 1\)"),
        ("indrnn", {"max_gradient": 1}, "model 'indrnn' option max_gradient=1 is out of range; it must be > 1"),
        ("cornn", {"dt": "fast"}, "model 'cornn' option dt must be a number, got 'fast'"),
        ("cornn", {"dt": True}, "model 'cornn' option dt must be a number, got true"),
        ("cornn", {"dt": "inf"}, "model 'cornn' option dt must be a finite number, got 'inf'"),
        ("indrnn", {"long_memory_init": "maybe"}, "option long_memory_init must be true or false, got 'maybe'"),
        ("indrnn", {"long_memory_init": 1}, "option long_memory_init must be true or false, got 1"),
        ("lru", {"r_min": 0.95, "r_max": "0.9"}, "'lru' options do not fit together: r_min=0.95 must be <= r_max"),
        ("mamba", {"conv_width": 1}, "model 'mamba' option conv_width=1 is out of range; it must be >= 2"),
        ("mamba", {"state_size": "1.5"}, "model 'mamba' option state_size must be a whole number, got '1.5'"),
    ],
)
def test_bad_options_are_one_line_errors(name, given, message):
    with pytest.raises(RnnbenchError, match=message) as raised:
        model_info(name).resolve_options(given)
    assert "\n" not in str(raised.value)


def test_an_int_option_takes_whole_numbers_only():
    option = CellOption("window", int, 3, "steps", minimum=1)
    assert option.convert("4") == 4 and option.convert(5) == 5
    for value in (2.5, "2.5", False):
        with pytest.raises(ValueError, match="window must be a whole number"):
            option.convert(value)
    assert option.range_text() == ">= 1"


def test_options_reach_the_built_cell():
    assert recurrent_cell(ModelSpec("cornn", 4, options=(("dt", 0.1), ("gamma", 1.0)))).dt == 0.1
    assert recurrent_cell(ModelSpec("lem", 4, options=(("dt", 0.5),))).dt == 0.5
    lru = recurrent_cell(ModelSpec("lru", 4, options=(("r_max", 0.6), ("r_min", 0.5))))
    assert (lru.r_min, lru.r_max, lru.max_phase) == (0.5, 0.6, 2 * math.pi)
    indrnn = recurrent_cell(ModelSpec("indrnn", 4, options=(("long_memory_init", False), ("max_gradient", 5.0))))
    assert not indrnn.long_memory_init and indrnn.bound == pytest.approx(5 ** (1 / 5))
    mamba = recurrent_cell(ModelSpec("mamba", 4, options=(("state_size", 3), ("expansion", 1), ("conv_width", 2))))
    assert (mamba.state_dim, mamba.inner, mamba.conv_width) == (3, 4, 2) and mamba.state_size == [4, 12]


def test_a_spec_with_bad_options_does_not_build():
    with pytest.raises(RnnbenchError, match="model 'lstm' has no options"):
        build_model(ModelSpec("lstm", 4, options=(("dt", 0.1),)), steps=5, features=3, classes=2)


# Multiply-adds per sample and step of one layer with n units and d input features, from the built-in cells'
# equations, copied by hand so that a registration changed by mistake fails.
COSTS = {
    "simplernn": lambda d, n: n * (n + d),  # W x, U h
    "lstm": lambda d, n: 4 * n * (n + d),  # four gates
    "gru": lambda d, n: 3 * n * (n + d),  # three gates
    "cornn": lambda d, n: n * (2 * n + d),  # V u, W y, W_z z
    "lem": lambda d, n: n * (4 * n + 4 * d),  # V (d, 4n), W (n, 3n), W_y (n, n)
    "lru": lambda d, n: n * (2 * n + 3 * d),  # B re+im, C re+im, D
    "indrnn": lambda d, n: n * (d + 1),  # W x, u * h
}


@pytest.mark.parametrize("name", sorted(COSTS))
def test_cost_per_step(name):
    for units, features in ((1, 1), (64, 28), (100, 3)):
        assert model_info(name).cost_per_step(units, features) == COSTS[name](features, units)


@pytest.mark.parametrize("name", MODELS)
def test_a_step_costs_one_multiply_add_per_matrix_weight(name):
    # What the parameters have beyond the cost grows with the units alone: biases and element-wise recurrences, no
    # weight of a matrix over the inputs or the units.
    info = model_info(name)
    per_unit = info.contract.recurrent_params(1, 1) - info.cost_per_step(1, 1)
    assert per_unit >= 0
    for units, features in ((64, 28), (100, 3), (7, 50)):
        assert info.contract.recurrent_params(units, features) - info.cost_per_step(units, features) == per_unit * units
