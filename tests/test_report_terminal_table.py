"""The terminal table: the same rows and cells as the report's, for the same store."""

from __future__ import annotations

import re

from rnnbench.cli import main


def _terminal_rows(text: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.strip("│").split("│")] for line in text.splitlines() if line.startswith("│")]


def _markdown_rows(text: str, header: str) -> list[list[str]]:
    lines = text.splitlines()
    start = lines.index(header)
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_the_terminal_and_the_report_show_the_same_numbers(tmp_path, capsys):
    store, later = tmp_path / "s.db", tmp_path / "later"
    args = ["--dataset", "digits", "--models", "simplernn,gru", "--units", "8", "--epochs", "2", "--seeds", "2",
            "--limit-train", "300", "--limit-test", "100", "--jobs", "1", "--quiet", "--no-report"]  # fmt: skip
    assert main(["compare", *args, "--store", str(store)]) == 0
    terminal = _terminal_rows(capsys.readouterr().out)
    assert main(["report", "--store", str(store), "--format", "md", "--out", str(later)]) == 0
    header = "| model | runs | units | params | best val acc % | best epoch | test acc % | test acc % at best | " \
             "s/epoch | samples/s | setup s | latency ms | images/s |"  # fmt: skip
    report = _markdown_rows((later / "report.md").read_text(), header)
    assert [row[0] for row in terminal] == ["simplernn", "gru"]
    assert terminal == report
    assert all("±" in cell for row in terminal for cell in (row[4], row[6], row[7]))  # two seeds: intervals


def test_a_narrow_terminal_leaves_out_columns_and_never_cuts_a_figure(tmp_path, capsys, monkeypatch):
    store = tmp_path / "s.db"
    args = ["compare", "--dataset", "digits", "--models", "simplernn,gru", "--units", "8", "--epochs", "2", "--seeds",
            "3", "--limit-train", "300", "--limit-test", "100", "--jobs", "1", "--quiet", "--no-report", "--store",
            str(store)]  # fmt: skip
    assert main(args) == 0
    wide = _terminal_rows(capsys.readouterr().out)
    assert len(wide[0]) == 13
    report = (tmp_path / "md").as_posix()
    assert main(["report", "--store", str(store), "--format", "md", "--out", report]) == 0
    capsys.readouterr()
    for columns in (100, 80, 60):
        monkeypatch.setenv("COLUMNS", str(columns))
        assert main(args) == 0
        out = capsys.readouterr().out
        assert max(len(line) for line in out.splitlines()) <= columns
        narrow = _terminal_rows(out)
        left_out = re.search(rf"\(left out to fit {columns} columns: (.*?);", " ".join(out.split()))
        assert left_out is not None, out
        kept = 13 - len(left_out.group(1).split(", "))
        assert all(len(row) == kept for row in narrow), (columns, narrow, wide)
        # Every figure shown is whole: each row's cells are a subsequence of the full row's.
        for short, full in zip(narrow, wide, strict=True):
            cells = iter(full)
            assert all(any(cell == candidate for candidate in cells) for cell in short), (short, full)
    assert kept >= 4  # model, params and both accuracies fit even 60 columns
