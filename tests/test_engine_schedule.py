"""The two forms of the warm-up + cosine schedule (Keras' for the presets, the traced one for a search's trials)
give the same learning rate at every step, to within float32 rounding."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rnnbench.engine.schedule import scheduled_rate, warmup_cosine

# (warm-up steps, total steps): none, short, half, a long run's, the one-step run.
SCHEDULES = [(0, 30), (5, 30), (10, 20), (7, 453), (45, 450), (0, 1)]
PEAKS = [1e-3, 3.7e-3, 1.23e-2, 2e-2, 0.1]


def keras_rates(peak: float, warmup: int, total: int, steps: np.ndarray) -> np.ndarray:
    """As inside a preset's optimizer: the schedule's numbers are constants of the compiled program."""
    schedule = warmup_cosine(peak, warmup, total)
    return np.asarray(jax.jit(jax.vmap(schedule))(jnp.asarray(steps)))


def traced_rates(peak: float, cosine: bool, warmup: int, total: int, steps: np.ndarray) -> np.ndarray:
    """As inside a trial's compiled step: the schedule's numbers are arguments of the program."""
    numbers = jnp.asarray([peak, float(cosine), warmup, total], jnp.float32)

    def rate(step: jax.Array, numbers: jax.Array) -> jax.Array:
        return scheduled_rate(step.astype(jnp.float32), *numbers)

    return np.asarray(jax.jit(jax.vmap(rate, in_axes=(0, None)))(jnp.asarray(steps), numbers))


@pytest.mark.parametrize(("warmup", "total"), SCHEDULES)
def test_both_forms_agree_at_every_step(warmup, total):
    steps = np.arange(total + 3)  # past the end too: both stay at zero
    for peak in PEAKS:
        expected = keras_rates(peak, warmup, total, steps)
        got = traced_rates(peak, True, warmup, total, steps)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6 * peak)


def test_the_schedule_warms_up_to_the_peak_and_decays_to_zero():
    peak, warmup, total = 0.02, 10, 110
    rates = traced_rates(peak, True, warmup, total, np.arange(total + 1))
    np.testing.assert_allclose(rates[:warmup], peak * np.arange(warmup) / warmup, rtol=1e-6)
    assert rates[warmup] == pytest.approx(peak) and rates[total] == pytest.approx(0.0, abs=1e-9)
    assert np.all(np.diff(rates[warmup:]) <= 0)


def test_without_cosine_the_rate_is_the_peak():
    np.testing.assert_array_equal(traced_rates(0.02, False, 5, 30, np.arange(40)), np.float32(0.02))
