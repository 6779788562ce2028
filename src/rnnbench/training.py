"""One training run: build the model, fit it, keep the best epoch's weights, evaluate on the test set.

The test set is touched only after training, to report; the best epoch is chosen on validation accuracy alone. With a
checkpoint path, the run saves its state at the end of every epoch and, if a checkpoint is there when it starts,
continues from it: the result is the same as that of a run that never stopped.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rnnbench.backend import seed_everything, training_environment
from rnnbench.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from rnnbench.compiled_epochs import EVAL_BATCH_SIZE, CompiledEpochs
from rnnbench.config import RunSpec, TrainSpec
from rnnbench.data.prepare import SequenceData
from rnnbench.models.builder import build_model
from rnnbench.results import DIVERGED, FINISHED, EpochMetrics, RunResult


class TrainingObserver(Protocol):
    """Receives progress from a run (a terminal display, a store); must not change the run."""

    def run_started(self, spec: RunSpec, epochs: int, batches_per_epoch: int, environment: dict[str, str]) -> None:
        """``environment``: where the run trains (rnnbench, Keras and backend versions, host, device)."""

    def run_resumed(self, spec: RunSpec, epoch: int) -> None: ...

    def batch_ended(self, spec: RunSpec, batch: int) -> None: ...

    def epoch_ended(self, spec: RunSpec, metrics: EpochMetrics) -> None: ...

    def run_ended(self, result: RunResult, confusion: list[list[int]] | None) -> None: ...


def make_optimizer(train: TrainSpec, model: str, steps_per_epoch: int) -> Any:
    """The preset's optimizer for ``model``, with its learning-rate schedule (per step) and gradient clipping."""
    import keras

    recipe = train.recipe
    peak = train.learning_rate_for(model)
    learning_rate: Any = peak
    if recipe.schedule == "cosine":
        total = train.epochs * steps_per_epoch
        warmup = min(int(recipe.warmup_epochs * steps_per_epoch), total - 1)
        learning_rate = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=0.0 if warmup else peak,
            decay_steps=total - warmup,
            warmup_target=peak if warmup else None,
            warmup_steps=warmup,
        )
    common = {"learning_rate": learning_rate, "global_clipnorm": recipe.clipnorm}
    if recipe.optimizer == "sgd":
        return keras.optimizers.SGD(**common)
    if recipe.optimizer == "adam":
        return keras.optimizers.Adam(**common)
    return keras.optimizers.AdamW(weight_decay=recipe.weight_decay, **common)


def _recorder(spec: RunSpec, observer: TrainingObserver | None, checkpoint_path: Path | None) -> Any:
    """A Keras callback that times epochs, keeps the best weights, checkpoints, and stops on a non-finite loss."""
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
            # Set by train() when the spec asks for a test-set learning curve.
            self.test_accuracy: Callable[[], float] | None = None

        def restore(self, checkpoint: Checkpoint) -> None:
            self.epochs = list(checkpoint.epochs)
            self.best_weights = checkpoint.best_weights
            self.best_epoch = checkpoint.best_epoch
            self.best_val_accuracy = checkpoint.best_val_accuracy

        def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self._started = time.perf_counter()

        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            if observer is not None:
                observer.batch_ended(spec, batch + 1)

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            logs = logs or {}
            test_accuracy = self.test_accuracy() if self.test_accuracy is not None else None
            metrics = EpochMetrics(
                epoch=epoch + 1,
                train_loss=float(logs["loss"]),
                train_accuracy=float(logs["accuracy"]),
                val_loss=float(logs["val_loss"]) if "val_loss" in logs else None,
                val_accuracy=float(logs["val_accuracy"]) if "val_accuracy" in logs else None,
                seconds=time.perf_counter() - self._started,
                test_accuracy=test_accuracy,
            )
            self.epochs.append(metrics)
            if not math.isfinite(metrics.train_loss):
                self.diverged = True
                self.model.stop_training = True
            elif metrics.val_accuracy is not None and (
                self.best_val_accuracy is None or metrics.val_accuracy > self.best_val_accuracy
            ):
                self.best_val_accuracy = metrics.val_accuracy
                self.best_epoch = metrics.epoch
                self.best_weights = self.model.get_weights()
            if checkpoint_path is not None and not self.diverged:
                save_checkpoint(checkpoint_path, self.checkpoint())
            if observer is not None:
                observer.epoch_ended(spec, metrics)

        def checkpoint(self) -> Checkpoint:
            return Checkpoint(
                # All variables, not get_weights(): dropout's random-generator state must come back too.
                weights=[np.asarray(variable) for variable in self.model.variables],
                optimizer=[np.asarray(variable) for variable in self.model.optimizer.variables],
                best_weights=self.best_weights,
                best_epoch=self.best_epoch,
                best_val_accuracy=self.best_val_accuracy,
                epochs=list(self.epochs),
            )

    return EpochRecorder()


