"""The time a grid is expected to take, said before it starts, from the store's finished runs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from report_stores import PERFECT, fill, result, spec
from rnnbench.driver.estimate import duration_text, estimate_grid
from rnnbench.driver.experiment import run_experiment
from rnnbench.models.cost import estimated_cost
from rnnbench.spec import ExecutionConfig, ExperimentSpec, ModelSpec, TrainSpec


def _finished(model: str, seed: int, seconds=(2.0, 1.0), setup: float = 0.5):
    return replace(result(spec(model, seed), (0.5, 0.6), 0.6, seconds), setup_seconds=setup)


def test_runs_like_the_finished_ones_take_their_epochs_and_fixed_cost():
    history = [_finished("gru", seed, setup=setup) for seed, setup in ((0, 4.0), (1, 0.5), (2, 0.5), (3, 0.5))]
    todo = [replace(spec("gru", seed), train=TrainSpec(epochs=10)) for seed in range(10, 16)]
    estimate = estimate_grid(history, todo, workers=2)
    assert estimate is not None and estimate.basis == 4
    # Median epoch 1.5 s x 10 epochs + the lower-quartile fixed cost 0.5 s, six runs two at a time.
    assert estimate.seconds == pytest.approx(6 * (0.5 + 15.0) / 2)


def test_another_model_on_the_same_data_is_scaled_by_its_cost():
    history = [_finished("simplernn", seed) for seed in range(3)]
    lstm = spec("lstm", 9)
    estimate = estimate_grid(history, [lstm], workers=4)
    ratio = estimated_cost(lstm) / estimated_cost(history[0].spec)
    assert ratio > 1 and estimate is not None
    assert estimate.seconds == pytest.approx(0.5 + 1.5 * ratio * 2)


def test_no_estimate_without_a_similar_run():
    history = [_finished("gru", 0)]
    other_data = replace(spec("gru", 1), data=replace(spec("gru", 1).data, view="columns"))
    assert estimate_grid(history, [other_data], workers=1) is None
    assert estimate_grid([], [spec("gru", 1)], workers=1) is None


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(40, "40 s"), (14 * 60, "14 min"), (2 * 3600 + 600, "2 h 10 min"), (3 * 3600, "3 h"), (76 * 3600, "3 days 4 h")],
)
def test_durations_read_as_people_say_them(seconds, text):
    assert duration_text(seconds) == text


def test_a_large_grid_says_how_long_before_anything_trains(tmp_path):
    store = fill(tmp_path / "s.db", [(_finished("gru", seed), PERFECT) for seed in range(4)])
    said = []

    class Stop(Exception):
        pass

    def announce(text: str) -> None:
        said.append(text)
        raise Stop

    base = spec("gru", 0)
    grid = ExperimentSpec("big", (base.data,), (base.train,), ("gru",), (8,), tuple(range(100, 160)),
                          structure=ModelSpec("gru", 8))  # fmt: skip
    with pytest.raises(Stop):
        run_experiment(grid, store, ExecutionConfig(jobs=3), announce=announce)
    # 20 runs per worker x (0.5 s fixed + 2 epochs x 1.5 s)
    assert said == ["60 runs to train, 3 at a time: about 70 s (from 4 similar runs in the store)"]
