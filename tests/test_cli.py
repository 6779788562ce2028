"""The command line end to end: in-process through main(), and as a real process for the entry point."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from model_contract import registered_names
from rnnbench.cli import main
from rnnbench.data import builtin
from rnnbench.results.store import Store

KNOWN_MODELS = ", ".join(registered_names())

TINY = [
    "--dataset",
    "digits",
    "--epochs",
    "2",
    "--limit-train",
    "300",
    "--limit-test",
    "100",
    "--units",
    "8",
    "--jobs",
    "1",
]


def tiny(*changes: str) -> list[str]:
    """TINY with the options of ``changes`` given their new values (an option given twice is refused)."""
    changed = {arg for arg in changes if arg.startswith("--")}
    pairs = zip(TINY[::2], TINY[1::2], strict=True)
    return [*(arg for option, value in pairs if option not in changed for arg in (option, value)), *changes]


def _one_line_error(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    return lines[0]


@pytest.fixture(scope="module")
def digits_comparison(tmp_path_factory):
    """One tiny comparison of the three classic cells on digits, 2 seeds, with its summary JSON."""
    folder = tmp_path_factory.mktemp("summary")
    path = folder / "out" / "summary.json"
    # A module fixture runs before the per-test move into a temporary folder: keep the store and report out of the
    # working directory too.
    outputs = ["--store", str(folder / "rnnbench.db"), "--out", str(folder / "report")]
    assert main(["compare", *TINY, "--seeds", "2", "--json", str(path), *outputs]) == 0
    return json.loads(path.read_text())


def test_summary_json_has_the_documented_fields(digits_comparison):
    summary = digits_comparison
    assert summary["rnnbench_version"] == "0.1.0"
    assert summary["dataset"] == {
        "name": "digits", "view": "rows", "steps": 8, "features": 8, "classes": 10,
        "train": 270, "val": 30, "test": 100, "image_shape": [8, 8, 1], "class_names": list("0123456789"),
    }  # fmt: skip
    protocol = summary["protocol"]
    assert {k: protocol[k] for k in ("preset", "optimizer", "learning_rate", "batch_size", "epochs")} == {
        "preset": "reference", "optimizer": "sgd", "learning_rate": 0.01, "batch_size": 64, "epochs": 2,
    }  # fmt: skip
    assert protocol["val_fraction"] == 0.1
    assert summary["backend"] == "jax" and summary["device"] == "cpu" and summary["wall_seconds"] > 0
    runs = summary["runs"]
    assert [(run["model"], run["seed"]) for run in runs] == [
        ("simplernn", 0), ("simplernn", 1), ("lstm", 0), ("lstm", 1), ("gru", 0), ("gru", 1),
    ]  # fmt: skip
    for run in runs:
        assert run["status"] == "finished" and run["units"] == 8
        assert set(run) >= {
            "params", "trainable_params", "best_epoch", "best_val_accuracy", "test_accuracy",
            "test_accuracy_at_best", "train_seconds", "setup_seconds", "latency_ms", "images_per_second",
        }  # fmt: skip
        assert run["latency_ms"] > 0 and run["images_per_second"] > 0 and run["setup_seconds"] > 0
        assert [epoch["epoch"] for epoch in run["epochs"]] == [1, 2]
        assert set(run["epochs"][0]) == {
            "epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds", "test_accuracy",
        }  # fmt: skip
        assert run["epochs"][0]["test_accuracy"] is None  # measured per epoch only with --test-each-epoch
    assert [model["model"] for model in summary["summary"]] == ["simplernn", "lstm", "gru"]
    for model in summary["summary"]:
        assert model["n"] == 2
        low, high = model["ci95"]
        assert low <= model["test_accuracy_mean"] <= high
        accuracies = [run["test_accuracy"] for run in runs if run["model"] == model["model"]]
        assert model["test_accuracy_mean"] == pytest.approx(sum(accuracies) / 2)
        latencies = sorted(run["latency_ms"] for run in runs if run["model"] == model["model"])
        assert model["latency_ms"] == pytest.approx(sum(latencies) / 2)  # the median of two


def test_the_table_is_printed(capsys):
    assert main(["compare", *TINY, "--models", "gru", "--quiet", "--no-report"]) == 0
    out = capsys.readouterr().out
    assert "gru" in out and "best val acc %" in out and "s/epoch" in out
    assert "epoch 1/2" not in out  # --quiet prints only the table
    assert not Path("rnnbench-report").exists()


def test_compare_at_several_views_prints_and_reports_the_models_across_lengths(capsys):
    args = tiny("--epochs", "1", "--limit-train", "100", "--units", "4")
    assert main(["compare", *args, "--models", "gru", "--view", "rows,pixels", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "Sequence length: digits, preset reference, 1 epoch" in out
    assert out.count("digits read by") == 2  # a comparison table per view
    html = Path("rnnbench-report/report.html").read_text()
    assert 'id="sequence-length"' in html and 'data-plot="epoch_time_vs_length"' in html


def test_progress_is_plain_lines_without_carriage_returns(capsys):
    assert main(["compare", *tiny("--epochs", "3"), "--models", "simplernn"]) == 0
    out = capsys.readouterr().out
    assert "\r" not in out
    assert "[1/1] simplernn seed 0 epoch 3/3" in out
    assert "finished: test accuracy" in out
    assert out.rstrip().endswith(f"report written to {Path('rnnbench-report/report.html').resolve()}")
    assert Path("rnnbench-report/report.html").is_file()


def test_mnist_shaped_npz_gives_the_reference_parameter_counts(mnist_shaped_npz, tmp_path):
    path = tmp_path / "out.json"
    code = main(
        ["compare", "--dataset", str(mnist_shaped_npz), "--epochs", "1", "--json", str(path), "--quiet", "--no-report"]
    )
    assert code == 0
    summary = json.loads(path.read_text())
    assert {run["model"]: run["params"] for run in summary["runs"]} == {
        "simplernn": 6858, "lstm": 24714, "gru": 18954,
    }  # fmt: skip
    assert (summary["dataset"]["steps"], summary["dataset"]["features"]) == (28, 28)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--dataset", "nosuch"],
            "unknown data set 'nosuch'; known: mnist, fashion_mnist, kmnist, cifar10, cifar10:rgb, digits, or a path",
        ),
        (["--models", "lstm,nosuch"], f"unknown model 'nosuch'; known: {KNOWN_MODELS}"),
        (["--dataset", "missing/file.npz"], "data set path 'missing/file.npz' does not exist"),
        (["--epochs", "0"], "Invalid value for '--epochs': 0 is not in the range x>=1"),
        (["--units", "-3"], "Invalid value for '--units'"),
        (["--epochs", "ten"], "Invalid value for '--epochs': 'ten' is not a valid integer"),
        (["--seeds", "0"], "--seeds 0: a count must be at least 1"),
        (["--view", "spiral"], "unknown view 'spiral'; known: rows, columns"),
        (["--view", "patches:5", "--dataset", "digits"], "patches:5 does not divide the 8 x 8 image"),
        (["--backend", "theano"], "Invalid value for '--backend'"),
        (["--val-fraction", "1"], "Invalid value for '--val-fraction'"),
        (["--units", "32", "--match-params", "20000"], "--units and --match-params exclude each other"),
        (["--dropout", "1.5"], "Invalid value for '--dropout'"),
        (["--head", "mlp"], "Invalid value for '--head'"),
        (["--nosuch-flag"], "No such option '--nosuch-flag'; see 'rnnbench compare --help'"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, args, message):
    assert main(["compare", *args]) == 2
    line = _one_line_error(capsys)
    assert line.startswith("rnnbench: error: ")
    assert message in line


def test_malformed_npz_exits_2_naming_the_file(tmp_path, capsys):
    path = tmp_path / "broken.npz"
    path.write_bytes(b"\x00" * 64)
    assert main(["compare", "--dataset", str(path)]) == 2
    assert f"{path}: not a readable .npz file" in _one_line_error(capsys)


def test_unavailable_mnist_exits_2_pointing_to_digits(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RNNBENCH_DATA", str(tmp_path))
    monkeypatch.setattr(builtin, "MNIST", replace(builtin.MNIST, mirrors=("http://127.0.0.1:9/m.npz",)))
    assert main(["compare", "--epochs", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(err)
    assert err[-1].startswith("rnnbench: error: mnist is unavailable") and "--dataset digits" in err[-1]


def test_models_and_datasets_are_listed(capsys):
    assert main(["models", "list"]) == 0
    assert main(["datasets", "list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in (*registered_names(), "digits", "mnist"))


def _rnnbench(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "rnnbench", *args], capture_output=True, text=True, env=environment, timeout=300
    )


def test_the_entry_point_exits_2_without_a_traceback():
    process = _rnnbench("compare", "--dataset", "nosuch")
    assert process.returncode == 2
    assert process.stderr.strip() == (
        "rnnbench: error: unknown data set 'nosuch'; known: mnist, fashion_mnist, kmnist, cifar10, cifar10:rgb, "
        "digits, or a path (.npz, idx folder, image folder)"
    )


def test_keras_backend_in_the_environment_does_not_change_the_backend(tmp_path: Path):
    path = tmp_path / "s.json"
    process = _rnnbench(
        "compare", *tiny("--epochs", "1"), "--models", "simplernn", "--json", str(path), "--quiet", "--no-report",
        env={"KERAS_BACKEND": "tensorflow"},
    )  # fmt: skip
    assert process.returncode == 0, process.stderr
    assert json.loads(path.read_text())["backend"] == "jax"


def test_models_info_shows_equations_parameters_and_paper(capsys):
    assert main(["models", "info", "LSTM"]) == 0
    out = capsys.readouterr().out
    assert "h_t = o*tanh(c_t)" in out and "Hochreiter & Schmidhuber" in out
    assert (
        "24,714 (24,586 trainable) with 64 units, 1 layer, batchnorm head, 10 classes, on 28 steps x 28 features" in out
    )
    assert "options:    none" in out
    # Pixel by pixel, 128 units, two stacked bidirectional layers, Dense head: 2 * (n (d + 2)) per layer, then Dense.
    args = ["--input-shape", "784,1", "--units", "128", "--layers", "2", "--bidirectional", "--head", "dense"]
    assert main(["models", "info", "indrnn", *args]) == 0
    expected = 2 * 128 * (1 + 2) + 2 * 128 * (256 + 2) + 256 * 10 + 10
    assert f"{expected:,} ({expected:,} trainable) with 128 units, 2 bidirectional layers" in capsys.readouterr().out


def test_models_info_lists_a_cells_options_and_counts_with_them(capsys):
    assert main(["models", "info", "cornn"]) == 0
    out = capsys.readouterr().out
    assert "options:    dt = 0.042 (> 0)" in out and "gamma = 2.7 (>= 0)" in out and "epsilon = 4.7 (>= 0)" in out
    assert main(["models", "info", "lru", "--cell-option", "r_min=0.5"]) == 0


def test_a_cell_option_reaches_the_run_and_its_table(tmp_path, capsys):
    store = tmp_path / "s.db"
    args = ["compare", *tiny("--epochs", "1"), "--models", "cornn,gru", "--cell-option", "dt=0.1", "--quiet"]
    assert main([*args, "--store", str(store), "--no-report"]) == 0
    out = capsys.readouterr().out
    assert "│ cornn dt=0.1 │" in out and "│ gru          │" in out
    with Store.read(store) as opened:
        assert {run.spec.model.name: run.spec.model.options for run in opened.runs()} == {
            "cornn": (("dt", 0.1),), "gru": (),
        }  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--models", "cornn", "--cell-option", "dt=-1"], "model 'cornn' option dt=-1 is out of range; it must be > 0"),
        (["--models", "cornn", "--cell-option", "dt=fast"], "model 'cornn' option dt must be a number, got 'fast'"),
        (["--models", "lstm", "--cell-option", "dt=0.1"], "no model compared here has the option 'dt'"),
        (["--models", "cornn", "--cell-option", "cornn.speed=1"], "model 'cornn' has no option 'speed'; its options"),
        (["--models", "cornn", "--cell-option", "dt"], "--cell-option 'dt' is not KEY=VALUE"),
    ],
)
def test_a_bad_cell_option_exits_2_with_one_line_before_anything_is_stored(tmp_path, capsys, args, message):
    store = tmp_path / "s.db"
    assert main(["compare", "--dataset", "digits", *args, "--store", str(store)]) == 2
    assert message in _one_line_error(capsys)
    assert not store.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nosuch"], f"unknown model 'nosuch'; known: {KNOWN_MODELS}"),
        (["gru", "--input-shape", "28"], "--input-shape '28' is not a shape; write STEPS,FEATURES (e.g. 28,28)"),
        (["gru", "--units", "0"], "Invalid value for '--units'"),
    ],
)
def test_models_info_bad_input_exits_2_with_one_line(capsys, args, message):
    assert main(["models", "info", *args]) == 2
    assert message in _one_line_error(capsys)


@pytest.mark.parametrize(("backend", "extra"), [("tensorflow", "rnnbench[tensorflow]"), ("torch", "rnnbench[torch]")])
def test_a_backend_that_cannot_be_imported_names_its_extra(backend, extra):
    # sys.modules[name] = None is how Python marks a module that must not be imported: the same as not installed.
    code = f"import sys; sys.modules[{backend!r}] = None; from rnnbench.cli import main; sys.exit(main(sys.argv[1:]))"
    process = subprocess.run(
        [sys.executable, "-c", code, "compare", "--dataset", "digits", "--backend", backend],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert process.returncode == 2
    assert process.stderr.strip() == (
        f"rnnbench: error: backend '{backend}' is not installed; install it with: pip install '{extra}'"
    )


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed (rnnbench[torch])")
def test_compare_on_torch_in_worker_processes(tmp_path: Path):
    """The backend reaches the workers: two runs on two torch workers, counted as on JAX, with seeded dropout."""
    path = tmp_path / "s.json"
    args = tiny("--epochs", "1", "--limit-train", "100", "--limit-test", "50", "--jobs", "2")
    process = _rnnbench(
        "compare", *args, "--models", "lru,gru", "--dropout", "0.2", "--backend", "torch", "--json", str(path),
        "--quiet", env={"TF_CPP_MIN_LOG_LEVEL": "2"},
    )  # fmt: skip
    assert process.returncode == 0, process.stderr
    summary = json.loads(path.read_text())
    assert summary["backend"] == "torch" and summary["device"] == "cpu"
    runs = {run["model"]: run for run in summary["runs"]}
    assert {name: run["status"] for name, run in runs.items()} == {"lru": "finished", "gru": "finished"}
    # 8 units on 8 x 8 digits rows, BatchNormalization + Dense(10): the recurrent formulas of the contract test.
    assert runs["lru"]["params"] == 8 * (3 * 8 + 2 * 8 + 3) + 4 * 8 + 8 * 10 + 10
    assert runs["gru"]["params"] == 3 * 8 * (8 + 8 + 2) + 4 * 8 + 8 * 10 + 10


def test_datasets_show_never_replaces_a_file_it_was_not_given(tmp_path, capsys):
    assert main(["datasets", "show", "digits"]) == 0  # the tests work in tmp_path
    drawn = (tmp_path / "view.png").read_bytes()
    assert main(["datasets", "show", "digits", "--index", "5"]) == 2
    assert "view.png exists already" in _one_line_error(capsys)
    assert (tmp_path / "view.png").read_bytes() == drawn
    assert main(["datasets", "show", "digits", "--index", "5", "--out", "view.png"]) == 0  # named: replaced
    assert (tmp_path / "view.png").read_bytes() != drawn


@pytest.mark.parametrize(
    ("out", "message"),
    [("x.txt", "pictures are written as .png, .svg, .pdf"), ("file.png/inner.png", "is a file, not a folder")],
)
def test_datasets_show_refuses_a_picture_it_cannot_write_in_one_line(tmp_path, capsys, out, message):
    (tmp_path / "file.png").write_bytes(b"")
    assert main(["datasets", "show", "digits", "--out", out]) == 2
    assert message in _one_line_error(capsys)


def test_datasets_info_on_a_set_not_cached_says_so_and_downloads_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RNNBENCH_DATA", str(tmp_path / "cache"))
    # Any attempt to download would reach this closed port and fail; info must not try.
    monkeypatch.setattr(builtin, "MNIST", replace(builtin.MNIST, mirrors=("http://127.0.0.1:9/m.npz",)))
    assert main(["datasets", "info", "mnist"]) == 0
    captured = capsys.readouterr()
    assert "60,000 train / 10,000 test images of 28 x 28 x 1" in captured.out
    assert "not cached" in captured.out and "rnnbench datasets fetch mnist" in captured.out
    assert captured.err == "" and not any((tmp_path / "cache").rglob("*.npz"))
