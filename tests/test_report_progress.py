"""Progress as a log sees it: a real sweep whose stdout is a pipe prints plain lines, never a carriage return."""

from __future__ import annotations

import re


def test_piped_progress_is_plain_lines_per_epoch_and_run(tiny_sweep):
    out = tiny_sweep.stdout
    assert "\r" not in out and "\x1b[" not in out  # no carriage returns, no cursor movement or colour codes
    epochs = re.findall(r"^\[(\d)/4\] (simplernn|gru) seed (\d) epoch (\d)/2 +loss [\d.]+ +acc [\d.]+", out, re.M)
    assert len(epochs) == 8  # 4 runs x 2 epochs, one line each
    ends = re.findall(r"^\[\d/4\] .* finished: test accuracy [\d.]+ .*", out, re.M)
    assert len(ends) == 4
    # The sweep's own progress: runs done out of the total, with the time left while some remain.
    assert re.search(r"\(1/4 runs done, about \d+ s left\)", out)
    assert re.search(r"\(3/4 runs done, about \d+ s left\)", out)
