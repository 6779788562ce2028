"""The Ray executor on a real two-node Ray cluster on this machine (127.0.0.1 only), shut down at the end.

Every comparison runs as a user runs it: the command line in its own process, joined to the cluster with --address.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import rnnbench
from rnnbench.data.prepare import prepare_data
from rnnbench.data.source import DataSource
from rnnbench.executors import ExecutionContext
from rnnbench.executors.ray_cluster import RayExecutor, _Task, train_events
from rnnbench.models.model_file import read_card
from rnnbench.results.store import Store
from rnnbench.spec import ClusterOptions, DataSpec, ModelSpec, RunSpec, TrainSpec

# Ray binds every process to the machine's network address unless told, before it is imported, that it runs on one
# machine: keep the clusters, and the command lines that join them, on 127.0.0.1.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'rnnbench[ray]')")
from ray.cluster_utils import Cluster  # noqa: E402

SMALL = ["--dataset", "digits", "--models", "simplernn,lstm", "--seeds", "2", "--epochs", "3"]
# Long enough (about 0.2 s an epoch) to interrupt mid-run: one run per node.
LONG = ["--dataset", "digits", "--view", "pixels", "--models", "lstm", "--seeds", "2", "--epochs", "20"]


@pytest.fixture(scope="module")
def cluster():
    """A head and one worker node, one CPU each."""
    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    nodes.add_node(num_cpus=1)
    nodes.wait_for_nodes()
    try:
        yield nodes
    finally:
        nodes.shutdown()


def _command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "rnnbench", *arguments]


def _rnnbench(*arguments: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(_command(*arguments), capture_output=True, text=True, timeout=timeout)


def _on_ray(cluster, *arguments: str, quiet: bool = True) -> list[str]:
    return [*arguments, "--executor", "ray", "--address", cluster.address, "--no-report", *(["--quiet"] * quiet)]


def _contents(store: Path) -> dict[str, tuple]:
    """Per run: status, retries, test accuracies and every epoch's metrics (wall-clock seconds left out)."""
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as connection:
        runs = connection.execute(
            "SELECT r.run_key, r.status, s.test_accuracy, s.test_accuracy_at_best, s.best_epoch "
            "FROM runs r LEFT JOIN results s USING (run_key)"
        ).fetchall()
        epochs = connection.execute(
            "SELECT run_key, epoch, train_loss, train_accuracy, val_loss, val_accuracy FROM epochs ORDER BY 1, 2"
        ).fetchall()
    return {key: (rest, [row[1:] for row in epochs if row[0] == key]) for key, *rest in runs}


def _retries(store: Path) -> dict[str, tuple[int, int | None]]:
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as connection:
        rows = connection.execute("SELECT run_key, retries, resumed_from_epoch FROM runs").fetchall()
    return {key: (retries, resumed) for key, retries, resumed in rows}


def _epochs_recorded(store: Path) -> dict[str, int]:
    if not store.exists():
        return {}
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5) as connection:
            rows = connection.execute("SELECT run_key, count(*) FROM epochs GROUP BY run_key").fetchall()
    except sqlite3.OperationalError:  # the driver is still creating it
        return {}
    return dict(rows)


