import sqlite3

import pytest

from rnnbench.errors import RnnbenchError
from rnnbench.results.run_result import EpochMetrics, RunResult, RunStatus
from rnnbench.results.store import SCHEMA_VERSION, Store, StoredTrial, TrialState
from rnnbench.spec import DataSpec, ModelSpec, RunSpec, TrainSpec

SPEC = RunSpec(DataSpec("digits"), ModelSpec("lstm", 8), TrainSpec(epochs=2), seed=3)
EPOCHS = (EpochMetrics(1, 1.5, 0.5, 1.2, 0.6, 0.9), EpochMetrics(2, 0.9, 0.7, 0.8, 0.75, 0.2))
RESULT = RunResult(SPEC, 666, 650, RunStatus.FINISHED, 2, 0.75, 0.74, 0.74, 1.1, EPOCHS)


def test_a_new_store_has_the_current_schema_in_wal_mode(tmp_path):
    with Store.open(tmp_path / "s.db") as store:
        assert store.connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in store.connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert tables == {"experiments", "runs", "epochs", "results", "datasets", "models", "trials"}


def test_a_run_goes_from_running_to_finished_and_reads_back(tmp_path):
    with Store.open(tmp_path / "s.db") as store:
        store.start_run(SPEC, {"rnnbench_version": "0.1.0", "keras_version": "3", "device": "cpu"})
        assert store.status(SPEC.key()) == RunStatus.RUNNING and store.result(SPEC) is None
        store.record_epoch(SPEC.key(), EPOCHS[0])
        store.finish_run(RESULT, [[1, 0], [0, 1]])
        assert store.status(SPEC.key()) == RunStatus.FINISHED
        assert store.result(SPEC) == RESULT
        assert [run.confusion for run in store.runs()] == [[[1, 0], [0, 1]]]
    with Store.read(tmp_path / "s.db") as store:  # and after reopening
        assert store.result(SPEC) == RESULT
        row = store.connection.execute("SELECT spec, device FROM runs").fetchone()
        assert RunSpec.from_dict(__import__("json").loads(row[0])) == SPEC and row[1] == "cpu"


def test_diverged_runs_are_results_too_and_failures_keep_their_reason(tmp_path):
    diverged = RunResult(SPEC, 666, 650, RunStatus.DIVERGED, None, None, None, None, 0.5, EPOCHS[:1])
    other = RunSpec(DataSpec("digits"), ModelSpec("gru", 8), TrainSpec(epochs=2))
    with Store.open(tmp_path / "s.db") as store:
        store.start_run(SPEC, {})
        store.finish_run(diverged, None)
        assert store.result(SPEC) == diverged
        store.start_run(other, {})
        store.fail_run(other, "worker process killed by SIGKILL")
        assert store.status(other.key()) == RunStatus.FAILED and store.result(other) is None
        assert store.has_result(SPEC.key()) and not store.has_result(other.key()) and not store.has_result("nothing")
        failed = next(run for run in store.runs() if run.run_key == other.key())
        assert (failed.status, failed.reason) == (RunStatus.FAILED, "worker process killed by SIGKILL")


def test_a_second_writer_is_refused(tmp_path):
    with (
        Store.open(tmp_path / "s.db"),
        pytest.raises(RnnbenchError, match="is in use by another rnnbench process"),
        Store.open(tmp_path / "s.db"),
    ):
        pass
    with Store.open(tmp_path / "s.db"):  # released again
        pass


def test_foreign_and_newer_files_are_refused(tmp_path):
    foreign = tmp_path / "other.db"
    sqlite3.connect(foreign).execute("CREATE TABLE notes (text TEXT)").connection.commit()
    with pytest.raises(RnnbenchError, match="is an SQLite file but not a results store"), Store.open(foreign):
        pass
    newer = tmp_path / "newer.db"
    connection = sqlite3.connect(newer)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.commit()
    before = newer.read_bytes()
    for opening in (Store.open, Store.read):
        expected = (rf"written by a newer rnnbench \(store schema {SCHEMA_VERSION + 1}\); this is rnnbench .*, which "
                    rf"reads schemas up to {SCHEMA_VERSION} and never changes a newer")  # fmt: skip
        with pytest.raises(RnnbenchError, match=expected), opening(newer):
            pass
    assert newer.read_bytes() == before
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"definitely not sqlite" * 100)
    with pytest.raises(RnnbenchError, match="not a usable results store"), Store.open(garbage):
        pass
    with pytest.raises(RnnbenchError, match="no results store at"), Store.read(tmp_path / "missing.db"):
        pass


