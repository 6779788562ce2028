"""The HTML report in a real headless Chromium, offline: it renders, fits a laptop and a phone, and asks for nothing."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from browser import CHROMIUM, Chromium, file_url

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; .ci/run installs it)"
)

LAPTOP = (1280, 800)
PHONE = (390, 844)
# Each comparison table: its right edge, and how far it overflows the box it would scroll in.
COMPARISON_TABLES = (
    "[...document.querySelectorAll('table.comparison')].map(table => ({right: table.getBoundingClientRect().right, "
    "overflow: table.parentElement.scrollWidth - table.parentElement.clientWidth}))"
)


def _picture(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


@pytest.fixture(scope="module")
def browser():
    with Chromium() as chromium:
        yield chromium


@pytest.mark.parametrize(("width", "height", "mobile"), [(*LAPTOP, False), (*PHONE, True)], ids=["laptop", "phone"])
def test_the_report_renders_offline_without_requests_or_errors(browser, tiny_sweep, tmp_path, width, height, mobile):
    visit = browser.visit(file_url(tiny_sweep.report / "report.html"), width, height, mobile)
    assert visit.requests == []
    assert visit.errors == []
    # Nothing wider than the screen: wide tables scroll inside their own box, figures shrink to fit.
    assert visit.content_width <= width
    picture = _picture(visit.screenshot)
    (tmp_path / f"report-{width}.png").write_bytes(visit.screenshot)
    assert picture.shape[1] == width
    assert picture.shape[0] == visit.content_height >= 3 * height  # tables and seven figures make a long page
    # Not blank: a good share of the page is drawn, in many colours (plots, not just text).
    assert np.mean(picture.min(axis=2) < 200) > 0.05
    assert len(np.unique(picture.reshape(-1, 3), axis=0)) > 200


def test_a_page_that_fetches_or_fails_is_caught(browser, tmp_path):
    """The checks above can fail: a page with an external image and a script error trips both."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<!doctype html><html><body><img src="http://127.0.0.1:9/x.png"><img src="https://example.org/y.png">'
        "<script>console.error('broken'); undefinedFunction();</script></body></html>"
    )
    visit = browser.visit(file_url(page), *LAPTOP)
    assert "http://127.0.0.1:9/x.png" in visit.requests and "https://example.org/y.png" in visit.requests
    assert any("broken" in error for error in visit.errors)
    assert any("undefinedFunction" in error or "Uncaught" in error for error in visit.errors)


@pytest.fixture(scope="module")
def wide_report(tmp_path_factory):
    """A report whose comparison table is as wide as they come: every column filled, intervals, ranges of best
    epochs, diverged runs, thousands of images per second."""
    from dataclasses import replace

    from report_stores import HALF, PERFECT, diverged, fill, result, spec
    from rnnbench.report.write import report_from_store

    folder = tmp_path_factory.mktemp("wide")
    runs = []
    for model in ("simplernn", "gru", "lstm"):
        for seed in (0, 1, 2):
            run = result(spec(model, seed), (0.6 - seed / 10, 0.55 + seed / 9), 0.5 + seed / 7, (0.0123, 0.0098))
            costs = {"latency_ms": 12.34, "images_per_second": 1234567.0, "setup_seconds": 123.45}
            runs.append((replace(run, **costs), PERFECT if seed else HALF))
        runs.append((diverged(spec(model, 3)), None))
    report_from_store(fill(folder / "s.db", runs), folder / "report", ("html",))
    return folder / "report" / "report.html"


@pytest.mark.parametrize("which", ["tiny_sweep", "wide"])
def test_the_comparison_table_fits_a_laptop_without_scrolling(browser, tiny_sweep, wide_report, tmp_path, which):
    page = tiny_sweep.report / "report.html" if which == "tiny_sweep" else wide_report
    visit = browser.visit(file_url(page), *LAPTOP, measures={"tables": COMPARISON_TABLES})
    (tmp_path / f"{which}-{LAPTOP[0]}.png").write_bytes(visit.screenshot)
    assert visit.content_width <= LAPTOP[0]
    tables = visit.values["tables"]
    assert tables and all(table["right"] <= LAPTOP[0] and table["overflow"] <= 0 for table in tables), tables