def train(
    spec: RunSpec,
    data: SequenceData,
    observer: TrainingObserver | None = None,
    checkpoint_path: Path | None = None,
) -> RunResult:
    """Train ``spec`` on ``data`` and return its result. Keras must already run on ``spec.backend``."""
    import keras

    if keras.backend.backend() != spec.backend:
        raise RuntimeError(f"run wants backend {spec.backend} but Keras runs on {keras.backend.backend()}")
    seed_everything(spec.seed)
    model = build_model(spec.model, data.steps, data.features, data.classes, seed=spec.seed)
    batches = math.ceil(len(data.x_train) / spec.train.batch_size)
    model.compile(
        optimizer=make_optimizer(spec.train, spec.model.name, batches),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    if observer is not None:
        observer.run_started(spec, spec.train.epochs, batches, training_environment(spec.backend))
    recorder = _recorder(spec, observer, checkpoint_path)
    recorder.set_model(model)
    checkpoint = load_checkpoint(checkpoint_path) if checkpoint_path is not None else None
    if checkpoint is not None:
        model.optimizer.build(model.trainable_variables)
        for variable, value in zip(model.variables, checkpoint.weights, strict=True):
            variable.assign(value)
        for variable, value in zip(model.optimizer.variables, checkpoint.optimizer, strict=True):
            variable.assign(value)
        recorder.restore(checkpoint)
        if observer is not None:
            observer.run_resumed(spec, checkpoint.epoch)
    compiled = (
        CompiledEpochs(model, data.x_train, data.y_train, spec.train.batch_size) if spec.backend == "jax" else None
    )
    if spec.train.test_each_epoch:
        recorder.test_accuracy = _test_accuracy(model, compiled, data)
    started = time.perf_counter()
    # Each epoch's order is drawn from (seed, epoch): a resumed run sees exactly the batches it would have.
    for epoch in range(checkpoint.epoch if checkpoint is not None else 0, spec.train.epochs):
        order = epoch_order(spec.seed, epoch, len(data.x_train))
        if compiled is not None:
            _compiled_epoch(compiled, epoch, order, data, recorder)
        else:
            model.fit(
                data.x_train[order],
                data.y_train[order],
                batch_size=spec.train.batch_size,
                epochs=epoch + 1,
                initial_epoch=epoch,
                shuffle=False,
                validation_data=(data.x_val, data.y_val) if data.has_validation else None,
                validation_batch_size=EVAL_BATCH_SIZE,
                callbacks=[recorder],
                verbose=0,
            )
        if recorder.diverged:
            break
    earlier = sum(epoch.seconds for epoch in checkpoint.epochs) if checkpoint is not None else 0.0
    train_seconds = earlier + time.perf_counter() - started

    test_accuracy = test_accuracy_at_best = None
    confusion = None
    best_epoch = recorder.best_epoch
    if not recorder.diverged:
        predicted = _predict(model, compiled, data)
        test_accuracy = float(np.mean(predicted == data.y_test))
        confusion = _confusion(data.y_test, predicted, data.classes)
        if recorder.best_weights is None:
            best_epoch, test_accuracy_at_best = len(recorder.epochs), test_accuracy
        elif best_epoch == len(recorder.epochs):
            test_accuracy_at_best = test_accuracy
        else:
            model.set_weights(recorder.best_weights)
            test_accuracy_at_best = float(np.mean(_predict(model, compiled, data) == data.y_test))
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
        observer.run_ended(result, confusion)
    return result


def epoch_order(seed: int, epoch: int, size: int) -> np.ndarray:
    """The order in which an epoch visits the training samples: a function of the run's seed and the epoch only."""
    return np.random.default_rng([seed, epoch]).permutation(size)


def _compiled_epoch(compiled: CompiledEpochs, epoch: int, order: np.ndarray, data: SequenceData, recorder: Any) -> None:
    """One epoch on the JAX path, reported to the recorder exactly as fit reports to its callbacks."""
    recorder.on_epoch_begin(epoch)
    loss, accuracy = compiled.train_epoch(order, lambda done: recorder.on_train_batch_end(done - 1))
    logs = {"loss": loss, "accuracy": accuracy}
    if data.has_validation:
        val_loss, val_accuracy, _ = compiled.evaluate(data.x_val, data.y_val)
        logs.update(val_loss=val_loss, val_accuracy=val_accuracy)
    compiled.write_back()
    recorder.on_epoch_end(epoch, logs)


def _test_accuracy(model: Any, compiled: CompiledEpochs | None, data: SequenceData) -> Callable[[], float]:
    """Accuracy on the test set with the weights of the moment, for a learning curve."""
    if compiled is not None:
        return lambda: compiled.evaluate(data.x_test, data.y_test)[1]
    return lambda: float(
        model.evaluate(data.x_test, data.y_test, batch_size=EVAL_BATCH_SIZE, verbose=0, return_dict=True)["accuracy"]
    )


def _predict(model: Any, compiled: CompiledEpochs | None, data: SequenceData) -> np.ndarray:
    """Predicted classes of the test set, with the model's current weights."""
    if compiled is not None:
        compiled.reload()
        logits = compiled.evaluate(data.x_test, data.y_test)[2]
    else:
        logits = model.predict(data.x_test, batch_size=EVAL_BATCH_SIZE, verbose=0)
    return np.argmax(np.asarray(logits), axis=-1)


def _confusion(labels: np.ndarray, predicted: np.ndarray, classes: int) -> list[list[int]]:
    """counts[true][predicted] over the test set."""
    counts = np.bincount(labels * classes + predicted, minlength=classes * classes)
    return counts.reshape(classes, classes).tolist()
