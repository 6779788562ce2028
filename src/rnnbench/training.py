"""One training run: build the model, fit it, keep the best epoch's weights, evaluate on the test set.

The test set is touched only after training, to report; the best epoch is chosen on validation accuracy alone.
"""

from __future__ import annotations

import math
import time
from typing import Any, Protocol

from rnnbench.config import RunSpec
from rnnbench.data.prepare import SequenceData
from rnnbench.models.builder import build_model
from rnnbench.results import DIVERGED, FINISHED, EpochMetrics, RunResult

EVAL_BATCH_SIZE = 1024


class TrainingObserver(Protocol):
    """Receives progress from a run (a terminal display, a log); must not change the run."""

    def run_started(self, spec: RunSpec, epochs: int, batches_per_epoch: int) -> None: ...

    def batch_ended(self, spec: RunSpec, batch: int) -> None: ...

    def epoch_ended(self, spec: RunSpec, metrics: EpochMetrics) -> None: ...

    def run_ended(self, result: RunResult) -> None: ...


def _optimizer(name: str, learning_rate: float) -> Any:
    import keras

    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=learning_rate)
    raise ValueError(f"no optimizer '{name}'")


def _finite_or_none(logs: dict[str, Any], key: str) -> float | None:
    return float(logs[key]) if key in logs else None


def _recorder(spec: RunSpec, observer: TrainingObserver | None) -> Any:
    """A Keras callback that times epochs, keeps the best weights and stops on a non-finite loss."""
    import keras

    class EpochRecorder(keras.callbacks.Callback):
        # Batch hooks only forward to the observer, so Keras may call them from its dispatch thread.
        async_safe = True

        def __init__(self) -> None:
            super().__init__()
            self.epochs: list[EpochMetrics] = []
            self.best_weights: list[Any] | None = None
            self.best_epoch: int | None = None
            self.best_val_accuracy: float | None = None
            self.diverged = False
            self._started = 0.0

        def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self._started = time.perf_counter()

        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            if observer is not None:
                observer.batch_ended(spec, batch + 1)

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            logs = logs or {}
            metrics = EpochMetrics(
                epoch=epoch + 1,
                train_loss=float(logs["loss"]),
                train_accuracy=float(logs["accuracy"]),
                val_loss=_finite_or_none(logs, "val_loss"),
                val_accuracy=_finite_or_none(logs, "val_accuracy"),
                seconds=time.perf_counter() - self._started,
            )
            self.epochs.append(metrics)
            if observer is not None:
                observer.epoch_ended(spec, metrics)
            if not math.isfinite(metrics.train_loss):
                self.diverged = True
                self.model.stop_training = True
                return
            if metrics.val_accuracy is not None and (
                self.best_val_accuracy is None or metrics.val_accuracy > self.best_val_accuracy
            ):
                self.best_val_accuracy = metrics.val_accuracy
                self.best_epoch = metrics.epoch
                self.best_weights = self.model.get_weights()

    return EpochRecorder()


def train(spec: RunSpec, data: SequenceData, observer: TrainingObserver | None = None) -> RunResult:
    """Train ``spec`` on ``data`` and return its result. Keras must already run on ``spec.backend``."""
    import keras

    if keras.backend.backend() != spec.backend:
        raise RuntimeError(f"run wants backend {spec.backend} but Keras runs on {keras.backend.backend()}")
    keras.utils.set_random_seed(spec.seed)
    model = build_model(spec.model, data.steps, data.features, data.classes)
    model.compile(
        optimizer=_optimizer(spec.train.optimizer, spec.train.learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    batches = math.ceil(len(data.x_train) / spec.train.batch_size)
    if observer is not None:
        observer.run_started(spec, spec.train.epochs, batches)
    recorder = _recorder(spec, observer)
    started = time.perf_counter()
    model.fit(
        data.x_train,
        data.y_train,
        batch_size=spec.train.batch_size,
        epochs=spec.train.epochs,
        shuffle=True,
        validation_data=(data.x_val, data.y_val) if data.has_validation else None,
        validation_batch_size=EVAL_BATCH_SIZE,
        callbacks=[recorder],
        verbose=0,
    )
    train_seconds = time.perf_counter() - started

    test_accuracy = test_accuracy_at_best = None
    best_epoch = recorder.best_epoch
    if not recorder.diverged:
        test_accuracy = _test_accuracy(model, data)
        if recorder.best_weights is None:
            best_epoch, test_accuracy_at_best = len(recorder.epochs), test_accuracy
        elif best_epoch == len(recorder.epochs):
            test_accuracy_at_best = test_accuracy
        else:
            model.set_weights(recorder.best_weights)
            test_accuracy_at_best = _test_accuracy(model, data)
    result = RunResult(
        spec=spec,
        params=int(model.count_params()),
        trainable_params=sum(int(math.prod(weight.shape)) for weight in model.trainable_weights),
        status=DIVERGED if recorder.diverged else FINISHED,
        best_epoch=best_epoch,
        best_val_accuracy=recorder.best_val_accuracy,
        test_accuracy=test_accuracy,
        test_accuracy_at_best=test_accuracy_at_best,
        train_seconds=train_seconds,
        epochs=tuple(recorder.epochs),
    )
    if observer is not None:
        observer.run_ended(result)
    return result


def _test_accuracy(model: Any, data: SequenceData) -> float:
    _, accuracy = model.evaluate(data.x_test, data.y_test, batch_size=EVAL_BATCH_SIZE, verbose=0)
    return float(accuracy)
