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
    # .figures: the drawn figures, kept so that a report written again redraws only what changed
    assert sorted(path.name for path in out.iterdir()) == [".figures", "report.html", "report.json"]


def test_the_store_is_only_read(tiny_sweep, tmp_path):
    copy = tmp_path / "copy.db"
    shutil.copy(tiny_sweep.store, copy)
    before = copy.read_bytes()
    report_from_store(copy, tmp_path / "out", ("json",))
    assert copy.read_bytes() == before


def test_a_sweep_writes_its_report_and_prints_the_path(tiny_sweep):
    assert f"report written to {tiny_sweep.report}/report.html" in tiny_sweep.stdout
    assert {path.name for path in tiny_sweep.report.iterdir()} == {"report.html", "report.md", "report.json",
                                                                   "figures", "csv", ".figures"}  # fmt: skip


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


def test_diverged_and_failed_runs_are_reported_not_fatal(tmp_path):
    from report_stores import ENVIRONMENT, PERFECT, fill, result, spec
    from rnnbench.results.run_result import RunResult, RunStatus
    from rnnbench.results.store import Store

    store = fill(tmp_path / "s.db", [(result(spec("lstm", 0), (0.5, 0.6), 0.5), PERFECT)])
    diverged = RunResult(spec("gru", 0), 100, 90, RunStatus.DIVERGED, None, None, None, None, 0.3, ())
    with Store.open(store) as writer:
        writer.start_run(diverged.spec, ENVIRONMENT)
        writer.finish_run(diverged, None)
        writer.start_run(spec("gru", 1), ENVIRONMENT)
        writer.fail_run(spec("gru", 1), "worker process killed by SIGKILL")
    written = report_from_store(store, tmp_path / "out", ("html", "md", "json", "csv"))
    html = written["html"].read_text()
    assert "failed: worker process killed by SIGKILL" in html and ">diverged<" in html
    assert "0 + 1 diverged" in html  # gru's row: no finished run, one diverged
