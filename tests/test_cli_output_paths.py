"""Output paths are checked before any work: nothing rnnbench keeps is replaced, and unwritable paths are said."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from rnnbench.cli import main
from rnnbench.cli.output_paths import check_output_file, check_output_folder, store_files
from rnnbench.errors import RnnbenchError

COMPARE = ["compare", "--dataset", "digits", "--models", "gru", "--seeds", "1", "--epochs", "1", "--quiet"]


def _store(path: Path) -> Path:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE runs (run_key TEXT)")
        connection.execute("INSERT INTO runs VALUES ('a')")
    return path


def test_the_store_and_what_lives_beside_it_are_never_outputs(tmp_path):
    store = _store(tmp_path / "r.db")
    kept = store_files(store)
    with pytest.raises(RnnbenchError, match=r"--json .*r.db would replace .*r.db, which rnnbench keeps"):
        check_output_file(store, "--json", kept)
    with pytest.raises(RnnbenchError, match="is inside .*r.db-checkpoints"):
        check_output_file(tmp_path / "r.db-checkpoints" / "s.json", "--json", kept)
    with pytest.raises(RnnbenchError, match="would replace .*r.db-checkpoints"):
        check_output_folder(tmp_path / "r.db-checkpoints", "--out", kept)
    check_output_file(tmp_path / "summary.json", "--json", kept)
    check_output_folder(tmp_path / "report", "--out", kept)


def test_another_store_or_an_archive_is_not_replaced_by_a_summary(tmp_path):
    other = _store(tmp_path / "other.db")
    with pytest.raises(RnnbenchError, match="is an SQLite database"):
        check_output_file(other, "--json", [])
    np.savez(tmp_path / "data.npz", x=np.zeros(3))
    with pytest.raises(RnnbenchError, match="is a zip archive"):
        check_output_file(tmp_path / "data.npz", "--json", [])
    (tmp_path / "old.json").write_text("{}")
    check_output_file(tmp_path / "old.json", "--json", [])  # an earlier summary may be replaced


def test_a_parent_that_is_a_file_is_said(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(RnnbenchError, match=r"--json .*file/x/s.json: .*file is a file, not a folder"):
        check_output_file(tmp_path / "file" / "x" / "s.json", "--json", [])
    with pytest.raises(RnnbenchError, match="is a file, not a folder; give a folder"):
        check_output_folder(tmp_path / "file", "--out", [])


def test_json_given_the_store_refuses_before_training_and_the_store_is_intact(tmp_path, capsys):
    assert main([*COMPARE, "--no-report"]) == 0
    store = tmp_path / "rnnbench.db"
    before = store.read_bytes()
    capsys.readouterr()
    assert main([*COMPARE, "--json", "rnnbench.db", "--force"]) == 2
    error = capsys.readouterr().err
    assert error.strip() == (
        "rnnbench: error: --json rnnbench.db would replace rnnbench.db, which rnnbench keeps; give another path"
    )
    assert store.read_bytes() == before
    with sqlite3.connect(store) as connection:
        assert connection.execute("SELECT count(*) FROM results").fetchone() == (1,)
