"""Search spaces: the default, files that replace its dimensions, and bad files in one line with file, line and key."""

from __future__ import annotations

import os

import pytest

from rnnbench.errors import RnnbenchError
from rnnbench.spec.search_space import DEFAULT_SPACE, Dimension, load_space


def test_the_default_space_varies_the_recipe_only():
    assert [dimension.name for dimension in DEFAULT_SPACE.dimensions] == [
        "optimizer", "learning_rate", "batch_size", "weight_decay", "clipnorm", "schedule", "label_smoothing",
    ]  # fmt: skip
    rate = DEFAULT_SPACE.dimension("learning_rate")
    assert (rate.low, rate.high, rate.log) == (1e-4, 3e-2, True)
    assert DEFAULT_SPACE.dimension("batch_size").choices == (32, 64, 128, 256)


def test_a_file_replaces_the_dimensions_it_names(tmp_path):
    path = tmp_path / "space.toml"
    path.write_text('optimizer = "adam"\nlearning_rate = { low = 1e-3, high = 1e-2, log = true }\nbatch_size = [64]\n')
    space = load_space(path)
    assert space.dimension("optimizer") == Dimension("optimizer", choices=("adam",))
    assert space.dimension("optimizer").fixed
    assert space.dimension("learning_rate") == Dimension("learning_rate", low=1e-3, high=1e-2, log=True)
    assert space.dimension("schedule") == DEFAULT_SPACE.dimension("schedule")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("\n\nmomentum = 0.9\n", "space.toml:3: momentum is not a dimension of the search space; known: optimizer"),
        ("learning_rate = { low = 0.01, high = 0.01 }\n",
         "space.toml:1: learning_rate: the range 0.01 to 0.01 is empty; give low below high"),
        ("weight_decay = { low = 0.0, high = 0.1, log = true }\n",
         "space.toml:1: weight_decay: a log range needs bounds above 0, not 0"),
        ("optimizer = []\n", "space.toml:1: optimizer has no choices; give at least one"),
        ('optimizer = ["adam", "rmsprop"]\n',
         "space.toml:1: optimizer: choice 'rmsprop' is not one of adam, adamw, sgd"),
        ("batch_size = { low = 32, high = 256 }\n",
         "space.toml:1: batch_size takes a list of choices or one value, not a range"),
        ("label_smoothing = { low = 0.0, top = 0.1 }\n",
         "space.toml:1: label_smoothing must be { low = ..., high = ..., log = true|false }"),
        ("learning_rate = -1\n", "space.toml:1: learning_rate must be a number above 0"),
        ("[learning_rate\n", "space.toml: not valid TOML"),
        ("learning_rate = { low = 1e-4, high = inf, log = true }\n",
         "space.toml:1: learning_rate: bound inf is not a number above 0 and at most 10"),
        ("learning_rate = 1e300\n", "space.toml:1: learning_rate must be a number above 0 and at most 10, a list"),
        ("label_smoothing = nan\n", "space.toml:1: label_smoothing must be a number from 0 to below 1"),
        ('schedule = "linear"\n',
         "space.toml:1: schedule must be one of constant, cosine, or a list of such choices; got 'linear'"),
        ("batch_size = 1000000\n", "space.toml:1: batch_size must be an integer from 1 to 65,536, or a list"),
    ],
)  # fmt: skip
def test_a_bad_space_file_is_one_error_naming_line_and_key(tmp_path, text, message):
    path = tmp_path / "space.toml"
    path.write_text(text)
    with pytest.raises(RnnbenchError) as raised:
        load_space(path)
    assert str(raised.value).startswith(f"{tmp_path}/{message}")


def test_a_space_file_that_is_not_a_regular_file_is_refused_before_it_is_opened(tmp_path):
    fifo = tmp_path / "space.toml"
    os.mkfifo(fifo)
    with pytest.raises(RnnbenchError, match="search space .* is not a regular file"):
        load_space(fifo)
