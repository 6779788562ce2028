"""The learning-rate schedule: a linear warm-up to the peak, then a cosine decay to zero at the last step.

Two forms compute it. Keras' ``CosineDecay`` (:func:`warmup_cosine`) is the presets' schedule, inside their optimizer
on every backend; :func:`scheduled_rate` is a search trial's, inside the compiled step on JAX, where the schedule's
numbers are traced arguments so that trials share one program. They order their float32 arithmetic differently and
agree to within rounding, not bit for bit; each stays as it is because stored results were trained with it and must
stay reproducible from their specs. ``tests/test_engine_schedule.py`` pins the two together at every step of many
schedules.
"""

from __future__ import annotations

from typing import Any


def warmup_cosine(peak: float, warmup_steps: int, total_steps: int) -> Any:
    """The schedule as a Keras ``LearningRateSchedule`` of the optimizer's iteration count."""
    import keras

    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup_steps else peak,
        decay_steps=total_steps - warmup_steps,
        warmup_target=peak if warmup_steps else None,
        warmup_steps=warmup_steps,
    )


def scheduled_rate(step_number: Any, peak: Any, cosine: Any, warmup_steps: Any, total_steps: Any) -> Any:
    """The learning rate at ``step_number`` (float32, counted from 0): the schedule where ``cosine`` > 0, else the
    constant ``peak``. Every argument may be a traced scalar."""
    import jax.numpy as jnp

    warming = peak * step_number / jnp.maximum(warmup_steps, 1.0)
    decay_steps = jnp.maximum(total_steps - warmup_steps, 1.0)
    decayed = peak * 0.5 * (1.0 + jnp.cos(jnp.pi * jnp.minimum(step_number - warmup_steps, decay_steps) / decay_steps))
    return jnp.where(cosine > 0, jnp.where(step_number < warmup_steps, warming, decayed), peak)
