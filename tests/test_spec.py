import dataclasses
import json

import pytest

from rnnbench.errors import RnnbenchError
from rnnbench.spec import SEARCHED, DataSpec, ExperimentSpec, ModelSpec, Preset, RunSpec, TrainSpec, parse_seeds


def test_defaults_are_the_reference_experiment():
    spec = ExperimentSpec()
    assert spec.models == ("simplernn", "lstm", "gru")
    assert spec.units == (64,)
    (data,), (train,) = spec.data, spec.train
    assert data.name == "mnist" and data.view == "rows" and data.val_fraction == 0.1
    assert (train.optimizer, train.learning_rate) == ("sgd", 0.01)
    assert (train.batch_size, train.epochs) == (64, 10)
    assert spec.seeds == (0,)
    assert spec.backend == "jax"


@pytest.mark.parametrize(
    ("text", "seeds"), [("1", (0,)), ("3", (0, 1, 2)), ("0,3,7", (0, 3, 7)), ("7,", (7,)), (" 2 ", (0, 1))]
)
def test_parse_seeds(text, seeds):
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize("text", ["0", "-1", "a", "1,b", ",", "1,-2"])
def test_parse_seeds_rejects(text):
    with pytest.raises(RnnbenchError, match="--seeds"):
        parse_seeds(text)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: TrainSpec(epochs=0), "epochs must be a positive integer"),
        (lambda: TrainSpec(batch_size=-1), "batch_size must be a positive integer"),
        (lambda: TrainSpec(preset="nosuch"), "unknown preset 'nosuch'; known: long, reference, tuned"),
        (lambda: ModelSpec(units=0), "units must be a positive integer"),
        (lambda: DataSpec(val_fraction=1.0), "val_fraction must be in"),
        (lambda: DataSpec(limit_train=0), "limit_train must be a positive integer"),
        (lambda: ExperimentSpec(models=()), "the grid has no model"),
        (lambda: ExperimentSpec(models=("lstm", "lstm")), "a model is named twice"),
        (lambda: ExperimentSpec(seeds=(1, 1)), "a seed is named twice"),
        (lambda: ExperimentSpec(units=(0,)), "units must be a positive integer"),
        (lambda: TrainSpec(learning_rate_override=-1.0), "learning rate must be a number above 0 and at most 10"),
        (lambda: TrainSpec(learning_rate_override=float("inf")), "learning rate must be a number above 0"),
        (lambda: TrainSpec(learning_rate_override=1e300), "and at most 10, got 1e"),
        (lambda: TrainSpec(epochs=1_000_000), "epochs must be at most 100,000"),
        (lambda: ModelSpec(layers=100_000), "layers must be at most 100, got 100,000"),
        (lambda: ExperimentSpec(name=""), "name '' is empty"),
        (lambda: DataSpec(color="blue"), "color must be gray or rgb"),
    ],
)
def test_bad_values_are_rejected_on_construction(build, message):
    with pytest.raises(RnnbenchError, match=message):
        build()


def test_grid_is_every_model_times_every_seed():
    runs = ExperimentSpec(models=("lstm", "gru"), seeds=(0, 3)).runs()
    assert [(run.model.name, run.seed) for run in runs] == [("lstm", 0), ("lstm", 3), ("gru", 0), ("gru", 3)]


def test_the_grid_is_a_product_of_panels_widths_models_and_seeds():
    spec = ExperimentSpec(
        data=(DataSpec("digits"), DataSpec("digits", "columns")),
        train=(TrainSpec(), TrainSpec(epochs=3)),
        models=("lstm", "gru"),
        units=(8, 16),
        seeds=(0, 1, 2),
    )
    assert len(spec.panels()) == 4 and len(spec.runs()) == 4 * 2 * 2 * 3
    assert len({run.key() for run in spec.runs()}) == 48


def test_run_spec_round_trips_through_its_dict():
    spec = RunSpec(DataSpec("x", image_size=(8, 6), limit_train=5), ModelSpec("gru", 3), TrainSpec(epochs=2), seed=4)
    assert RunSpec.from_dict(__import__("json").loads(__import__("json").dumps(spec.to_dict()))) == spec


def test_run_key_is_stable_and_distinguishes_specs():
    spec = RunSpec(DataSpec("digits"), ModelSpec("lstm"), TrainSpec())
    assert spec.key() == RunSpec(DataSpec("digits"), ModelSpec("lstm"), TrainSpec()).key()
    assert len(spec.key()) == 16
    others = [
        RunSpec(DataSpec("digits"), ModelSpec("lstm"), TrainSpec(), seed=1),
        RunSpec(DataSpec("digits"), ModelSpec("gru"), TrainSpec()),
        RunSpec(DataSpec("digits"), ModelSpec("lstm", 32), TrainSpec()),
        RunSpec(DataSpec("digits"), ModelSpec("lstm"), TrainSpec(epochs=3)),
        RunSpec(DataSpec("mnist"), ModelSpec("lstm"), TrainSpec()),
    ]
    assert len({spec.key(), *(other.key() for other in others)}) == 1 + len(others)


