"""Settings from the environment: one parser for every switch, paths with their defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnbench.errors import RnnbenchError
from rnnbench.settings import read_settings


@pytest.mark.parametrize("text", ["1", "true", "YES", " on "])
def test_a_switch_is_on(text):
    assert read_settings({"RNNBENCH_OFFLINE": text}).offline


@pytest.mark.parametrize("text", ["0", "false", "No", "off", ""])
def test_a_switch_is_off(text):
    assert not read_settings({"RNNBENCH_OFFLINE": text}).offline
    assert read_settings({"RNNBENCH_FAST_LAYERS": text}).fast_layers is (text == "")


def test_a_switch_that_says_neither_names_the_variable():
    with pytest.raises(RnnbenchError, match="RNNBENCH_FAST_LAYERS='maybe' is not on or off"):
        read_settings({"RNNBENCH_FAST_LAYERS": "maybe"})


def test_ci_systems_may_set_ci_to_words_of_their_own():
    assert read_settings({"CI": "true"}).ci
    assert not read_settings({"CI": "woodpecker"}).ci


def test_caches_follow_xdg_and_their_own_variables(tmp_path):
    settings = read_settings({"XDG_CACHE_HOME": str(tmp_path)})
    assert settings.data_dir == tmp_path / "rnnbench"
    assert settings.jax_cache == tmp_path / "rnnbench" / "jax"
    assert settings.kernel_cache == tmp_path / "rnnbench" / "kernels"
    settings = read_settings({"RNNBENCH_DATA": "~/d", "RNNBENCH_JAX_CACHE": "off", "RNNBENCH_KERNEL_CACHE": "/k"})
    assert settings.data_dir == Path.home() / "d"
    assert settings.jax_cache is None and settings.kernel_cache == Path("/k")
