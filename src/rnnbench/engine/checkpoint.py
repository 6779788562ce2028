"""End-of-epoch checkpoints: everything needed to continue a run as if it had never stopped.

A checkpoint holds the model's variables (BatchNormalization statistics and dropout's random state included), the
optimizer's variables (its step counter included), the best epoch's weights and the metrics so far; each epoch's
shuffle is a function of the seed and the epoch alone. It is written to a temporary file and renamed, so a kill
leaves the previous one intact.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnnbench.files import replace_atomically
from rnnbench.results.run_result import EpochMetrics


@dataclass
class Checkpoint:
    weights: list[np.ndarray]
    optimizer: list[np.ndarray]
    best_weights: list[np.ndarray] | None
    best_epoch: int | None
    best_val_accuracy: float | None
    epochs: list[EpochMetrics]

    @property
    def epoch(self) -> int:
        return len(self.epochs)


def save_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    meta = {
        "best_epoch": checkpoint.best_epoch,
        "best_val_accuracy": checkpoint.best_val_accuracy,
        "epochs": [asdict(epoch) for epoch in checkpoint.epochs],
        "counts": [len(checkpoint.weights), len(checkpoint.optimizer), len(checkpoint.best_weights or [])],
    }
    arrays: dict[str, Any] = {"meta": np.array(json.dumps(meta))}
    for prefix, values in (("w", checkpoint.weights), ("o", checkpoint.optimizer), ("b", checkpoint.best_weights)):
        arrays.update({f"{prefix}{index}": np.asarray(value) for index, value in enumerate(values or [])})
    replace_atomically(path, lambda file: np.savez(file, **arrays))


def save_checkpoint_bytes(path: Path, data: bytes) -> None:
    """Keep a checkpoint that another machine wrote and sent as bytes (``--executor ray``)."""
    replace_atomically(path, lambda file: file.write(data))


def load_checkpoint(path: Path) -> Checkpoint | None:
    """The checkpoint at ``path``, or None if there is none (or only an unreadable one, which is then ignored)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            meta = json.loads(str(archive["meta"]))
            weights, optimizer, best = meta["counts"]
            return Checkpoint(
                weights=[archive[f"w{index}"] for index in range(weights)],
                optimizer=[archive[f"o{index}"] for index in range(optimizer)],
                best_weights=[archive[f"b{index}"] for index in range(best)] if best else None,
                best_epoch=meta["best_epoch"],
                best_val_accuracy=meta["best_val_accuracy"],
                epochs=[EpochMetrics(**epoch) for epoch in meta["epochs"]],
            )
    except (OSError, ValueError, KeyError):
        return None
