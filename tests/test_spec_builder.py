"""One way from settings to specs: defaults from the dataclasses alone, cell options, earlier spellings."""

from __future__ import annotations

import dataclasses

import pytest

from rnnbench.errors import RnnbenchError
from rnnbench.spec import DataSpec, ExperimentSpec, ModelSpec, RunSpec, TrainSpec
from rnnbench.spec.builder import experiment_spec, model_options, parse_cell_options
from rnnbench.spec.experiment_file import load_experiment_file


def _load(path):
    return load_experiment_file(path)[0]


def test_no_settings_give_the_dataclasses_defaults():
    assert experiment_spec({}) == ExperimentSpec()


def test_an_experiment_file_and_a_mapping_give_the_same_spec(tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text(
        'name = "g"\n[grid]\nmodels = ["cornn", "lem"]\ndatasets = ["digits"]\nseeds = 2\n'
        '[train]\npreset = "seed"\nepochs = 3\n[model]\nhead = "seed"\n'
        "[model.options]\ndt = 0.1\ncornn.gamma = 3\n"
    )
    mapping = {
        "name": "g",
        "grid": {"models": ["cornn", "lem"], "datasets": ["digits"], "seeds": "2"},
        "train": {"preset": "reference", "epochs": 3},
        "model": {"head": "batchnorm", "options": {"dt": "0.1", "cornn.gamma": "3"}},
    }
    spec = _load(path)
    assert spec == experiment_spec(mapping)
    assert dict(spec.model_options) == {"cornn": (("dt", 0.1), ("gamma", 3.0)), "lem": (("dt", 0.1),)}
    assert [run.model.options for run in spec.runs()][::2] == [(("dt", 0.1), ("gamma", 3.0)), (("dt", 0.1),)]


def test_an_option_goes_to_every_model_that_has_it_or_to_the_one_named():
    assert model_options(("cornn", "lstm", "lem"), {"dt": 0.1}) == (("cornn", (("dt", 0.1),)), ("lem", (("dt", 0.1),)))
    assert model_options(("cornn", "lem"), {"cornn.dt": "0.1"}) == (("cornn", (("dt", 0.1),)),)
    assert model_options(("cornn",), {"cornn": {"epsilon": 5}}) == (("cornn", (("epsilon", 5.0),)),)
    assert model_options(("cornn",), {"dt": 0.042}) == ()  # the default: no option, the run key of old


@pytest.mark.parametrize(
    ("models", "given", "message"),
    [
        (("lstm", "gru"), {"dt": "0.1"}, "no model compared here has the option 'dt'; the models compared here have"),
        (("cornn", "lstm"), {"foo": "1"}, "no model compared here has the option 'foo'; options: cornn: dt, gamma"),
        (("cornn",), {"gru.dt": "1"}, "cell option 'gru.dt' names model 'gru', which is not compared here"),
        (("cornn", "lstm"), {"lstm.dt": "1"}, "model 'lstm' has no options"),
        (("cornn",), {"dt": "-1"}, "model 'cornn' option dt=-1 is out of range; it must be > 0"),
        (("lru",), {"r_min": "0.99", "r_max": "0.9"}, "model 'lru' options do not fit together"),
        (("indrnn",), {"long_memory_init": "maybe"}, "long_memory_init must be true or false"),
    ],
)
def test_bad_cell_options_are_one_clear_error(models, given, message):
    with pytest.raises(RnnbenchError, match=message):
        model_options(models, given)


def test_cell_options_from_the_command_line():
    assert parse_cell_options(("dt=0.1", " Cornn.Gamma = 3 ")) == {"dt": "0.1", "cornn.gamma": "3"}
    with pytest.raises(RnnbenchError, match="--cell-option 'dt' is not KEY=VALUE"):
        parse_cell_options(("dt",))


def test_a_cell_option_is_part_of_the_run_key():
    plain = RunSpec(DataSpec("digits"), ModelSpec("cornn", 8), TrainSpec())
    changed = RunSpec(DataSpec("digits"), ModelSpec("cornn", 8, options=(("dt", 0.1),)), TrainSpec())
    assert plain.key() != changed.key()
    assert RunSpec.from_dict(changed.to_dict()) == changed


def test_run_keys_of_earlier_versions_stay_the_same():
    """Keys measured with the version before options and the renamed preset and head existed."""
    first = RunSpec(DataSpec("digits", limit_train=300), ModelSpec("lstm", 16), TrainSpec(epochs=3), seed=2)
    second = RunSpec(DataSpec(), ModelSpec("gru", 64, head="dense"), TrainSpec(preset="tuned"))
    assert (first.key(), second.key()) == ("7cc8ac64e26364b3", "f7b456caade1d9bc")


def test_earlier_spellings_are_the_same_specs():
    assert TrainSpec(preset="seed") == TrainSpec(preset="reference") == TrainSpec()
    assert ModelSpec(head="seed") == ModelSpec(head="batchnorm") == ModelSpec()


def _compare_spec(*args: str) -> ExperimentSpec:
    """The spec that ``rnnbench compare ARGS`` runs, from its flags as the command line parses them."""
    from rnnbench.cli.compare import compare
    from rnnbench.cli.options import grid_settings, training_settings

    flags = dict(compare.make_context("compare", list(args)).params)
    settings = grid_settings("compare", flags)
    settings["grid"]["seeds"] = flags.pop("seeds") or ExperimentSpec().seeds
    settings["train"] = training_settings(flags)
    return experiment_spec(settings)


def test_compare_takes_several_views_comma_separated():
    spec = _compare_spec("--dataset", "digits", "--view", "rows, patches:2,pixels")
    assert [data.view for data in spec.data] == ["rows", "patches:2", "pixels"]
    assert {dataclasses.replace(data, view="rows") for data in spec.data} == {DataSpec("digits")}
    assert spec.run_count() == 3 * len(spec.models) * len(spec.seeds)


def test_a_single_view_compares_with_the_run_keys_it_always_had():
    """The key pinned in test_run_keys_of_earlier_versions_stay_the_same, through the command line: with the default
    view, with it named, and as the first of several views."""
    common = ("--dataset", "digits", "--limit-train", "300", "--models", "lstm", "--units", "16", "--epochs", "3",
              "--seeds", "0,2")  # fmt: skip
    for views in ((), ("--view", "rows"), ("--view", "rows,pixels")):
        runs = _compare_spec(*common, *views).runs()
        assert [run.key() for run in runs if run.data.view == "rows" and run.seed == 2] == ["7cc8ac64e26364b3"]
    assert _compare_spec(*common) == _compare_spec(*common, "--view", "rows")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rows,,pixels", "has an empty view"),
        ("rows,", "has an empty view"),
        ("pixels,rows,pixels", "names pixels twice"),
    ],  # fmt: skip
)
def test_bad_view_lists_are_one_clear_error(text, message):
    from rnnbench.cli.options import parse_views

    with pytest.raises(RnnbenchError, match=message):
        parse_views(text)
