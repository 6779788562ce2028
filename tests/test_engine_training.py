import math

import pytest

from rnnbench.data import prepare_data
from rnnbench.engine.training import train
from rnnbench.results.run_result import RunStatus
from rnnbench.spec import PRESETS, DataSpec, ModelSpec, Preset, RunSpec, TrainSpec

DATA = DataSpec("digits", limit_train=400, limit_test=100)


@pytest.fixture(scope="module")
def digits():
    return prepare_data(DATA)


def _spec(model="simplernn", epochs=3, seed=0, preset="seed", data=DATA):
    return RunSpec(data, ModelSpec(model, 16), TrainSpec(preset=preset, batch_size=32, epochs=epochs), seed=seed)


def test_a_run_records_every_epoch_and_its_best(digits):
    result = train(_spec(epochs=4), digits)
    assert result.status == RunStatus.FINISHED
    assert [epoch.epoch for epoch in result.epochs] == [1, 2, 3, 4]
    assert all(0.0 <= epoch.val_accuracy <= 1.0 and epoch.seconds > 0 for epoch in result.epochs)
    best = max(result.epochs, key=lambda epoch: epoch.val_accuracy)
    assert result.best_epoch == best.epoch and result.best_val_accuracy == best.val_accuracy
    assert 0.0 <= result.test_accuracy <= 1.0 and 0.0 <= result.test_accuracy_at_best <= 1.0
    assert result.params == 16 * 8 + 16 * 16 + 16 + 4 * 16 + 16 * 10 + 10


def test_same_seed_same_numbers_other_seed_other_numbers(digits):
    first, again, other = (train(_spec(seed=seed), digits) for seed in (0, 0, 1))
    assert first.epochs[-1].train_loss == again.epochs[-1].train_loss
    assert [e.val_accuracy for e in first.epochs] == [e.val_accuracy for e in again.epochs]
    assert (first.test_accuracy, first.test_accuracy_at_best) == (again.test_accuracy, again.test_accuracy_at_best)
    assert first.epochs[-1].train_loss != other.epochs[-1].train_loss


def test_without_validation_the_last_epoch_is_the_best():
    data_spec = DataSpec("digits", val_fraction=0.0, limit_train=200, limit_test=50)
    result = train(_spec(epochs=2, data=data_spec), prepare_data(data_spec))
    assert result.best_epoch == 2 and result.best_val_accuracy is None
    assert result.test_accuracy_at_best == result.test_accuracy
    assert result.epochs[0].val_accuracy is None


def test_a_non_finite_loss_stops_the_run_as_diverged(digits, monkeypatch):
    monkeypatch.setitem(PRESETS, "explode", Preset("sgd", 1e12, "a learning rate no model survives"))
    result = train(_spec(epochs=5, preset="explode"), digits)
    assert result.status == RunStatus.DIVERGED
    assert not math.isfinite(result.epochs[-1].train_loss)
    assert all(math.isfinite(epoch.train_loss) for epoch in result.epochs[:-1])  # stopped at the first bad epoch
    assert result.test_accuracy is None and result.test_accuracy_at_best is None


def test_a_resumed_run_with_dropout_ends_as_an_uninterrupted_one(digits, tmp_path):
    """Checkpoints carry everything, dropout's random state included: stop after epoch 2, resume, compare."""
    import shutil

    spec = RunSpec(DATA, ModelSpec("gru", 8, dropout=0.3), TrainSpec(batch_size=32, epochs=4), seed=2)
    checkpoint = tmp_path / "run.npz"

    class CopyAtEpochTwo:
        def run_started(self, *args): ...
        def run_resumed(self, *args): ...
        def batch_ended(self, *args): ...
        def run_ended(self, *args): ...

        def epoch_ended(self, spec, metrics):
            if metrics.epoch == 2:
                shutil.copy(checkpoint, tmp_path / "after-two.npz")

    straight = train(spec, digits, CopyAtEpochTwo(), checkpoint)
    resumed = train(spec, digits, None, tmp_path / "after-two.npz")
    assert [e.train_loss for e in resumed.epochs] == [e.train_loss for e in straight.epochs]
    assert (resumed.test_accuracy, resumed.best_epoch) == (straight.test_accuracy, straight.best_epoch)


def test_a_test_set_learning_curve_is_recorded_without_choosing_on_it():
    data_spec = DataSpec("digits", val_fraction=0.0, limit_train=200, limit_test=50)
    plain = RunSpec(data_spec, ModelSpec("gru", 8), TrainSpec(batch_size=32, epochs=3), seed=0)
    curve = RunSpec(data_spec, ModelSpec("gru", 8), TrainSpec(batch_size=32, epochs=3, test_each_epoch=True), seed=0)
    assert "test_each_epoch" not in plain.to_dict()["train"]  # keys of runs stored before the option are unchanged
    assert plain.key() != curve.key()
    data = prepare_data(data_spec)
    with_curve, without = train(curve, data), train(plain, data)
    assert [epoch.test_accuracy is not None for epoch in with_curve.epochs] == [True, True, True]
    assert all(epoch.test_accuracy is None for epoch in without.epochs)
    assert with_curve.epochs[-1].test_accuracy == with_curve.test_accuracy  # the final weights, the same test set
    assert [e.train_loss for e in with_curve.epochs] == [e.train_loss for e in without.epochs]  # training untouched
