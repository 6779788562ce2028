"""What a run costs, relative to others: used to order runs and to scale the estimate of a grid's time."""

from __future__ import annotations

from rnnbench.models.registry import model_info
from rnnbench.spec import RunSpec

# The input width the cost of a step is estimated for: runs are only ordered by it, never scheduled on it exactly.
NOMINAL_FEATURES = 32


def estimated_cost(spec: RunSpec) -> float:
    """Relative cost of a run: multiply-adds of its recurrent layers per sample and step, times epochs, per batch."""
    model = spec.model
    per_step = model_info(model.name).cost_per_step(model.units, NOMINAL_FEATURES)
    directions = 2 if model.bidirectional else 1
    return per_step * model.layers * directions * spec.train.epochs / spec.train.batch_size
