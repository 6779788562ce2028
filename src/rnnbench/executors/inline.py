"""Runs one after another in this process."""

from __future__ import annotations

from collections.abc import Sequence

from rnnbench.config import RunSpec
from rnnbench.data.prepare import SequenceData
from rnnbench.results import RunResult
from rnnbench.training import TrainingObserver, train


def run_inline(
    runs: Sequence[RunSpec], data: SequenceData, observer: TrainingObserver | None = None
) -> list[RunResult]:
    return [train(spec, data, observer) for spec in runs]
