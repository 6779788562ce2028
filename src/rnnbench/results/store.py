"""The results store: one SQLite file (WAL mode) holding runs, their per-epoch metrics and their results.

Only the driver process writes, and only one driver at a time: :meth:`Store.open` takes an exclusive lock on a file
beside the database, so a second sweep on the same store refuses with a clear message instead of racing. A run is
identified by its key (the hash of its complete spec): a finished run is never trained or written twice unless forced.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import io
import json
import os
import socket
import sqlite3
import urllib.parse
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from rnnbench.errors import RnnbenchError
from rnnbench.results.run_result import EpochMetrics, RunResult, RunStatus, StoredName
from rnnbench.spec import DataSpec, RunSpec
from rnnbench.version import __version__

# Each entry upgrades the schema from the previous version; the database's user_version says where it stands.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE experiments (
        name TEXT NOT NULL, spec TEXT NOT NULL, created_at TEXT NOT NULL
    );
    CREATE TABLE runs (
        run_key TEXT PRIMARY KEY, spec TEXT NOT NULL, status TEXT NOT NULL, reason TEXT,
        rnnbench_version TEXT, keras_version TEXT, backend TEXT, backend_version TEXT, host TEXT, device TEXT,
        started_at TEXT, ended_at TEXT, resumed_from_epoch INTEGER
    );
    CREATE TABLE epochs (
        run_key TEXT NOT NULL REFERENCES runs(run_key), epoch INTEGER NOT NULL,
        train_loss REAL, train_accuracy REAL, val_loss REAL, val_accuracy REAL, seconds REAL,
        PRIMARY KEY (run_key, epoch)
    );
    CREATE TABLE results (
        run_key TEXT PRIMARY KEY REFERENCES runs(run_key), params INTEGER, trainable_params INTEGER,
        best_epoch INTEGER, best_val_accuracy REAL, test_accuracy REAL, test_accuracy_at_best REAL,
        train_seconds REAL, confusion TEXT
    );
    """,
    "ALTER TABLE epochs ADD COLUMN test_accuracy REAL;",
    # What reports need to know of each data set without loading it: its sizes and shapes, and one training image
    # (float32 in [0, 1], as .npy bytes) to draw the sequence view with.
    """
    CREATE TABLE datasets (
        data_key TEXT PRIMARY KEY, spec TEXT NOT NULL, description TEXT NOT NULL, example BLOB, example_label INTEGER
    );
    """,
    # How often a run trained again after its worker or node was lost (--executor ray).
    "ALTER TABLE runs ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;",
    # What a finished model costs to serve, and the model files kept (--save-models), by run.
    """
    ALTER TABLE results ADD COLUMN latency_ms REAL;
    ALTER TABLE results ADD COLUMN images_per_second REAL;
    CREATE TABLE models (run_key TEXT PRIMARY KEY, path TEXT NOT NULL, saved_at TEXT NOT NULL);
    """,
    # A run's fixed cost, apart from its training time: building its model and compiling its programs.
    "ALTER TABLE results ADD COLUMN setup_seconds REAL;",
    # The trials of hyperparameter searches (rnnbench tune): each trial's recipe, fate and last run.
    """
    CREATE TABLE trials (
        search TEXT NOT NULL, model TEXT NOT NULL, number INTEGER NOT NULL, params TEXT NOT NULL,
        state TEXT NOT NULL, value REAL, loss REAL, epochs INTEGER NOT NULL, seconds REAL NOT NULL, run_key TEXT,
        PRIMARY KEY (search, model, number)
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class StoreGone(RnnbenchError):
    """The store's file was deleted or replaced while it was open for writing."""


@dataclass(frozen=True)
class StoredRun:
    """Everything the store holds of one run: its spec, state, where it ran, and its result if it has one."""

    run_key: str
    spec: RunSpec
    status: RunStatus
    reason: str | None
    environment: dict[str, Any]
    result: RunResult | None
    confusion: list[list[int]] | None


