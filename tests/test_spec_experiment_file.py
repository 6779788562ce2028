import os
import textwrap

import pytest

from rnnbench.errors import RnnbenchError
from rnnbench.spec import DataSpec, TrainSpec
from rnnbench.spec.experiment_file import load_experiment_file

GOOD = """
name = "classic-comparison"

[grid]
models = ["simplernn", "LSTM", "gru"]
datasets = ["digits", "mnist"]
views = ["rows", "columns"]
units = [16, 32]
seeds = 3

[train]
preset = "seed"
epochs = 4
batch_size = 32
val_fraction = 0.2

[data]
limit_train = 100
"""


def _load(path):
    return load_experiment_file(path)[0]


def write(tmp_path, text):
    path = tmp_path / "experiment.toml"
    path.write_text(textwrap.dedent(text))
    return path


def test_every_list_is_an_axis(tmp_path):
    spec = _load(write(tmp_path, GOOD))
    assert spec.name == "classic-comparison"
    assert spec.models == ("simplernn", "lstm", "gru") and spec.units == (16, 32) and spec.seeds == (0, 1, 2)
    assert spec.data[0] == DataSpec("digits", "rows", 0.2, limit_train=100)
    assert [(d.name, d.view) for d in spec.data] == [
        ("digits", "rows"), ("digits", "columns"), ("mnist", "rows"), ("mnist", "columns"),
    ]  # fmt: skip
    assert spec.train == (TrainSpec("seed", 32, 4),)
    assert len(spec.runs()) == 4 * 2 * 3 * 3


def test_defaults_are_the_reference_experiment(tmp_path):
    spec = _load(write(tmp_path, "[grid]\nseeds = [0, 3, 7]\n"))
    assert spec.name == "experiment" and spec.seeds == (0, 3, 7)
    assert spec.data == (DataSpec(),) and spec.train == (TrainSpec(),) and spec.units == (64,)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[train]\nepochs = 3\nepoch = 4\n", r"experiment.toml:3: \[train\] epoch is not a known key; known: preset"),
        (
            '[grid]\nunits = [64, "x"]\n',
            r"experiment.toml:2: \[grid\] units must be a list of integers, got \[64, 'x'\]",
        ),
        ('[train]\n\nepochs = "ten"\n', r"experiment.toml:3: \[train\] epochs must be an integer, got 'ten'"),
        ("colour = 1\n", r"experiment.toml:1: colour is not a known key"),
        ("[gird]\nmodels = []\n", r"experiment.toml:1: \[gird\] is not a known table"),
        ("[grid]\nmodels = []\n", r"experiment.toml:2: \[grid\] models must be a list of strings"),
        ("[grid\nmodels = 1\n", r"experiment.toml: not valid TOML"),
        ("[train]\nepochs = 0\n", r"experiment.toml: epochs must be a positive integer"),
        ('[grid]\npresets = ["x"]\n', r"experiment.toml: unknown preset 'x'"),
        ('[grid]\npresets = ["seed"]\n[train]\npreset = "seed"\n', r"and \[grid\] presets both given"),
    ],
)
def test_mistakes_name_the_key_and_line(tmp_path, text, message):
    with pytest.raises(RnnbenchError, match=message):
        _load(write(tmp_path, text))


def test_model_structure_and_parameter_budgets(tmp_path):
    text = "[grid]\nmatch_params = [5000, 20000]\n[model]\nlayers = 2\nbidirectional = true\ndropout = 0.1\n"
    text += 'head = "dense"\n'
    spec = _load(write(tmp_path, text))
    assert spec.match_params == (5000, 20000) and spec.units == ()
    assert (spec.structure.layers, spec.structure.bidirectional, spec.structure.dropout) == (2, True, 0.1)
    assert spec.structure.head == "dense" and spec.run_count() == 2 * 3
    with pytest.raises(RnnbenchError, match=r"experiment.toml:3: \[grid\] match_params and \[grid\] units both"):
        _load(write(tmp_path, "[grid]\nunits = [8]\nmatch_params = [100]\n"))
    with pytest.raises(RnnbenchError, match=r"experiment.toml:2: \[model\] bidirectional must be true or false"):
        _load(write(tmp_path, "[model]\nbidirectional = 1\n"))


def test_a_missing_file(tmp_path):
    with pytest.raises(RnnbenchError, match="cannot read experiment file"):
        _load(tmp_path / "nope.toml")


def test_a_search_table_gives_the_search_options(tmp_path):
    from rnnbench.spec.experiment_file import load_experiment_file

    path = tmp_path / "tuned.toml"
    path.write_text('[grid]\nmodels = ["gru"]\n[search]\ntrials = 7\nfinal_seeds = 2\n[search.space]\n'
                    'optimizer = "adam"\nlearning_rate = { low = 1e-3, high = 1e-2, log = true }\n')  # fmt: skip
    spec, search = load_experiment_file(path)
    assert spec.models == ("gru",)
    assert search is not None and (search.trials, search.final_seeds, search.pruner) == (7, 2, "asha")
    assert search.space.dimension("optimizer").choices == ("adam",)
    assert load_experiment_file(tmp_path / "tuned.toml")[0] == spec
    plain = tmp_path / "plain.toml"
    plain.write_text('[grid]\nmodels = ["gru"]\n')
    assert load_experiment_file(plain)[1] is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[search]\ntrials = 0\n", "bad.toml:2: [search] trials is not accepted: --trials must be from 1 to 10,000"),
        ("[search]\nrounds = 3\n", "bad.toml:2: [search] rounds is not a known key; known: trials, search_seed"),
        ("[search]\n[search.space]\nschedule = []\n", "bad.toml:3: schedule has no choices; give at least one"),
    ],
)
def test_a_bad_search_table_names_its_line_and_key(tmp_path, text, message):
    from rnnbench.spec.experiment_file import load_experiment_file

    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(RnnbenchError) as raised:
        load_experiment_file(path)
    assert str(raised.value).startswith(f"{tmp_path}/{message}")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"experiment.toml: the experiment has no \[grid\] table"),
        ('name = "x"\n[train]\nepochs = 2\n', r"experiment.toml: the experiment has no \[grid\] table"),
        ('name = ""\n[grid]\nmodels = ["gru"]\n', r"experiment.toml: the experiment's name '' is empty"),
        ("[grid]\n[train]\nlearning_rate = inf\n", r"learning rate must be a number above 0 and at most 10, got inf"),
        ("[grid]\n[train]\nlearning_rate = 1e300\n", r"learning rate must be a number above 0 and at most 10"),
        ("[grid]\n[search.space]\nlearning_rate = { low = 1e-4, high = inf, log = true }\n",
         r"experiment.toml:3: learning_rate: bound inf is not a number above 0 and at most 10"),
    ],
)  # fmt: skip
def test_nonsense_is_refused_in_one_line(tmp_path, text, message):
    with pytest.raises(RnnbenchError, match=message):
        load_experiment_file(write(tmp_path, text))


def test_an_experiment_file_that_is_not_a_regular_file_is_refused_before_it_is_opened(tmp_path):
    fifo = tmp_path / "experiment.toml"
    os.mkfifo(fifo)  # opening it would wait for a writer forever
    with pytest.raises(RnnbenchError, match="is not a regular file"):
        load_experiment_file(fifo)
    large = tmp_path / "large.toml"
    large.write_bytes(b"#" * (2 << 20))
    with pytest.raises(RnnbenchError, match="is over 1 MiB"):
        load_experiment_file(large)
