"""Runs too large for this machine are refused before training, not after a failed allocation.

The estimate is a lower bound, so a refusal is certain: training needs at least the weights and their gradients in
float32, plus one batch of the recurrent layer's output sequence kept for the backward pass.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from rnnbench.errors import RnnbenchError
from rnnbench.models.matching import parameter_count_at_width
from rnnbench.spec import RunSpec

FLOAT_BYTES = 4


def minimum_training_bytes(spec: RunSpec, steps: int, features: int, classes: int) -> int:
    """The fewest bytes that training ``spec`` can take on these shapes."""
    params = parameter_count_at_width(spec.model, steps, features, classes)
    directions = 2 if spec.model.bidirectional else 1
    activations = spec.train.batch_size * steps * spec.model.units * directions * spec.model.layers
    return FLOAT_BYTES * (2 * params + activations)


def physical_memory_bytes() -> int | None:
    """This machine's memory, where the system says."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_fits_in_memory(runs: Iterable[tuple[RunSpec, int, int, int]], available: int | None) -> None:
    """Refuse the first run (spec, steps, features, classes) that cannot fit in ``available`` bytes."""
    if available is None:
        return
    for spec, steps, features, classes in runs:
        needed = minimum_training_bytes(spec, steps, features, classes)
        if needed > available:
            raise RnnbenchError(
                f"{spec.model.name} with {spec.model.units:,} units needs at least {needed / 2**30:,.1f} GiB to train "
                f"and this machine has {available / 2**30:,.1f} GiB; give fewer --units (or a smaller batch size)"
            )