@dataclass(frozen=True)
class StoredDataset:
    """A prepared data set as recorded by the driver: its description and one training image (H, W, C)."""

    spec: DataSpec
    description: dict[str, Any]
    example: np.ndarray | None
    example_label: int | None


class TrialState(StoredName):
    """A search trial's fate, as the store's ``trials.state`` holds it."""

    RUNNING = "running"
    PRUNED = "pruned"
    # Trained every epoch (or diverged, scored 0): the trials a search chooses among.
    COMPLETE = "complete"
    FAILED = "failed"


@dataclass(frozen=True)
class StoredTrial:
    """One trial of a search: its recipe, its state, its validation accuracy at the last epoch it trained, the epochs
    it trained, the seconds its runs took, and its last run."""

    search: str
    model: str
    number: int
    params: dict[str, Any]
    state: TrialState  # its stored text is accepted and turned into one
    value: float | None
    loss: float | None  # the validation loss at the same epoch: what breaks ties between trials
    epochs: int
    seconds: float
    run_key: str | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", TrialState(self.state))


@dataclass(frozen=True)
class StoredExperiment:
    name: str
    spec: dict[str, Any]
    created_at: str


ENVIRONMENT_COLUMNS = ("rnnbench_version", "keras_version", "backend", "backend_version", "host", "device",
                       "started_at", "ended_at", "resumed_from_epoch", "retries")  # fmt: skip