def _wait_until(condition, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict[str, tuple]:
    """The LONG comparison trained by the local executor without interruption: what every test below must get."""
    store = tmp_path_factory.mktemp("uninterrupted") / "local.db"
    process = _rnnbench("compare", *LONG, "--executor", "local", "--jobs", "2", "--store", str(store), "--no-report",
                        "--quiet")  # fmt: skip
    assert process.returncode == 0, process.stderr
    return _contents(store)


def test_a_sweep_on_ray_fills_the_store_as_the_local_executor_does(cluster, tmp_path):
    experiment = tmp_path / "small.toml"
    experiment.write_text(
        'name = "small"\n[grid]\nmodels = ["simplernn", "lstm"]\ndatasets = ["digits"]\nseeds = [0, 1]\n'
        "[train]\nepochs = 3\n"
    )
    on_ray = _rnnbench("sweep", str(experiment), *_on_ray(cluster, "--store", "ray.db"))
    assert on_ray.returncode == 0, on_ray.stderr
    local = _rnnbench("sweep", str(experiment), "--executor", "local", "--jobs", "2", "--store", "local.db",
                      "--no-report", "--quiet")  # fmt: skip
    assert local.returncode == 0, local.stderr
    found = _contents(tmp_path / "ray.db")
    assert len(found) == 4
    assert found == _contents(tmp_path / "local.db")
    assert all(status == "finished" for (status, *_), _ in found.values())
    assert all(len(epochs) == 3 for _, epochs in found.values())
    assert set(_retries(tmp_path / "ray.db").values()) == {(0, None)}
    # --save-models best (the default): each model's best run is kept, its file sent from the worker that trained it.
    with Store.read(tmp_path / "ray.db") as ray_store, Store.read(tmp_path / "local.db") as local_store:
        kept, kept_locally = ray_store.models(), local_store.models()
    assert len(kept) == 2 and set(kept) == set(kept_locally)
    assert all(read_card(path).run_key == key for key, path in kept.items())


def _trials(store: Path) -> list[tuple]:
    """Every trial of every search, its seconds left out."""
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as connection:
        return connection.execute(
            "SELECT search, model, number, params, state, value, loss, epochs, run_key FROM trials ORDER BY 1, 2, 3"
        ).fetchall()


def test_a_search_on_ray_decides_as_the_local_executor_does(cluster, tmp_path):
    tiny = ["--dataset", "digits", "--models", "simplernn,gru", "--units", "16", "--epochs", "3", "--trials", "4",
            "--final-seeds", "2", "--limit-train", "600", "--limit-test", "200"]  # fmt: skip
    on_ray = _rnnbench("tune", *_on_ray(cluster, *tiny, "--store", str(tmp_path / "ray.db")))
    assert on_ray.returncode == 0, on_ray.stderr
    local = _rnnbench("tune", *tiny, "--executor", "local", "--jobs", "2", "--store", str(tmp_path / "local.db"),
                      "--no-report", "--quiet")  # fmt: skip
    assert local.returncode == 0, local.stderr
    trials = _trials(tmp_path / "ray.db")
    assert len(trials) == 8 and {state for _, _, _, _, state, *_ in trials} <= {"complete", "pruned"}
    assert trials == _trials(tmp_path / "local.db")
    assert _contents(tmp_path / "ray.db") == _contents(tmp_path / "local.db")


def test_a_run_whose_node_is_lost_resumes_elsewhere_from_its_checkpoint(tmp_path, uninterrupted):
    # A cluster of its own: this test removes its worker node.
    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    worker = nodes.add_node(num_cpus=1)
    nodes.wait_for_nodes()
    try:
        store = tmp_path / "ray.db"
        driver = subprocess.Popen(_command("compare", *_on_ray(nodes, *LONG, "--store", str(store), quiet=False)),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        # Both runs are training, one on each node, and have kept checkpoints: lose the worker node.
        _wait_until(lambda: len(found := _epochs_recorded(store)) == 2 and min(found.values()) >= 3, driver)
        nodes.remove_node(worker)
        stdout, stderr = driver.communicate(timeout=240)
    finally:
        nodes.shutdown()
    assert driver.returncode == 0, stderr
    assert _contents(store) == uninterrupted  # nothing lost, nothing twice, the numbers of an uninterrupted run
    retried = [(retries, resumed) for retries, resumed in _retries(store).values() if retries]
    assert len(retried) == 1
    assert retried[0][0] == 1 and retried[0][1] >= 1  # resumed from its checkpoint, not from scratch
    assert "its node was lost; training it again (attempt 2) from its last checkpoint" in stdout


def _executor_flags(cluster, name: str) -> list[str]:
    return (
        ["--executor", "ray", "--address", cluster.address] if name == "ray" else ["--executor", "local", "--jobs", "2"]
    )


@pytest.mark.parametrize(
    ("first", "stop", "rerun"),
    [("ray", signal.SIGINT, "ray"), ("ray", signal.SIGKILL, "local"), ("local", signal.SIGKILL, "ray")],
    ids=["ray-sigint-ray", "ray-sigkill-local", "local-sigkill-ray"],
)
def test_an_interrupted_driver_loses_nothing_and_a_rerun_finishes(cluster, tmp_path, uninterrupted, first, stop, rerun):
    store = tmp_path / "runs.db"
    common = [*LONG, "--store", str(store), "--no-report", "--quiet"]
    driver = subprocess.Popen(_command("compare", *common, *_executor_flags(cluster, first)), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)  # fmt: skip
    _wait_until(lambda: sum(_epochs_recorded(store).values()) >= 4, driver)
    driver.send_signal(stop)
    _, stderr = driver.communicate(timeout=60)
    if stop == signal.SIGINT:
        assert driver.returncode == 130
        assert "interrupted" in stderr and "Traceback" not in stderr
    else:
        assert driver.returncode == -signal.SIGKILL
    assert len(list((tmp_path / "runs.db-checkpoints").glob("*.npz"))) >= 1  # the rerun has something to resume from
    finished = _rnnbench("compare", *common, *_executor_flags(cluster, rerun))
    assert finished.returncode == 0, finished.stderr
    assert _contents(store) == uninterrupted
    assert any(resumed for _, resumed in _retries(store).values())


def test_a_node_with_another_rnnbench_fails_its_runs_saying_so():
    spec = RunSpec(DataSpec("digits"), ModelSpec("simplernn", 8), TrainSpec(epochs=1))
    task = _Task(spec, None, False, False, DataSource(Path("unused")), "driver-host", "0.0.1")
    [(kind, failed, reason)] = list(train_events(task, None))
    assert (kind, failed) == ("run_failed", spec)
    assert reason.endswith(f"has rnnbench {rnnbench.__version__} and the driver 0.0.1; install the same version on "
                           "every node")  # fmt: skip


def test_data_given_by_path_travels_to_the_workers_once(cluster, tmp_path, mnist_shaped_npz):
    """The workers never read the file (it is gone when they train): the driver's arrays reach them."""
    data = DataSpec(name=str(mnist_shaped_npz), limit_train=100, limit_test=40)
    prepared_calls: list[DataSpec] = []
    prepared = prepare_data(data)
    mnist_shaped_npz.unlink()

    def prepare(spec: DataSpec):
        prepared_calls.append(spec)
        return prepared

    runs = [RunSpec(data, ModelSpec("simplernn", 8), TrainSpec(epochs=1), seed=seed) for seed in (0, 1, 2)]
    ended, failed = [], []

    class Observer:
        def run_started(self, *arguments): ...
        def run_resumed(self, *arguments): ...
        def batch_ended(self, *arguments): ...
        def epoch_ended(self, *arguments): ...
        def run_retried(self, *arguments): ...
        def run_ended(self, result, confusion):
            ended.append(result)

        def run_failed(self, spec, reason):
            failed.append(reason)

    context = ExecutionContext(1, None, DataSource(tmp_path / "cache"), prepare, ClusterOptions(cluster.address))
    RayExecutor(context).run(runs, Observer())
    assert failed == []
    assert sorted(result.spec.seed for result in ended) == [0, 1, 2]
    assert prepared_calls == [data]
    assert all(np.isfinite(result.test_accuracy) for result in ended)


def test_without_ray_the_executor_names_the_extra(tmp_path):
    hide_ray = "import sys; sys.modules['ray'] = None; from rnnbench.cli import main; sys.exit(main(sys.argv[1:]))"
    process = subprocess.run([sys.executable, "-c", hide_ray, "compare", *SMALL, "--executor", "ray"],
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert process.returncode == 2
    assert process.stderr.strip() == (
        "rnnbench: error: --executor ray needs Ray; install it with: pip install 'rnnbench[ray]'"
    )
    assert not (tmp_path / "rnnbench.db").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--executor", "ray", "--address", "127.0.0.1:9"], "no Ray cluster answers at 127.0.0.1:9"),
        (["--executor", "ray", "--address", "head-node"], "--address 'head-node' is not auto or HOST:PORT"),
        (["--address", "auto"], "--address is for --executor ray only"),
        (["--executor", "local", "--max-retries", "3"], "--max-retries is for --executor ray only"),
        (["--executor", "ray", "--gpus-per-run", "1.5"], "--gpus-per-run above 1 must be a whole number"),
        (["--executor", "ray", "--address", "127.0.0.1:99999"], "port 99999 is out of range (1 to 65535)"),
        (["--executor", "ray", "--address", "ray://127.0.0.1:10001"], "is a URL; --address takes auto or HOST:PORT"),
        (["--executor", "ray", "--address", "http://127.0.0.1:8265"], "dashboard http:// addresses are not accepted"),
    ],
    ids=[
        "unreachable",
        "not-an-address",
        "address-without-ray",
        "retries-without-ray",
        "gpu-fraction",
        "port",
        "ray-client",
        "dashboard",
    ],  # fmt: skip
)
def test_bad_cluster_settings_are_one_line_in_seconds(arguments, message):
    started = time.monotonic()
    process = _rnnbench("compare", *SMALL, *arguments, timeout=60)
    assert process.returncode == 2
    lines = process.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], process.stderr
    assert time.monotonic() - started < 30  # seconds, not Ray's minutes of reconnecting


@pytest.mark.parametrize("command", ["compare", "tune"])
def test_runs_no_node_can_hold_are_refused_not_left_waiting(cluster, tmp_path, command):
    process = _rnnbench(command, *_on_ray(cluster, *SMALL[:4], "--gpus-per-run", "1"), timeout=60)
    assert process.returncode == 2
    assert process.stderr.strip() == (
        "rnnbench: error: no node of the Ray cluster can hold a run of 1 CPUs and 1 GPUs (its nodes have 1 CPUs and "
        "0 GPUs; 1 CPUs and 0 GPUs); lower --cpus-per-run or --gpus-per-run, or add such a node"
    )
    assert not list(tmp_path.iterdir())  # refused before the store was opened


def test_without_an_address_a_ray_instance_is_started_for_the_command(tmp_path):
    process = _rnnbench("compare", *SMALL, "--executor", "ray", "--jobs", "2", "--store", "own.db", "--no-report")
    assert process.returncode == 0, process.stderr
    assert process.stderr == ""  # nothing of Ray's own logging reaches the user
    found = _contents(tmp_path / "own.db")
    assert len(found) == 4 and all(status == "finished" for (status, *_), _ in found.values())
