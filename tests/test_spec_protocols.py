"""Named long-sequence protocols: what they resolve to, how given settings override them, and the consistency of
their published figures."""

from __future__ import annotations

import pytest

from rnnbench.data import dataset_info, get_view
from rnnbench.errors import RnnbenchError
from rnnbench.models import list_models
from rnnbench.spec import PRESETS
from rnnbench.spec.builder import experiment_spec
from rnnbench.spec.experiment_file import load_experiment_file
from rnnbench.spec.protocols import PROTOCOLS, chosen_text, get_protocol, protocol_reading, with_protocol


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_a_protocol_names_a_registered_data_set_a_view_and_a_preset(name):
    protocol = PROTOCOLS[name]
    assert dataset_info(protocol.dataset).classes == 10
    assert get_view(protocol.view).name == protocol.view
    assert protocol.preset in PRESETS


def test_the_tasks_are_those_of_the_literature():
    assert [(p.name, p.dataset, p.view) for p in PROTOCOLS.values()] == [
        ("smnist", "mnist", "pixels"), ("psmnist", "mnist", "permuted"), ("scifar", "cifar10:rgb", "pixels"),
    ]  # fmt: skip
    assert dataset_info("cifar10:rgb").image_shape == (32, 32, 3)  # 1,024 steps of 3 channels read by pixels


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_every_published_figure_is_of_a_registered_cell_in_range_with_a_source(name):
    registered = {info.name for info in list_models()}
    figures = PROTOCOLS[name].published
    for figure in figures:
        assert figure.model in registered
        assert 0.0 <= figure.test_accuracy <= 100.0
        assert figure.variant and figure.source.paper and figure.source.where and figure.source.checked
    assert len({figure.model for figure in figures}) == len(figures), "one figure per cell and task"


def test_a_protocol_resolves_to_its_data_set_view_and_recipe():
    spec = experiment_spec({"protocol": "psmnist", "grid": {"models": ["lstm"]}})
    assert [(data.name, data.view) for data in spec.data] == [("mnist", "permuted")]
    assert [(train.preset, train.epochs, train.batch_size) for train in spec.train] == [("long", 50, 128)]


def test_a_run_through_a_protocol_has_the_key_of_the_same_run_given_flag_by_flag():
    through = experiment_spec({"protocol": "smnist", "grid": {"models": ["gru"]}})
    spelled = experiment_spec({"grid": {"models": ["gru"], "datasets": ["mnist"], "views": ["pixels"]},
                               "train": {"preset": "long", "epochs": 50, "batch_size": 128}})  # fmt: skip
    assert [run.key() for run in through.runs()] == [run.key() for run in spelled.runs()]


def test_given_settings_override_the_protocols_choices():
    spec = experiment_spec({"protocol": "smnist", "grid": {"views": ["rows"], "presets": ["tuned", "reference"]},
                            "train": {"epochs": 2}})  # fmt: skip
    assert [data.view for data in spec.data] == ["rows"]
    assert [(train.preset, train.epochs, train.batch_size) for train in spec.train] == [
        ("tuned", 2, 128), ("reference", 2, 128),
    ]  # fmt: skip


def test_with_protocol_leaves_the_given_settings_alone():
    given = {"protocol": "scifar", "train": {"epochs": 3}}
    assert with_protocol(given)["train"] == {"epochs": 3, "preset": "long", "batch_size": 128}
    assert given == {"protocol": "scifar", "train": {"epochs": 3}}
    assert with_protocol({"grid": {"models": ["lstm"]}}) == {"grid": {"models": ["lstm"]}}
    assert with_protocol({"protocol": "smnist", "grid": None})["grid"] == {"datasets": ["mnist"], "views": ["pixels"]}


def test_an_unknown_protocol_is_one_error_listing_the_known_ones():
    with pytest.raises(RnnbenchError, match=r"unknown protocol 'smnst'; known: psmnist, scifar, smnist"):
        experiment_spec({"protocol": "smnst"})
    assert get_protocol(" SMNIST ") is PROTOCOLS["smnist"]


def test_the_task_of_a_panel_is_found_by_data_set_and_view():
    assert protocol_reading("mnist", "pixels") is PROTOCOLS["smnist"]
    assert protocol_reading("mnist", "permuted") is PROTOCOLS["psmnist"]
    assert protocol_reading("mnist", "rows") is None
    assert protocol_reading("cifar10", "pixels") is None  # the grayscale CIFAR-10 is not the task of the papers


def test_the_line_saying_what_a_protocol_chose_names_what_was_given_instead():
    text = chosen_text(PROTOCOLS["smnist"], {"grid": {"models": ["lstm"]}, "train": {"epochs": 3}})
    assert text.startswith("protocol smnist (sequential MNIST")
    assert "data set mnist, view pixels, preset long, batch size 128" in text
    assert text.endswith("; given instead of its epochs 50")
    everything = {"grid": {"datasets": ["digits"], "views": ["rows"], "presets": ["tuned"]},
                  "train": {"epochs": 1, "batch_size": 8}}  # fmt: skip
    assert chosen_text(PROTOCOLS["smnist"], everything) == (
        "protocol smnist (sequential MNIST: 784 pixels one at a time); given instead of its data set mnist, view "
        "pixels, preset long, epochs 50, batch size 128"
    )


def test_an_experiment_file_names_a_protocol(tmp_path):
    path = tmp_path / "long.toml"
    path.write_text('protocol = "psmnist"\n[grid]\nmodels = ["lem"]\n[train]\nepochs = 4\n')
    spec, _ = load_experiment_file(path)
    assert spec == experiment_spec({"name": "long", "protocol": "psmnist", "grid": {"models": ["lem"]},
                                    "train": {"epochs": 4}})  # fmt: skip
    assert (spec.data[0].view, spec.train[0].preset, spec.train[0].epochs) == ("permuted", "long", 4)
