from dataclasses import replace

import pytest

from rnnbench.results.run_result import EpochMetrics, RunResult, RunStatus
from rnnbench.results.stats import holm, mean_interval, pairwise, summarize, verdict, welch_p_value
from rnnbench.spec import DataSpec, ModelSpec, RunSpec, TrainSpec


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


def _result(model, seed, accuracy, status=RunStatus.FINISHED, best_epoch=2, seconds=(3.0, 1.0, 1.2)):
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
        _result("gru", 0, None, status=RunStatus.DIVERGED, best_epoch=None),
        _result("gru", 1, 0.80),
    ]
    lstm, gru = summarize(results)
    assert lstm.model == "lstm" and lstm.runs == 2 and lstm.test_accuracy.n == 2
    assert lstm.test_accuracy.mean == pytest.approx(0.92)
    assert lstm.best_epochs == (2, 3)
    assert lstm.seconds_per_epoch == pytest.approx(1.2)  # median of epoch times, robust to compilation
    assert gru.runs == 2 and gru.test_accuracy.n == 1 and gru.test_accuracy.mean == pytest.approx(0.80)
    assert gru.to_dict()["n"] == 1 and gru.to_dict()["runs"] == 2


def test_welch_against_hand_computed_values():
    # equal variances 0.0004, n = 3 each: t = 0.10 / sqrt(2 * 0.0004 / 3) = 6.1237, df = 4, two-sided p = 0.003602
    assert welch_p_value([0.90, 0.92, 0.94], [0.80, 0.82, 0.84]) == pytest.approx(0.0036022, rel=1e-4)
    # unequal: var 6.667e-5 (n 4) and 1e-4 (n 3): t = 1.4142, Welch-Satterthwaite df = 3.857, p = 0.23270
    assert welch_p_value([0.96, 0.97, 0.95, 0.96], [0.94, 0.96, 0.95]) == pytest.approx(0.2327026, rel=1e-4)
    assert welch_p_value([0.9], [0.8, 0.7]) is None
    assert welch_p_value([0.9, 0.9], [0.9, 0.9]) == 1.0 and welch_p_value([0.9, 0.9], [0.8, 0.8]) == 0.0


def test_holm_by_hand():
    # sorted 0.01, 0.03, 0.04 -> 3 * 0.01 = 0.03, 2 * 0.03 = 0.06, max(0.06, 1 * 0.04) = 0.06
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []


def test_verdict_names_the_best_and_how_the_others_compare():
    results = [_result("lstm", s, a) for s, a in enumerate([0.90, 0.92, 0.94])]
    results += [_result("gru", s, a) for s, a in enumerate([0.80, 0.82, 0.84])]
    results += [_result("simplernn", s, a) for s, a in enumerate([0.90, 0.91, 0.92])]
    results += [_result("indrnn", 0, 0.5)]
    comparisons = pairwise(results)
    assert {frozenset((c.first, c.second)) for c in comparisons} == {
        frozenset(("lstm", "gru")), frozenset(("lstm", "simplernn")), frozenset(("gru", "simplernn")),
    }  # fmt: skip
    lstm_gru = next(c for c in comparisons if {c.first, c.second} == {"lstm", "gru"})
    assert lstm_gru.p_value == pytest.approx(0.0036022, rel=1e-4)
    assert [c.adjusted_p_value for c in comparisons] == pytest.approx(holm([c.p_value for c in comparisons]))
    line = verdict(summarize(results), comparisons)
    half = 4.302653 * 0.02 / 3**0.5 * 100  # t(0.975, 2) * s / sqrt(n), in percent
    assert line.startswith(f"best: lstm 92.0 +/- {half:.1f} %; simplernn not distinguishable (p = ")
    assert "; gru lower (p = 0.01" in line
    assert line.endswith("; not tested against it (a test needs 2+ finished seeds per model): indrnn")


def test_a_best_model_of_one_seed_has_no_interval_in_the_verdict():
    line = verdict(summarize([_result("gru", 0, 0.8896), _result("lstm", 0, 0.8848)]), [])
    assert line.startswith("best: gru 89.0 % (n = 1);") and "+/-" not in line


def test_one_model_at_two_widths_is_two_rows():
    results = [_result("lstm", 0, 0.9), _result("lstm", 1, 0.91)]
    wide = RunResult(
        **{**results[0].__dict__, "spec": RunSpec(DataSpec("digits"), ModelSpec("lstm", 128), TrainSpec())}
    )
    assert [s.model for s in summarize([*results, wide])] == ["lstm-64", "lstm-128"]


def test_welch_with_one_side_tied_agrees_with_scipy_and_warns_nothing():
    import warnings

    from scipy.stats import ttest_ind

    tied, spread = [0.5599, 0.5599, 0.5599], [0.31, 0.36, 0.40]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = float(ttest_ind(tied, spread, equal_var=False).pvalue)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scipy's "Precision loss occurred in moment calculation" would fail here
        assert welch_p_value(tied, spread) == pytest.approx(expected, rel=1e-9)


def test_a_model_best_at_its_last_epoch_on_most_seeds_is_still_improving():
    # Three epochs each: lstm is best at epoch 3 for two seeds of three, gru for one of three.
    results = [_result("lstm", seed, 0.8, best_epoch=epoch) for seed, epoch in enumerate((3, 3, 2))]
    results += [_result("gru", seed, 0.9, best_epoch=epoch) for seed, epoch in enumerate((3, 1, 2))]
    summaries = {summary.model: summary for summary in summarize(results)}
    assert (summaries["lstm"].best_at_last_epoch, summaries["lstm"].with_validation) == (2, 3)
    assert summaries["lstm"].still_improving and not summaries["gru"].still_improving
    line = verdict(list(summaries.values()), pairwise(results))
    assert line.endswith(
        "; still improving at the last epoch: lstm (2 of 3 seeds); their accuracy reflects the "
        "epochs and recipe given, not the cell: train longer or tune them (rnnbench tune)"
    )
    after_a_search = verdict(list(summaries.values()), pairwise(results), tuned=True)
    assert after_a_search.endswith(
        "their accuracy reflects the search's epoch budget, not the cell: give the search more epochs "
        "(rnnbench tune --epochs)"
    )


def test_without_validation_the_last_epoch_is_best_by_rule_not_improvement():
    results = [replace(_result("lstm", seed, 0.8, best_epoch=3), best_val_accuracy=None) for seed in range(3)]
    [summary] = summarize(results)
    assert summary.with_validation == 0 and not summary.still_improving