CUSTOM = Preset("adamw", 3e-3, "chosen by a search", schedule="cosine", warmup_epochs=1.0, clipnorm=1.0,
                weight_decay=1e-4, label_smoothing=0.05)  # fmt: skip
SGD = Preset("sgd", 0.02, "chosen by a search", momentum=0.9, nesterov=True)
SPECS = {
    "simplernn reference": RunSpec(DataSpec(), ModelSpec("simplernn"), TrainSpec(preset="reference")),
    "lstm tuned": RunSpec(DataSpec(), ModelSpec("lstm"), TrainSpec(preset="tuned"), seed=3),
    "gru permuted": RunSpec(DataSpec("fashion_mnist", "permuted", permutation_seed=5), ModelSpec("gru", 32),
                            TrainSpec(epochs=5), seed=1),
    "cornn options": RunSpec(DataSpec("digits"), ModelSpec("cornn", 16, options=(("dt", 0.05), ("gamma", 2.0))),
                             TrainSpec(preset="tuned"), seed=2),
    "structure": RunSpec(DataSpec("digits", val_fraction=0.0),
                         ModelSpec("lstm", 8, layers=2, bidirectional=True, dropout=0.25, head="dense",
                                   param_budget=5000),
                         TrainSpec(batch_size=32, learning_rate_override=0.003, test_each_epoch=True), seed=7),
    "image folder": RunSpec(DataSpec("/data/images", image_size=(32, 24), color="rgb", limit_test=50),
                            ModelSpec("gru"), TrainSpec(), seed=4),
    "searched final": RunSpec(DataSpec(), ModelSpec("lstm"), TrainSpec(SEARCHED, batch_size=128, custom=CUSTOM,
                                                                       search="comparison-1a2b3c4d"), seed=1_000_000),
    "searched trial": RunSpec(DataSpec(), ModelSpec("gru"), TrainSpec(SEARCHED, batch_size=32, epochs=9, custom=SGD,
                                                                      validation_only=True, stop_epoch=3), seed=5),
}  # fmt: skip


@pytest.mark.parametrize(
    ("name", "key", "checkpoint_key"),
    [
        ("simplernn reference", "f3c4a73e103dc5f0", "f3c4a73e103dc5f0"),
        ("lstm tuned", "3d7f4c6b37e6dcb6", "3d7f4c6b37e6dcb6"),
        ("gru permuted", "f34d7b77fb573e2d", "f34d7b77fb573e2d"),
        ("cornn options", "049e8d795d62d3e7", "049e8d795d62d3e7"),
        ("structure", "02a69fee3895af80", "02a69fee3895af80"),
        ("image folder", "1dba250d94bfaa27", "1dba250d94bfaa27"),
        ("searched final", "1397c99cf410ecf5", "1397c99cf410ecf5"),
        ("searched trial", "5c111ea1bbe7851b", "c5c9f896b496b32f"),
    ],
)
def test_run_keys_stay_the_same(name, key, checkpoint_key):
    """Keys of runs already stored: a changed key would train them again."""
    spec = SPECS[name]
    assert (spec.key(), spec.checkpoint_key()) == (key, checkpoint_key)
    assert RunSpec.from_dict(_through_json(spec.to_dict())).key() == key


def _through_json(values):
    return json.loads(json.dumps(values))


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_spec_round_trips_through_its_stored_form(name):
    run = SPECS[name]
    assert RunSpec.from_dict(_through_json(run.to_dict())) == run
    assert DataSpec.from_dict(_through_json(dataclasses.asdict(run.data))) == run.data
    assert ModelSpec.from_dict(_through_json(dataclasses.asdict(run.model))) == run.model
    assert TrainSpec.from_dict(_through_json(dataclasses.asdict(run.train))) == run.train
    recipe = run.train.recipe
    assert Preset.from_dict(_through_json(recipe.to_dict())) == recipe


def test_an_experiment_round_trips_through_its_stored_form():
    experiment = ExperimentSpec(
        "grid",
        data=(DataSpec("digits"), DataSpec("/data/images", "columns", image_size=(16, 12), color="rgb")),
        train=(TrainSpec(), TrainSpec(preset="tuned", epochs=3), SPECS["searched final"].train),
        models=("lstm", "cornn"),
        units=(8, 16),
        seeds=(0, 3),
        match_params=(1000,),
        structure=ModelSpec(layers=2, bidirectional=True, head="dense"),
        model_options=(("cornn", (("dt", 0.05), ("gamma", 2.0))),),
    )
    assert ExperimentSpec.from_dict(_through_json(experiment.to_dict())) == experiment
    assert ExperimentSpec.from_dict(_through_json(ExperimentSpec().to_dict())) == ExperimentSpec()


def test_a_whole_learning_rate_is_a_float_to_the_optimizer():
    assert TrainSpec(learning_rate_override=10).learning_rate == 10.0
    assert isinstance(TrainSpec(learning_rate_override=10).learning_rate, float)
