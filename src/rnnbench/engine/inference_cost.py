"""What a trained model costs to serve: the latency of one image and the throughput of large batches, measured where
the run trained (its device, its one thread of math in a worker) through Keras' ``predict_on_batch``."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

THROUGHPUT_BATCH = 1024
WARMUP_CALLS = 3
LATENCY_CALLS = 30
THROUGHPUT_CALLS = 3


@dataclass(frozen=True)
class InferenceCost:
    """``latency_ms``: median milliseconds for one image (batch 1); ``images_per_second`` at batch 1,024."""

    latency_ms: float
    images_per_second: float


def measure_inference(model: Any, steps: int, features: int) -> InferenceCost:
    """Time ``model`` on random sequences after warm-up calls (the first call of a batch size compiles it)."""
    rng = np.random.default_rng(0)
    one = rng.random((1, steps, features), dtype=np.float32)
    batch = rng.random((THROUGHPUT_BATCH, steps, features), dtype=np.float32)
    latency = _median_seconds(model, one, LATENCY_CALLS)
    batch_seconds = _median_seconds(model, batch, THROUGHPUT_CALLS)
    return InferenceCost(latency_ms=latency * 1e3, images_per_second=THROUGHPUT_BATCH / batch_seconds)


def _median_seconds(model: Any, inputs: np.ndarray, calls: int) -> float:
    for _ in range(WARMUP_CALLS):
        np.asarray(model.predict_on_batch(inputs))
    seconds = []
    for _ in range(calls):
        started = time.perf_counter()
        np.asarray(model.predict_on_batch(inputs))  # to NumPy: the work is done, whatever the backend defers
        seconds.append(time.perf_counter() - started)
    return float(np.median(seconds))
