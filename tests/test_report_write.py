"""Writing reports, from the library and from 'rnnbench report': formats, folders, and one-line errors."""

from __future__ import annotations

import shutil

import pytest

from rnnbench.cli import main
from rnnbench.errors import RnnbenchError
from rnnbench.report.write import parse_formats, report_from_store


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0]
    return err[0]


def test_report_writes_the_formats_asked_for(tiny_sweep, tmp_path, capsys):
    out = tmp_path / "only-html"
    assert main(["report", "--store", str(tiny_sweep.store), "--out", str(out), "--format", "html,json"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"html: {out}/report.html", f"json: {out}/report.json"]
    assert sorted(path.name for path in out.iterdir()) == ["report.html", "report.json"]


def test_the_store_is_only_read(tiny_sweep, tmp_path):
    copy = tmp_path / "copy.db"
    shutil.copy(tiny_sweep.store, copy)
    before = copy.read_bytes()
    report_from_store(copy, tmp_path / "out", ("json",))
    assert copy.read_bytes() == before


def test_a_sweep_writes_its_report_and_prints_the_path(tiny_sweep):
    assert f"report written to {tiny_sweep.report}/report.html" in tiny_sweep.stdout
    assert {path.name for path in tiny_sweep.report.iterdir()} == {"report.html", "report.md", "report.json",
                                                                   "figures", "csv"}  # fmt: skip


def test_formats_are_checked():
    assert parse_formats("md, HTML,md") == ("md", "html")
    with pytest.raises(RnnbenchError, match="--format 'pdf': choose one or more of html, md, json, csv"):
        parse_formats("pdf")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--store", "missing.db"], "no results store at missing.db; run 'rnnbench compare' or 'rnnbench sweep' first"),
        (["--format", "html,pdf"], "--format 'html,pdf': choose one or more of html, md, json, csv"),
        (["--filter", "model=lstm"], "matches model=lstm; the store holds model: gru, simplernn; dataset: digits"),
        (["--filter", "size=3"], "--filter 'size=3': unknown key 'size'; known: model, units, dataset"),
        (["--experiment", "other"], "no experiment named 'other'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tiny_sweep, capsys, args, message):
    arguments = ["report", *args] if args[0] == "--store" else ["report", "--store", str(tiny_sweep.store), *args]
    assert main(arguments) == 2
    line = _one_line_error(capsys)
    assert line.startswith("rnnbench: error: ") and message in line


def test_a_file_that_is_not_a_store_is_refused(tmp_path, capsys):
    (tmp_path / "empty.db").write_bytes(b"")
    assert main(["report", "--store", str(tmp_path / "empty.db")]) == 2
    assert "is not a results store" in _one_line_error(capsys)
