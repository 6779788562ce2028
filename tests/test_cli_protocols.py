"""``rnnbench protocols`` and ``compare --protocol``: the tasks with their published figures, the line saying what a
protocol chose, and flags given on the command line overriding it."""

from __future__ import annotations

from pathlib import Path

from rnnbench.cli import main
from rnnbench.results.store import Store
from rnnbench.spec.builder import experiment_spec


def test_protocols_list_names_every_task_with_its_published_figures(capsys):
    assert main(["protocols", "list"]) == 0
    out = capsys.readouterr().out
    for text in ("smnist", "psmnist", "scifar", "cifar10:rgb", "permuted", "preset long", "cornn 99.4", "lru 89"):
        assert text in out


def test_protocols_show_gives_each_figure_its_variant_and_source(capsys):
    assert main(["protocols", "show", "PSMNIST"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # the table wraps its cells
    assert "psmnist: permuted sequential MNIST" in out and "Adam" in out
    assert "97.34" in out and "256 units" in out and "github.com/tk-rusch/coRNN" in out
    assert "not measured by rnnbench" in out


def test_a_flag_given_overrides_the_protocol_and_the_run_is_the_one_spelled_out(capsys):
    flags = ["--models", "gru", "--units", "2", "--seeds", "1", "--limit-train", "60", "--limit-test", "20",
             "--no-report"]  # fmt: skip
    assert main(["compare", "--protocol", "smnist", "--dataset", "digits", "--epochs", "1", *flags]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == (
        "protocol smnist (sequential MNIST: 784 pixels one at a time): view pixels, preset long, batch "
        "size 128; given instead of its data set mnist, epochs 50"
    )
    with Store.read(Path("rnnbench.db")) as store:
        (run,) = store.runs()
    assert (run.spec.data.view, run.spec.train.preset, run.spec.train.batch_size) == ("pixels", "long", 128)
    spelled = experiment_spec({"grid": {"models": ["gru"], "datasets": ["digits"], "views": ["pixels"],
                                        "units": [2], "seeds": 1},
                               "train": {"preset": "long", "epochs": 1, "batch_size": 128},
                               "data": {"limit_train": 60, "limit_test": 20}})  # fmt: skip
    assert [spec.key() for spec in spelled.runs()] == [run.run_key]
