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