def data_key(spec: DataSpec) -> str:
    """A stable hash of a data spec (the key of its row in the datasets table)."""
    canonical = json.dumps(dataclasses.asdict(spec), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


SQLITE_HEADER = b"SQLite format 3\x00"


class Store:
    """A results store; use :meth:`open` (exclusive writer) or :meth:`read` (read-only)."""

    def __init__(self, connection: sqlite3.Connection, path: Path, identity: tuple[int, int] | None = None) -> None:
        self.connection = connection
        self.path = path
        self.identity = identity  # (device, inode) of the file opened for writing

    def in_place(self) -> bool:
        """Whether ``path`` is still the file this store opened (not deleted, not replaced by another)."""
        try:
            status = os.stat(self.path)
        except OSError:
            return False
        return self.identity is None or (status.st_dev, status.st_ino) == self.identity

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One transaction, refused when the store's file was deleted or replaced since it was opened: results must
        not go silently into a file that no one will ever read."""
        if not self.in_place():
            raise StoreGone(
                f"store {self.path} was deleted or replaced while this command ran, so it stopped; run the same "
                f"command again to train what the store lacks (runs resume from {self.checkpoint_dir})"
            )
        with self.connection:
            yield

    @classmethod
    def check_writable(cls, path: Path) -> None:
        """Refuse, at once and writing nothing, a ``path`` that :meth:`open` would refuse or fail on later: not a
        store, a newer store, one another process writes, one this user cannot write, a name that is not UTF-8."""
        try:
            str(path).encode("utf-8")
        except UnicodeEncodeError:
            raise RnnbenchError(f"--store {str(path)!r} is not valid UTF-8; give a store name in UTF-8") from None
        if not path.exists():
            return
        if not path.is_file():
            raise RnnbenchError(f"--store {path} is not a regular file; give a results store (a .db file)")
        with path.open("rb") as file:
            header = file.read(16)
        if header and header != SQLITE_HEADER:
            raise RnnbenchError(f"{path} is not a usable results store (not an SQLite file); give another --store")
        for part in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            if part.exists() and not os.access(part, os.R_OK | os.W_OK):
                raise RnnbenchError(f"store {part} cannot be written by this user; give a store you may write, or "
                                    "copy it and give the copy")  # fmt: skip
        if header:
            _check_is_store(path)
        _check_not_in_use(path)

    @classmethod
    @contextmanager
    def open(cls, path: Path) -> Iterator[Store]:
        """The store at ``path`` for writing, created or migrated as needed; refuses while another process has it."""
        cls.check_writable(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(str(path) + ".lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RnnbenchError(
                    f"store {path} is in use by another rnnbench process; wait for it to finish or use another --store"
                ) from None
            connection = _connect(path)
            try:
                _migrate(connection, path)
                status = os.stat(path)
                yield cls(connection, path, (status.st_dev, status.st_ino))
            finally:
                connection.close()

    @classmethod
    @contextmanager
    def read(cls, path: Path) -> Iterator[Store]:
        """The store at ``path`` for reading (reports); it must exist."""
        if not path.is_file():
            raise RnnbenchError(f"no results store at {path}; run 'rnnbench compare' or 'rnnbench sweep' first")
        connection = _connect_read_only(path)
        try:
            if _check_version(connection, path) == 0:
                raise RnnbenchError(
                    f"{path} is not a results store; give the --store that rnnbench compare/sweep wrote"
                )
            yield cls(connection, path)
        finally:
            connection.close()

    @property
    def checkpoint_dir(self) -> Path:
        return Path(str(self.path) + "-checkpoints")

    @property
    def models_dir(self) -> Path:
        """Where kept models are written (``--save-models``), one ``RUN_KEY.keras`` each."""
        return Path(str(self.path) + "-models")

    def save_model(self, run_key: str, path: Path) -> None:
        """Record the model file of a run; kept relative to the store's folder, so a moved folder keeps its models."""
        relative = path.relative_to(self.path.parent) if path.is_relative_to(self.path.parent) else path
        with self._writing():
            self.connection.execute("INSERT OR REPLACE INTO models VALUES (?, ?, ?)", (run_key, str(relative), _now()))

    def forget_model(self, run_key: str) -> Path | None:
        """Drop the record of a run's model file (it no longer matches the run); returns its path, if it had one."""
        path = self.models().get(run_key)
        with self._writing():
            self.connection.execute("DELETE FROM models WHERE run_key = ?", (run_key,))
        return path

    def models(self) -> dict[str, Path]:
        """The model file of each run that has one kept, by run key (none in a store written before models were)."""
        if not self._has_table("models"):
            return {}
        rows = self.connection.execute("SELECT run_key, path FROM models ORDER BY rowid").fetchall()
        return {key: self.path.parent / path for key, path in rows}

    def save_trial(self, trial: StoredTrial) -> None:
        with self._writing():
            self.connection.execute(
                "INSERT OR REPLACE INTO trials VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (trial.search, trial.model, trial.number, json.dumps(trial.params, sort_keys=True), trial.state,
                 trial.value, trial.loss, trial.epochs, trial.seconds, trial.run_key),
            )  # fmt: skip

    def trials(self, search: str | None = None) -> list[StoredTrial]:
        """The trials of ``search`` (default: of every search), by search, model and number."""
        if not self._has_table("trials"):
            return []
        query = "SELECT * FROM trials" + (" WHERE search = ?" if search is not None else "")
        rows = self.connection.execute(query + " ORDER BY search, model, number", (search,) if search else ())
        return [StoredTrial(s, m, n, json.loads(p), state, v, loss, e, sec, key)
                for s, m, n, p, state, v, loss, e, sec, key in rows]  # fmt: skip

    def save_experiment(self, name: str, spec: dict[str, Any]) -> None:
        with self._writing():
            self.connection.execute(
                "INSERT INTO experiments (name, spec, created_at) VALUES (?, ?, ?)",
                (name, json.dumps(spec, sort_keys=True), _now()),
            )

    def save_dataset(
        self, spec: DataSpec, description: dict[str, Any], example: np.ndarray, example_label: int
    ) -> None:
        """Record a prepared data set (reports draw its sequence view from ``example``, an (H, W, C) image)."""
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(example, dtype=np.float32), allow_pickle=False)
        with self._writing():
            self.connection.execute(
                "INSERT OR REPLACE INTO datasets VALUES (?, ?, ?, ?, ?)",
                (
                    data_key(spec),
                    json.dumps(dataclasses.asdict(spec), sort_keys=True),
                    json.dumps(description, sort_keys=True),
                    buffer.getvalue(),
                    int(example_label),
                ),
            )

    def status(self, run_key: str) -> RunStatus | None:
        row = self.connection.execute("SELECT status FROM runs WHERE run_key = ?", (run_key,)).fetchone()
        return RunStatus(row[0]) if row else None

    def has_result(self, run_key: str) -> bool:
        """Whether the run finished or diverged: it is not trained again unless forced."""
        status = self.status(run_key)
        return status is not None and status.done

    def start_run(self, spec: RunSpec, environment: dict[str, str], retries: int = 0) -> None:
        """Mark a run as running; a rerun keeps nothing of an earlier attempt (a resumed run's history comes back with
        its result, from its checkpoint). ``retries``: how often this run's worker or node was lost so far."""
        key = spec.key()
        with self._writing():
            self.connection.execute("DELETE FROM results WHERE run_key = ?", (key,))
            self.connection.execute("DELETE FROM epochs WHERE run_key = ?", (key,))
            self.connection.execute(
                "INSERT OR REPLACE INTO runs (run_key, spec, status, rnnbench_version, keras_version, backend, "
                "backend_version, host, device, started_at, retries) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    json.dumps(spec.to_dict(), sort_keys=True),
                    RunStatus.RUNNING,
                    environment.get("rnnbench_version"),
                    environment.get("keras_version"),
                    spec.backend,
                    environment.get("backend_version"),
                    environment.get("host", socket.gethostname()),
                    environment.get("device"),
                    _now(),
                    retries,
                ),
            )

    def record_resume(self, run_key: str, epoch: int) -> None:
        with self._writing():
            self.connection.execute("UPDATE runs SET resumed_from_epoch = ? WHERE run_key = ?", (epoch, run_key))

    def record_epoch(self, run_key: str, metrics: EpochMetrics) -> None:
        with self._writing():
            self.connection.execute(
                "INSERT OR REPLACE INTO epochs VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (run_key, *_epoch_row(metrics))
            )

    def finish_run(self, result: RunResult, confusion: list[list[int]] | None) -> None:
        """Store a run's result and its complete epoch history in one transaction."""
        key = result.spec.key()
        with self._writing():
            self.connection.execute("DELETE FROM epochs WHERE run_key = ?", (key,))
            self.connection.executemany(
                "INSERT INTO epochs VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [(key, *_epoch_row(e)) for e in result.epochs]
            )
            self.connection.execute(
                "INSERT OR REPLACE INTO results (run_key, params, trainable_params, best_epoch, best_val_accuracy, "
                "test_accuracy, test_accuracy_at_best, train_seconds, confusion, latency_ms, images_per_second, "
                "setup_seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    result.params,
                    result.trainable_params,
                    result.best_epoch,
                    result.best_val_accuracy,
                    result.test_accuracy,
                    result.test_accuracy_at_best,
                    result.train_seconds,
                    json.dumps(confusion) if confusion is not None else None,
                    result.latency_ms,
                    result.images_per_second,
                    result.setup_seconds,
                ),
            )
            self.connection.execute(
                "UPDATE runs SET status = ?, reason = NULL, ended_at = ? WHERE run_key = ?",
                (result.status, _now(), key),
            )

    def fail_run(self, spec: RunSpec, reason: str) -> None:
        with self._writing():
            self.connection.execute(
                "UPDATE runs SET status = ?, reason = ?, ended_at = ? WHERE run_key = ?",
                (RunStatus.FAILED, reason, _now(), spec.key()),
            )

    def interrupt_runs(self, run_keys: Iterable[str]) -> int:
        """Mark those of ``run_keys`` still running as interrupted; returns how many were."""
        keys = list(run_keys)
        with self._writing():
            cursor = self.connection.executemany(
                "UPDATE runs SET status = ?, ended_at = ? WHERE run_key = ? AND status = ?",
                [(RunStatus.INTERRUPTED, _now(), key, RunStatus.RUNNING) for key in keys],
            )
        return cursor.rowcount

    def result(self, spec: RunSpec) -> RunResult | None:
        """The stored result of a finished or diverged run, else None."""
        key = spec.key()
        row = self.connection.execute(
            "SELECT r.status, s.params, s.trainable_params, s.best_epoch, s.best_val_accuracy, s.test_accuracy, "
            "s.test_accuracy_at_best, s.train_seconds, s.latency_ms, s.images_per_second, s.setup_seconds "
            "FROM runs r JOIN results s USING (run_key) WHERE run_key = ?",
            (key,),
        ).fetchone()
        if row is None or not RunStatus(row[0]).done:
            return None
        epochs = self.connection.execute(
            "SELECT epoch, train_loss, train_accuracy, val_loss, val_accuracy, seconds, test_accuracy FROM epochs "
            "WHERE run_key = ? ORDER BY epoch",
            (key,),
        ).fetchall()
        return RunResult(spec, row[1], row[2], RunStatus(row[0]), row[3], row[4], row[5], row[6], row[7],
                         tuple(EpochMetrics(*epoch) for epoch in epochs), row[8], row[9], row[10])  # fmt: skip

    def experiments(self) -> list[StoredExperiment]:
        """Every experiment started on this store, oldest first (a name recurs when it was run again)."""
        rows = self.connection.execute("SELECT name, spec, created_at FROM experiments ORDER BY rowid").fetchall()
        return [StoredExperiment(name, json.loads(spec), created) for name, spec, created in rows]

    def datasets(self) -> dict[str, StoredDataset]:
        """Recorded data sets by :func:`data_key`; none in a store written before they were recorded."""
        if not self._has_table("datasets"):
            return {}
        found = {}
        for key, spec, description, example, label in self.connection.execute(
            "SELECT data_key, spec, description, example, example_label FROM datasets"
        ):
            image = np.load(io.BytesIO(example), allow_pickle=False) if example is not None else None
            found[key] = StoredDataset(DataSpec.from_dict(json.loads(spec)), json.loads(description), image, label)
        return found

    def runs(self) -> list[StoredRun]:
        """Every run in the store in the order it was (last) started, with its epochs and result where it has one."""
        # A store opened for reading is not migrated: an older one lacks the columns added since.
        columns = ", ".join(
            f"r.{column}" if self._has_column("runs", column) else "NULL" for column in ENVIRONMENT_COLUMNS
        )
        serving = ", ".join(
            f"s.{column}" if self._has_column("results", column) else "NULL"
            for column in ("latency_ms", "images_per_second", "setup_seconds")
        )
        rows = self.connection.execute(
            f"SELECT r.run_key, r.spec, r.status, r.reason, {columns}, s.params, s.trainable_params, s.best_epoch, "
            "s.best_val_accuracy, s.test_accuracy, s.test_accuracy_at_best, s.train_seconds, s.confusion, "
            f"{serving}, s.run_key IS NOT NULL FROM runs r LEFT JOIN results s USING (run_key) ORDER BY r.rowid"
        ).fetchall()
        test = "test_accuracy" if self._has_column("epochs", "test_accuracy") else "NULL"
        epochs: dict[str, list[EpochMetrics]] = {}
        for key, *metrics in self.connection.execute(
            f"SELECT run_key, epoch, train_loss, train_accuracy, val_loss, val_accuracy, seconds, {test} FROM epochs "
            "ORDER BY run_key, epoch"
        ):
            epochs.setdefault(key, []).append(EpochMetrics(*metrics))
        stored = []
        width = len(ENVIRONMENT_COLUMNS)
        for key, spec_text, status_text, reason, *rest in rows:
            status = RunStatus(status_text)
            environment = dict(zip(ENVIRONMENT_COLUMNS, rest[:width], strict=True))
            values = rest[width:]
            spec = RunSpec.from_dict(json.loads(spec_text))
            result = None
            if values[-1] and status.done:
                result = RunResult(spec, values[0], values[1], status, values[2], values[3], values[4], values[5],
                                   values[6], tuple(epochs.get(key, ())), values[8], values[9], values[10])  # fmt: skip
            confusion = json.loads(values[7]) if values[7] else None
            stored.append(StoredRun(key, spec, status, reason, environment, result, confusion))
        return stored

    def _has_column(self, table: str, column: str) -> bool:
        return any(row[1] == column for row in self.connection.execute(f"PRAGMA table_info({table})"))

    def _has_table(self, name: str) -> bool:
        query = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
        return bool(self.connection.execute(query, (name,)).fetchone()[0])


