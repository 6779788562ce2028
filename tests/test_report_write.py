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
    # .figures: the drawn figures, kept so that a report written again redraws only what changed; the marker says
    # that rnnbench may write here again
    assert sorted(path.name for path in out.iterdir()) == [".figures", ".rnnbench-report", "report.html",
                                                           "report.json"]  # fmt: skip


def test_the_store_is_only_read(tiny_sweep, tmp_path):
    copy = tmp_path / "copy.db"
    shutil.copy(tiny_sweep.store, copy)
    before = copy.read_bytes()
    report_from_store(copy, tmp_path / "out", ("json",))
    assert copy.read_bytes() == before


def test_a_sweep_writes_its_report_and_prints_the_path(tiny_sweep):
    assert f"report written to {tiny_sweep.report}/report.html" in tiny_sweep.stdout
    assert {path.name for path in tiny_sweep.report.iterdir()} == {"report.html", "report.md", "report.json",
                                                                   "figures", "csv", ".figures",
                                                                   ".rnnbench-report"}  # fmt: skip


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


def _files(folder):
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def _report_of_two_seeds(tmp_path):
    from report_stores import HALF, PERFECT, fill, result, spec

    runs = [(result(spec(model, seed), (0.5, 0.6 + seed / 10), 0.5 + seed / 10), PERFECT if seed else HALF)
            for model in ("lstm", "gru") for seed in (0, 1)]  # fmt: skip
    return fill(tmp_path / "s.db", runs)


def test_a_plot_that_fails_leaves_an_existing_report_as_it_was(tmp_path, monkeypatch):
    from dataclasses import replace

    from report_stores import PERFECT, fill, result, spec
    from rnnbench.report import plots

    store, out = _report_of_two_seeds(tmp_path), tmp_path / "report"
    report_from_store(store, out)
    before = _files(out)
    assert "figures/panel1-learning_curves-1.png" in before and "csv/runs.csv" in before
    fill(store, [(result(spec("lstm", 2), (0.5, 0.9), 0.9), PERFECT)])  # every figure changes: all are drawn again

    def fails(panel, tables):
        raise RuntimeError("this plot cannot be drawn")

    *others, last = plots.PLOTS
    monkeypatch.setattr(plots, "PLOTS", (*others, replace(last, draw=fails)))
    with pytest.raises(RuntimeError, match="this plot cannot be drawn"):
        report_from_store(store, out)
    after = _files(out)
    assert {name: data for name, data in after.items() if not name.startswith(".figures/")} == {
        name: data for name, data in before.items() if not name.startswith(".figures/")
    }
    # The earlier figures stay in the cache too, until a report that uses others is written whole.
    assert set(before) <= set(after)


def test_a_report_goes_only_into_a_folder_of_reports(tmp_path):
    from rnnbench.report.folder import MARKER

    store = _report_of_two_seeds(tmp_path)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "report.md").write_text("my own notes\n")
    with pytest.raises(RnnbenchError, match=r"mine is a folder of other files, not a report rnnbench wrote"):
        report_from_store(store, mine, ("json",))
    assert sorted(path.name for path in mine.iterdir()) == ["report.md"]

    empty = tmp_path / "empty"
    empty.mkdir()
    report_from_store(store, empty, ("json",))
    assert (empty / MARKER).is_file()
    report_from_store(store, empty, ("md",))  # marked: written again

    earlier = tmp_path / "earlier"  # written before the marker: its own page says where it came from
    report_from_store(store, earlier, ("html",))
    (earlier / MARKER).unlink()
    (earlier / "notes.txt").write_text("kept\n")
    report_from_store(store, earlier, ("html", "json"))
    assert (earlier / "notes.txt").read_text() == "kept\n"
