"""Bad invocations of the command line, each in a process of its own: exit status 2, one line on stderr naming the
problem, no traceback, and the results store exactly as it was.

The cases run a few at a time against copies of one small store, in folders where read-only means read-only
(see unprivileged.py).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from conftest import write_npz
from test_data_images import draw, make_folder
from unprivileged import unprivileged_prefix


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    says: str  # what the one line on stderr must contain
    environment: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        return " ".join((*(f"{key}={value}" for key, value in self.environment), *self.args))


def case(says: str, *args: str) -> Case:
    return Case(args, says)


def case_with(environment: dict[str, str], says: str, *args: str) -> Case:
    return Case(args, says, tuple(environment.items()))


DIGITS = ("compare", "--dataset", "digits")
CASES = [
    # names that are not registered
    case("unknown model 'transformer'", *DIGITS, "--models", "transformer"),
    case("unknown data set 'nosuch'", "compare", "--dataset", "nosuch"),
    case("data set path 'missing.npz' does not exist", "compare", "--dataset", "missing.npz"),
    case("view", *DIGITS, "--view", "diagonal"),
    case("patches", *DIGITS, "--view", "patches:0"),
    case("patches", *DIGITS, "--view", "patches:3"),
    case("unknown view 'diagonal'", *DIGITS, "--view", "rows,diagonal"),
    case("patches:3 does not divide the 8 x 8 image", *DIGITS, "--view", "rows,patches:3"),
    case("--view 'rows,,pixels' has an empty view", *DIGITS, "--view", "rows,,pixels"),
    case("--view 'rows,pixels,rows' names rows twice", *DIGITS, "--view", "rows,pixels,rows"),
    case("--view 'rows,rows' names rows twice", "tune", "--dataset", "digits", "--view", "rows,rows"),
    case("'fast' is not one of 'long', 'reference', 'tuned'", *DIGITS, "--preset", "fast"),
    case("unknown protocol 'smnst'; known: psmnist, scifar, smnist", "compare", "--protocol", "smnst"),
    case("unknown protocol 'nosuch'; known: psmnist, scifar, smnist", "protocols", "show", "nosuch"),
    case(
        "experiments/protocol.toml:2: protocol 'smnst' is not a known protocol; known: psmnist, scifar, smnist",
        "sweep",
        "experiments/protocol.toml",
    ),
    case("'nohead' is not one of 'batchnorm', 'dense'", *DIGITS, "--head", "nohead"),
    case("'cluster' is not one of 'inline', 'local', 'ray'", *DIGITS, "--executor", "cluster"),
    case("No such option '--nosuchflag'", *DIGITS, "--nosuchflag"),
    case("No such command 'train'", "train"),
    # numbers out of range
    case("a count must be at least 1", *DIGITS, "--seeds", "0"),
    case("seeds are integers from 0 to 4294967295", *DIGITS, "--seeds", "0,-1"),
    case("seeds are integers from 0 to 4294967295", *DIGITS, "--seeds", "0,4294967296"),
    case("at most 100,000 seeds", *DIGITS, "--seeds", "100001"),
    case("is not a count or a list", *DIGITS, "--seeds", "two"),
    case("a seed is named twice", *DIGITS, "--seeds", "3,3"),
    case("--units", *DIGITS, "--units", "0"),
    case("--epochs", *DIGITS, "--epochs", "0"),
    case("--batch-size", *DIGITS, "--batch-size", "-4"),
    case("--dropout", *DIGITS, "--dropout", "1"),
    case("--val-fraction", *DIGITS, "--val-fraction", "1.5"),
    case("--learning-rate", *DIGITS, "--learning-rate", "0"),
    case("--limit-train", *DIGITS, "--limit-train", "0"),
    case("--jobs 'many' is not auto or a positive integer", *DIGITS, "--jobs", "many"),
    case("--jobs '0' is not auto or a positive integer", *DIGITS, "--jobs", "0"),
    case("--image-size '0x5' is not a size", *DIGITS, "--image-size", "0x5"),
    case("gru with 100,000 units needs at least", *DIGITS, "--models", "gru", "--units", "100000"),
    case("--match-params 10: simplernn has", *DIGITS, "--match-params", "10"),
    case("--units and --match-params exclude each other", *DIGITS, "--units", "8", "--match-params", "5000"),
    # options that do not apply
    case("applies to image folders only", *DIGITS, "--image-size", "8"),
    case("applies to image folders only", *DIGITS, "--color", "rgb"),
    case("the permutation seed applies to the permuted view only", *DIGITS, "--permutation-seed", "3"),
    case("--cpus-per-run is for --executor ray only", *DIGITS, "--cpus-per-run", "2"),
    case("--address is for --executor ray only", *DIGITS, "--address", "auto"),
    case("is not KEY=VALUE", *DIGITS, "--cell-option", "dt"),
    case("no model compared here has the option 'depth'", *DIGITS, "--cell-option", "depth=3"),
    case("names model 'cornn', which is not compared here", *DIGITS, "--cell-option", "cornn.dt=0.1"),
    # outputs that would replace what rnnbench keeps, or cannot be written
    case("--json rnnbench.db would replace rnnbench.db", *DIGITS, "--json", "rnnbench.db"),
    case("is inside rnnbench.db-checkpoints", *DIGITS, "--json", "rnnbench.db-checkpoints/s.json"),
    case("--json data/labels1000.npz is a zip archive", *DIGITS, "--json", "data/labels1000.npz"),
    case("Invalid value for '--json': File 'data' is a directory", *DIGITS, "--json", "data"),
    case("is a file, not a folder", *DIGITS, "--json", "notes.txt/summary.json"),
    case("Invalid value for '--out': Directory 'notes.txt' is a file", *DIGITS, "--out", "notes.txt"),
    case("--out rnnbench.db-models would replace", *DIGITS, "--out", "rnnbench.db-models"),
    case("is a file, not a folder", *DIGITS, "--store", "notes.txt/r.db"),
    case("the folder", *DIGITS, "--store", "readonly/r.db"),
    case("the folder", *DIGITS, "--json", "readonly/s.json"),
    case("the folder", *DIGITS, "--out", "readonly/report"),
    # outputs of one command inside one another: the later one would replace the earlier
    case("--json rnnbench-report/s.json is inside --out rnnbench-report", *DIGITS, "--json", "rnnbench-report/s.json"),
    case("--json report is also --out report", *DIGITS, "--json", "report", "--out", "report"),
    case("--store rnnbench-report/r.db is inside --out rnnbench-report", *DIGITS, "--store", "rnnbench-report/r.db"),
    case("is inside --out rnnbench-report", "tune", "--dataset", "digits", "--json", "rnnbench-report/s.json"),
    case("is inside --out out", "sweep", "experiments/tiny.toml", "--json", "out/sub/s.json", "--out", "out"),
    # a folder of the user's own files is no report folder
    case("--out mine is a folder of other files, not a report rnnbench wrote", *DIGITS, "--out", "mine"),
    case("--out mine is a folder of other files, not a report rnnbench wrote", "report", "--out", "mine"),
    case("--out mine is a folder of other files", "sweep", "experiments/tiny.toml", "--out", "mine"),
    # stores that are not ours to write
    case("notes.txt is not a usable results store", *DIGITS, "--models", "gru", "--store", "notes.txt"),
    case("is an SQLite file but not a results store", *DIGITS, "--models", "gru", "--store", "foreign.db"),
    case("(store schema 99); this is rnnbench", *DIGITS, "--models", "gru", "--store", "newer.db"),
    # data that does not fit
    case("label", "compare", "--dataset", "data/labels1000.npz"),
    case("every training image has label 3", "compare", "--dataset", "data/oneclass.npz"),
    case("same class sub-folders", "compare", "--dataset", "data/mismatched"),
    case("is not a data set", "compare", "--dataset", "data/empty"),
    case("data/broken.npz", "compare", "--dataset", "data/broken.npz"),
    case("kmnist is unavailable", "compare", "--dataset", "kmnist"),
    case("is not in the cache", "datasets", "fetch", "kmnist"),
    # experiment files
    case("cannot read experiment file missing.toml", "sweep", "missing.toml"),
    case("experiments/latin1.toml:3: not UTF-8 text", "sweep", "experiments/latin1.toml"),
    case("not valid TOML", "sweep", "experiments/broken.toml"),
    case("experiments/unknown.toml:3: [train] speed is not a known key", "sweep", "experiments/unknown.toml"),
    case("experiments/wrongtype.toml:3: [train] epochs must be", "sweep", "experiments/wrongtype.toml"),
    # searches
    case(
        "experiments/space.toml:2: momentum is not a dimension of the search space",
        "tune",
        "--dataset",
        "digits",
        "--space",
        "experiments/space.toml",
    ),
    case("cannot read search space missing.toml", "tune", "--dataset", "digits", "--space", "missing.toml"),
    case("'grid' is not one of 'asha', 'none'", "tune", "--dataset", "digits", "--pruner", "grid"),
    case("--trials", "tune", "--dataset", "digits", "--trials", "0"),
    case("--final-seeds", "tune", "--dataset", "digits", "--final-seeds", "0"),
    case("--val-fraction", "tune", "--dataset", "digits", "--val-fraction", "0"),
    case("--search-seed", "tune", "--dataset", "digits", "--search-seed", "-1"),
    case("--json rnnbench.db would replace rnnbench.db", "tune", "--dataset", "digits", "--json", "rnnbench.db"),
    case("unknown model 'transformer'", "tune", "--dataset", "digits", "--models", "transformer"),
    case("needs at least", "tune", "--dataset", "digits", "--models", "gru", "--units", "100000"),
    case(
        "experiments/search.toml:3: label_smoothing must be { low = ..., high = ..., log = true|false }",
        "sweep",
        "experiments/search.toml",
    ),
    # reports
    case("no results store at missing.db", "report", "--store", "missing.db"),
    case("--format 'pdf'", "report", "--format", "pdf"),
    case("Invalid value for '--out': Directory 'notes.txt' is a file", "report", "--out", "notes.txt"),
    case("the folder", "report", "--out", "readonly/report"),
    case("notes.txt is not a usable results store", "report", "--store", "notes.txt"),
    case("colour", "report", "--filter", "colour=red"),
    # data sets, models, kept models
    case("unknown data set 'nosuch'", "datasets", "info", "nosuch"),
    case("unknown data set 'nosuch'", "datasets", "fetch", "nosuch"),
    case("pictures are written as .png, .svg, .pdf", "datasets", "show", "digits", "--out", "view.txt"),
    case("--index 99999 is out of range", "datasets", "show", "digits", "--index", "99999"),
    case("the folder", "datasets", "show", "digits", "--out", "readonly/view.png"),
    case("unknown model 'nosuch'", "models", "info", "nosuch"),
    case("--input-shape '28' is not a shape", "models", "info", "lstm", "--input-shape", "28"),
    case("nosuch.keras", "predict", "nosuch.keras", "notes.txt"),
    case("notes.txt", "predict", "notes.txt", "notes.txt"),
    case("nosuch.keras", "models", "export", "nosuch.keras"),
    case("'pdf' is not one of 'onnx', 'tf_saved_model'", "models", "export", "x.keras", "--format", "pdf"),
    # values that are not numbers, numbers that make no sense, options that conflict
    case("--epochs 3 and --epochs 5: --epochs is given twice", *DIGITS, "--epochs", "3", "--epochs", "5"),
    case("--jobs '²' is not auto or a positive integer", *DIGITS, "--jobs", "²"),
    case("--input-shape '²,8' is not a shape", "models", "info", "lstm", "--input-shape", "²,8"),
    case("learning rate must be a number above 0 and at most 10, got inf", *DIGITS, "--learning-rate", "inf"),
    case("learning rate must be a number above 0 and at most 10, got 1e+308", *DIGITS, "--learning-rate", "1e308"),
    case("epochs must be at most 100,000", *DIGITS, "--epochs", "1000000"),
    case("layers must be at most 100, got 100,000", *DIGITS, "--layers", "100000"),
    case("--limit-train 100,000 is more than the 1,438 training images of digits", *DIGITS, "--limit-train", "100000"),
    case("batch_size must be at most 65,536, got 1,000,000", *DIGITS, "--batch-size", "1000000"),
    case(
        "no node of the Ray cluster can hold a run of 1 CPUs and 1 GPUs",
        *DIGITS,
        "--executor",
        "ray",
        "--gpus-per-run",
        "1",
    ),
    case("--executor inline trains one run at a time; --jobs 2 needs", *DIGITS, "--executor", "inline", "--jobs", "2"),
    case("--trials must be from 1 to 10,000", "tune", "--dataset", "digits", "--trials", "1000000"),
    case("--final-seeds must be from 1 to 1,000", "tune", "--dataset", "digits", "--final-seeds", "1000000"),
    case("datasets fetch downloads a built-in one", "datasets", "fetch", "notes.txt"),
    # files that must be regular files, and files that say nothing
    case("experiment file experiments/fifo.toml is not a regular file", "sweep", "experiments/fifo.toml"),
    case("experiment file zero is not a regular file", "sweep", "zero"),
    case(
        "search space experiments/fifo.toml is not a regular file",
        "tune",
        "--dataset",
        "digits",
        "--space",
        "experiments/fifo.toml",
    ),
    case("fifo.keras is not a regular file", "predict", "fifo.keras", "notes.txt"),
    case("the model is empty", "predict", "", "notes.txt"),
    case("the experiment has no [grid] table", "sweep", "experiments/empty.toml"),
    case("the experiment's name '' is empty", "sweep", "experiments/noname.toml"),
    case("learning rate must be a number above 0 and at most 10, got inf", "sweep", "experiments/inflr.toml"),
    case("learning_rate: bound inf is not a number above 0 and at most 10", "sweep", "experiments/infspace.toml"),
    case(
        "learning_rate: bound inf is not a number above 0 and at most 10",
        "tune",
        "--dataset",
        "digits",
        "--space",
        "experiments/infspace-only.toml",
    ),
    # settings of the machine, checked before anything trains
    case_with({"CXX": "nonexistent-cc"}, "CXX=nonexistent-cc names no compiler on this machine", *DIGITS),
    case_with({"XLA_FLAGS": "--xla_no_such_flag=1"}, "XLA_FLAGS='--xla_no_such_flag=1' is refused by XLA", *DIGITS),
    case_with({"RNNBENCH_JAX_CACHE": "notes.txt/jax"}, "RNNBENCH_JAX_CACHE (the compiled programs' cache", *DIGITS),
    case("store ro.db cannot be written by this user", *DIGITS, "--store", "ro.db"),
    case("port 99999 is out of range (1 to 65535)", *DIGITS, "--executor", "ray", "--address", "127.0.0.1:99999"),
    case(
        "is a URL; --address takes auto or HOST:PORT",
        "tune",
        "--dataset",
        "digits",
        "--executor",
        "ray",
        "--address",
        "ray://127.0.0.1:10001",
    ),
]


def _listing(folder: Path) -> list[str]:
    """What a refused command must leave as it was: every name in its folder (links into the world not followed)."""
    return sorted(os.path.relpath(os.path.join(parent, name), folder)
                  for parent, folders, files in os.walk(folder) for name in (*folders, *files))  # fmt: skip


def _rows(store: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(store) as connection:
        tables = [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {table: sorted(connection.execute(f"SELECT * FROM {table}").fetchall(), key=repr) for table in tables}


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """Inputs every case can read: a store with one finished run, bad data sets, bad experiment files, a read-only
    folder, a regular file where a folder is wanted."""
    root = tmp_path_factory.mktemp("world")
    environment = {**os.environ, "CI": "true"}
    subprocess.run([sys.executable, "-m", "rnnbench", "compare", "--dataset", "digits", "--models", "gru", "--units",
                    "8", "--epochs", "1", "--no-report", "--quiet", "--store", str(root / "rnnbench.db")],
                   check=True, capture_output=True, env=environment, timeout=300)  # fmt: skip
    data = root / "data"
    data.mkdir()
    labels = write_npz(data / "labels1000.npz", train=40, test=20, shape=(8, 8))
    with np.load(labels) as arrays:
        values = dict(arrays)
    values["y_train"] = values["y_train"].astype(np.int64)
    values["y_train"][0] = 1000
    np.savez(labels, **values)
    values["y_train"][:] = 3
    np.savez(data / "oneclass.npz", **values)
    mismatched = make_folder(data / "mismatched", per_class=5, split=True)
    draw(mismatched / "test" / "triangle" / "0.png", "circle")
    (data / "empty").mkdir()
    (data / "broken.npz").write_text("not a zip archive")
    experiments = root / "experiments"
    experiments.mkdir()
    (experiments / "latin1.toml").write_bytes(b'name = "x"\n[grid]\nmodels = ["gr\xe9"]\n')
    (experiments / "broken.toml").write_text("[grid\nmodels = 1\n")
    (experiments / "unknown.toml").write_text('name = "x"\n[train]\nspeed = 3\n')
    (experiments / "wrongtype.toml").write_text('name = "x"\n[train]\nepochs = "ten"\n')
    (experiments / "protocol.toml").write_text('name = "x"\nprotocol = "smnst"\n[grid]\nmodels = ["lstm"]\n')
    (experiments / "space.toml").write_text('optimizer = ["adam"]\nmomentum = 0.9\n')
    (experiments / "search.toml").write_text("[search]\n[search.space]\nlabel_smoothing = { low = 0.0 }\n")
    os.mkfifo(experiments / "fifo.toml")  # opening it would wait for a writer forever
    os.mkfifo(root / "fifo.keras")
    os.mknod(root / "zero", 0o666 | stat.S_IFCHR, os.makedev(1, 5))  # a copy of /dev/zero: reads never end
    (experiments / "empty.toml").write_text("")
    (experiments / "noname.toml").write_text('name = ""\n[grid]\nmodels = ["gru"]\n')
    (experiments / "inflr.toml").write_text('[grid]\nmodels = ["gru"]\n[train]\nlearning_rate = inf\n')
    infinite = "learning_rate = { low = 1e-4, high = inf, log = true }\n"
    (experiments / "infspace.toml").write_text(f'[grid]\nmodels = ["gru"]\n[search]\n[search.space]\n{infinite}')
    (experiments / "infspace-only.toml").write_text(infinite)
    (experiments / "tiny.toml").write_text('name = "tiny"\n[grid]\nmodels = ["gru"]\ndatasets = ["digits"]\n')
    (root / "notes.txt").write_text("notes\n")
    (root / "mine").mkdir()
    (root / "mine" / "report.md").write_text("# My own report, written by hand\n")
    with sqlite3.connect(root / "foreign.db") as connection:
        connection.execute("CREATE TABLE songs (title TEXT)")
    with sqlite3.connect(root / "newer.db") as connection:
        connection.execute("PRAGMA user_version = 99")
        connection.execute("CREATE TABLE runs (rnnbench_version TEXT)")
    shutil.copy2(root / "rnnbench.db", root / "ro.db")
    (root / "ro.db").chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    readonly = root / "readonly"
    readonly.mkdir()
    readonly.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    return root


@pytest.fixture(scope="module")
def outcomes(world, tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess[str], bool]]:
    """Each case run once, in a folder of its own holding links to the world and a copy of its store."""
    prefix = unprivileged_prefix()
    # Offline, with an empty cache: a built-in set that is not bundled is one line, never a download.
    environment = {**os.environ, "CI": "true", "RNNBENCH_OFFLINE": "1", "RNNBENCH_DATA": str(world / "cache")}

    def run(index_case: tuple[int, Case]) -> tuple[str, tuple[subprocess.CompletedProcess[str], bool]]:
        index, bad = index_case
        folder = tmp_path_factory.mktemp(f"case{index}")
        for entry in world.iterdir():
            if entry.name.startswith("rnnbench.db"):
                if entry.is_file():
                    shutil.copy2(entry, folder / entry.name)
            else:
                (folder / entry.name).symlink_to(entry)
        before = (_rows(folder / "rnnbench.db"), _listing(folder))
        process = subprocess.run([*prefix, sys.executable, "-m", "rnnbench", *bad.args], cwd=folder,
                                 capture_output=True, text=True, env={**environment, **dict(bad.environment)},
                                 timeout=300)  # fmt: skip
        return bad.name, (process, (_rows(folder / "rnnbench.db"), _listing(folder)) == before)

    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(pool.map(run, enumerate(CASES)))


def test_there_are_at_least_60_cases():
    assert len(CASES) >= 60
    assert len({bad.name for bad in CASES}) == len(CASES)


@pytest.mark.parametrize("bad", CASES, ids=[bad.name for bad in CASES])
def test_a_bad_invocation_is_one_line_exit_2_and_nothing_is_written(outcomes, bad):
    process, store_unchanged = outcomes[bad.name]
    lines = process.stderr.strip().splitlines()
    assert "Traceback" not in process.stderr, process.stderr
    assert len(lines) == 1, process.stderr
    assert lines[0].startswith("rnnbench: error: ") and bad.says in lines[0], lines[0]
    assert process.returncode == 2
    assert store_unchanged