def _epoch_row(metrics: EpochMetrics) -> tuple[Any, ...]:
    return (metrics.epoch, metrics.train_loss, metrics.train_accuracy, metrics.val_loss, metrics.val_accuracy,
            metrics.seconds, metrics.test_accuracy)  # fmt: skip


def _check_is_store(path: Path) -> None:
    """A newer store, or an SQLite file that is not a store, refused by reading it (nothing written)."""
    connection = _connect_read_only(path)
    try:
        if (
            _check_version(connection, path) == 0
            and connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        ):
            raise RnnbenchError(f"{path} is an SQLite file but not a results store; give another --store")
    finally:
        connection.close()


def _check_not_in_use(path: Path) -> None:
    """Another process writing the store holds its lock file's lock; the file itself is left as found."""
    try:
        descriptor = os.open(f"{path}.lock", os.O_RDONLY)
    except OSError:
        return
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(descriptor, fcntl.LOCK_UN)
    except BlockingIOError:
        raise RnnbenchError(
            f"store {path} is in use by another rnnbench process; wait for it to finish or use another --store"
        ) from None
    finally:
        os.close(descriptor)


def _connect(path: Path) -> sqlite3.Connection:
    try:
        connection = sqlite3.connect(path, timeout=30.0)
        _check_version(connection, path)  # before anything is written: a newer store stays as it was
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as error:
        raise RnnbenchError(f"{path} is not a usable results store ({error}); give another --store") from None
    return connection


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """``path`` opened so that nothing is written, not even SQLite's shared-memory file where its folder is read-only
    (there the file is read as immutable: no writer can be at work in a folder no one may write)."""
    uri = f"file:{urllib.parse.quote(str(path.absolute()))}?mode=ro"
    if not os.access(path.parent.absolute(), os.W_OK):
        uri += "&immutable=1"
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=30.0)
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as error:
        raise RnnbenchError(f"{path} is not a usable results store ({error}); give another --store") from None
    return connection


def _check_version(connection: sqlite3.Connection, path: Path) -> int:
    version = int(connection.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        try:
            row = connection.execute("SELECT rnnbench_version FROM runs ORDER BY rowid DESC LIMIT 1").fetchone()
        except sqlite3.Error:
            row = None
        writer = f"rnnbench {row[0]}" if row and row[0] else "a newer rnnbench"
        raise RnnbenchError(
            f"{path} was written by {writer} (store schema {version}); this is rnnbench {__version__}, which reads "
            f"schemas up to {SCHEMA_VERSION} and never changes a newer store: upgrade rnnbench or give another --store"
        )
    return version


def _migrate(connection: sqlite3.Connection, path: Path) -> None:
    version = _check_version(connection, path)
    if version == 0 and connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
        raise RnnbenchError(f"{path} is an SQLite file but not a results store; give another --store")
    for target in range(version + 1, SCHEMA_VERSION + 1):
        # One transaction per step: a crash mid-migration leaves the previous version intact.
        connection.executescript(f"BEGIN; {MIGRATIONS[target - 1]}; PRAGMA user_version = {target}; COMMIT;")
