"""The Markdown report of a tiny real sweep: the comparison table with the store's numbers, PNG figures beside it."""

from __future__ import annotations

import re

from report_pages import store_numbers
from rnnbench.report.plots import PLOTS


def test_tables_and_figures(tiny_sweep):
    text = (tiny_sweep.report / "report.md").read_text()
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    # One confusion matrix per model (2); the search's figures only for a tuned comparison.
    assert len(images) == len([plot for plot in PLOTS if not plot.name.startswith("search_")]) + 1
    for image in images:
        assert (tiny_sweep.report / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for heading in ("## Settings, versions and machine", "### Pairwise tests", "### Runs", "**Verdict:** best: "):
        assert heading in text
    for model, numbers in store_numbers(tiny_sweep.store).items():
        accuracy = f"{100 * numbers['mean']:.2f} ± {100 * numbers['half_width']:.2f}"
        assert re.search(
            rf"^\| {model} \| 2 \| 8 \| {numbers['params']:,} \| [^|]+ \| [^|]+ \| {accuracy} \|", text, re.M
        )


def test_learning_curves_without_validation_are_titled_alike_in_markdown_and_html(tmp_path):
    from dataclasses import replace

    from report_stores import PERFECT, fill, result, spec
    from rnnbench.report.write import report_from_store

    without = replace(spec("gru", 0).data, view="columns", val_fraction=0.0)
    runs = [result(spec("gru", seed), (0.5, 0.6), 0.55) for seed in (0, 1)]
    for seed in (0, 1):
        trained = result(spec("gru", seed, without), (0.5, 0.6), 0.55)
        epochs = tuple(replace(epoch, val_loss=None, val_accuracy=None) for epoch in trained.epochs)
        runs.append(replace(trained, epochs=epochs, best_val_accuracy=None))
    store = fill(tmp_path / "s.db", [(run, PERFECT) for run in runs])
    written = report_from_store(store, tmp_path / "r", ("html", "md"))
    markdown, html = written["md"].read_text(), written["html"].read_text()
    for title in ("Validation accuracy per epoch", "Training accuracy per epoch (no validation set)"):
        assert markdown.count(f"### {title}") == markdown.count(f"![{title}]") == html.count(f"<h3>{title}</h3>") == 1