def test_runs_data_sets_and_experiments_read_back(tmp_path):
    import numpy as np

    image = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8, 1)
    with Store.open(tmp_path / "s.db") as store:
        store.save_experiment("first", {"models": ["lstm"]})
        store.save_dataset(SPEC.data, {"train": 90, "classes": 10}, image, 7)
        store.start_run(SPEC, {"host": "box", "device": "cpu"})
        store.finish_run(RESULT, [[1, 0], [0, 1]])
    with Store.read(tmp_path / "s.db") as store:
        (run,) = store.runs()
        assert run.result == RESULT and run.confusion == [[1, 0], [0, 1]] and run.status == RunStatus.FINISHED
        assert run.environment["host"] == "box" and run.environment["started_at"]
        (stored,) = store.datasets().values()
        assert stored.spec == SPEC.data and stored.description == {"train": 90, "classes": 10}
        assert stored.example is not None and np.array_equal(stored.example, image) and stored.example_label == 7
        assert [(e.name, e.spec) for e in store.experiments()] == [("first", {"models": ["lstm"]})]


def test_a_store_from_before_data_set_records_still_reads(tmp_path):
    from rnnbench.results.store import MIGRATIONS

    connection = sqlite3.connect(tmp_path / "old.db")
    connection.executescript(f"{MIGRATIONS[0]}; PRAGMA user_version = 1;")
    connection.close()
    with Store.read(tmp_path / "old.db") as store:
        assert store.datasets() == {} and store.runs() == []


def test_a_newer_store_names_the_version_that_wrote_it(tmp_path):
    path = tmp_path / "newer.db"
    with Store.open(path) as store:
        store.start_run(SPEC, {"rnnbench_version": "9.1.0"})
    with sqlite3.connect(path) as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(RnnbenchError, match=r"written by rnnbench 9\.1\.0 \(store schema"), Store.open(path):
        pass


@pytest.mark.parametrize("change", ["delete", "replace"])
def test_a_store_deleted_or_replaced_while_open_takes_no_more_results(tmp_path, change):
    path = tmp_path / "s.db"
    with Store.open(path) as store:
        store.start_run(SPEC, {})
        if change == "delete":
            path.unlink()
        else:
            (tmp_path / "copy.db").write_bytes(path.read_bytes())
            (tmp_path / "copy.db").replace(path)
        assert not store.in_place()
        with pytest.raises(RnnbenchError, match=f"store {path} was deleted or replaced while this command ran"):
            store.record_epoch(SPEC.key(), EPOCHS[0])
        with pytest.raises(RnnbenchError, match="runs resume from"):
            store.finish_run(RESULT, None)


def test_states_are_stored_as_the_text_earlier_versions_wrote(tmp_path):
    trial = StoredTrial("search", "lstm", 0, {"batch_size": 32}, "pruned", 0.5, 0.9, 3, 1.5, SPEC.key())
    with Store.open(tmp_path / "s.db") as store:
        store.start_run(SPEC, {})
        store.interrupt_runs([SPEC.key()])
        store.save_trial(trial)
        assert store.connection.execute("SELECT status FROM runs").fetchone() == ("interrupted",)
        assert store.connection.execute("SELECT state FROM trials").fetchone() == ("pruned",)
        (stored,) = store.trials()
        assert stored == trial and stored.state is TrialState.PRUNED and store.status(SPEC.key()) == "interrupted"
    assert [status.value for status in RunStatus] == ["running", "finished", "diverged", "failed", "interrupted"]
    assert [state.value for state in TrialState] == ["running", "pruned", "complete", "failed"]
    assert f"{RunStatus.DIVERGED}: {TrialState.COMPLETE:>9}" == "diverged:  complete"
    assert {RunStatus.FINISHED: 1}["finished"] == 1 and __import__("json").dumps([TrialState.FAILED]) == '["failed"]'


def test_a_refused_store_is_refused_before_anything_is_written_beside_it(tmp_path):
    notes = tmp_path / "notes.db"
    notes.write_text("my notes")
    with pytest.raises(RnnbenchError, match="not a usable results store"), Store.open(notes):
        pass
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.db"] and notes.read_text() == "my notes"


def test_a_store_in_use_is_said_at_once_by_the_early_check(tmp_path):
    store = tmp_path / "busy.db"
    with Store.open(store), pytest.raises(RnnbenchError, match="is in use by another rnnbench process"):
        Store.check_writable(store)
    Store.check_writable(store)  # free again once the writer is done
