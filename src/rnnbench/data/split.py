"""Seeded subsets and stratified splits."""

from __future__ import annotations

import numpy as np

from rnnbench.errors import RnnbenchError


def stratified_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split indices into (kept, held_out) with ``round(fraction * N)`` held out, each class in proportion.

    Every sample gets a position in [0, 1) from its shuffled rank within its class; the lowest positions are held out.
    This keeps class proportions for any size, including sets too small for one sample of every class.
    """
    rng = np.random.default_rng(seed)
    held_out = int(round(len(labels) * fraction))
    position = np.empty(len(labels))
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        rng.shuffle(members)
        position[members] = (np.arange(len(members)) + rng.random()) / len(members)
    order = np.argsort(position, kind="stable")
    return np.sort(order[held_out:]), np.sort(order[:held_out])


def seeded_subset(size: int, limit: int | None, seed: int) -> np.ndarray:
    """Indices of ``limit`` samples out of ``size`` drawn with ``seed`` (all of them, in order, without a limit)."""
    if limit is None or limit >= size:
        return np.arange(size)
    return np.sort(np.random.default_rng(seed).permutation(size)[:limit])


def check_split_sizes(train: int, val: int, val_fraction: float) -> None:
    if train == 0:
        raise RnnbenchError("no training samples left after the validation split; lower --val-fraction")
    if val_fraction > 0 and val == 0:
        raise RnnbenchError(
            f"--val-fraction {val_fraction} of {train} training samples leaves an empty validation set; "
            "raise it, raise --limit-train, or use --val-fraction 0"
        )
