import pytest

from rnnbench.config import DataSpec, ModelSpec, RunSpec, TrainSpec
from rnnbench.results import DIVERGED, FINISHED, EpochMetrics, RunResult
from rnnbench.stats import mean_interval, summarize


def test_mean_interval_by_hand():
    # values 0.90, 0.92, 0.94: mean 0.92, s = 0.02, t(0.975, 2) = 4.302653, half = 4.302653 * 0.02 / sqrt(3)
    interval = mean_interval([0.90, 0.92, 0.94])
    assert interval.n == 3
    assert interval.mean == pytest.approx(0.92)
    assert interval.std == pytest.approx(0.02)
    half = 4.302653 * 0.02 / 3**0.5
    assert interval.low == pytest.approx(0.92 - half, abs=1e-6)
    assert interval.high == pytest.approx(0.92 + half, abs=1e-6)


def test_single_value_interval_is_the_value():
    interval = mean_interval([0.96])
    assert (interval.n, interval.mean, interval.std, interval.low, interval.high) == (1, 0.96, 0.0, 0.96, 0.96)


def test_mean_interval_needs_values():
    with pytest.raises(ValueError):
        mean_interval([])


def _result(model, seed, accuracy, status=FINISHED, best_epoch=2, seconds=(3.0, 1.0, 1.2)):
    epochs = tuple(EpochMetrics(i + 1, 0.5, 0.8, 0.4, 0.85, s) for i, s in enumerate(seconds))
    return RunResult(
        spec=RunSpec(DataSpec("digits"), ModelSpec(model), TrainSpec(), seed=seed),
        params=100,
        trainable_params=90,
        status=status,
        best_epoch=best_epoch,
        best_val_accuracy=0.85,
        test_accuracy=accuracy,
        test_accuracy_at_best=accuracy,
        train_seconds=sum(seconds),
        epochs=epochs,
    )


def test_summarize_groups_by_model_and_skips_diverged_runs():
    results = [
        _result("lstm", 0, 0.90),
        _result("lstm", 1, 0.94, best_epoch=3),
        _result("gru", 0, None, status=DIVERGED, best_epoch=None),
        _result("gru", 1, 0.80),
    ]
    lstm, gru = summarize(results)
    assert lstm.model == "lstm" and lstm.runs == 2 and lstm.test_accuracy.n == 2
    assert lstm.test_accuracy.mean == pytest.approx(0.92)
    assert lstm.best_epochs == (2, 3)
    assert lstm.seconds_per_epoch == pytest.approx(1.2)  # median of epoch times, robust to compilation
    assert gru.runs == 2 and gru.test_accuracy.n == 1 and gru.test_accuracy.mean == pytest.approx(0.80)
    assert gru.to_dict()["n"] == 1 and gru.to_dict()["runs"] == 2
