"""One training run: build the model, fit it, keep the best epoch's weights, evaluate on the test set, time inference.

The test set is touched only after training, to report; the best epoch is chosen on validation accuracy alone. With a
checkpoint path, the run saves its state at the end of every epoch and, if a checkpoint is there when it starts,
continues from it: the result is the same as that of a run that never stopped. A finished model (with the best
epoch's weights) is timed for serving and, when asked, sent to the observer as a model file.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rnnbench.backend import seed_everything, training_environment
from rnnbench.data.prepare import SequenceData
from rnnbench.engine.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from rnnbench.engine.compiled_epochs import EVAL_BATCH_SIZE, CompiledEpochs, TrainingValues
from rnnbench.engine.inference_cost import InferenceCost, measure_inference
from rnnbench.engine.model_card import card_for_run
from rnnbench.engine.schedule import warmup_cosine
from rnnbench.errors import RnnbenchError
from rnnbench.models.builder import build_model
from rnnbench.models.model_file import model_file_bytes
from rnnbench.results.run_result import EpochMetrics, RunResult, RunStatus
from rnnbench.spec import RunSpec, TrainSpec


class TrainingObserver(Protocol):
    """Receives progress from a run (a terminal display, a store); must not change the run."""

    def run_started(self, spec: RunSpec, epochs: int, batches_per_epoch: int, environment: dict[str, str]) -> None:
        """``environment``: where the run trains (rnnbench, Keras and backend versions, host, device)."""

    def run_resumed(self, spec: RunSpec, epoch: int) -> None: ...

    def batch_ended(self, spec: RunSpec, batch: int) -> None: ...

    def epoch_ended(self, spec: RunSpec, metrics: EpochMetrics) -> None: ...

    def model_saved(self, spec: RunSpec, model_file: bytes) -> None:
        """The finished model as a ``.keras`` file with its card (only when the run was asked to keep it)."""

    def run_ended(self, result: RunResult, confusion: list[list[int]] | None) -> None: ...


def training_values(spec: RunSpec, steps_per_epoch: int) -> TrainingValues | None:
    """A searched recipe's numbers as arguments of the compiled step (JAX only): trials that differ only in them share
    one compiled program. None for the presets, whose runs keep Keras' own schedule, clipping and weight decay."""
    recipe = spec.train.recipe
    if spec.train.custom is None or spec.backend != "jax":
        return None
    warmup, total = schedule_steps(spec.train, steps_per_epoch)
    return TrainingValues(
        learning_rate=spec.train.learning_rate_for(spec.model.name),
        cosine=recipe.schedule == "cosine",
        warmup_steps=warmup,
        total_steps=total,
        clipnorm=recipe.clipnorm or 0.0,
        weight_decay=recipe.weight_decay if recipe.optimizer == "adamw" else 0.0,
        label_smoothing=recipe.label_smoothing,
    )


def schedule_steps(train: TrainSpec, steps_per_epoch: int) -> tuple[int, int]:
    """(warm-up steps, total steps) of the run's schedule: a warm-up only for the cosine schedule, ending before the
    last step."""
    total = train.epochs * steps_per_epoch
    if train.recipe.schedule != "cosine":
        return 0, total
    return min(int(train.recipe.warmup_epochs * steps_per_epoch), total - 1), total


def make_optimizer(train: TrainSpec, model: str, steps_per_epoch: int, plain: bool = False) -> Any:
    """The preset's optimizer for ``model``, with its learning-rate schedule (per step) and gradient clipping. With
    ``plain``, only the update rule (SGD or Adam at the peak learning rate): the compiled step applies the rest
    (:class:`TrainingValues`)."""
    import keras

    recipe = train.recipe
    peak = train.learning_rate_for(model)
    if plain:
        if recipe.optimizer == "sgd":
            return keras.optimizers.SGD(learning_rate=peak, momentum=recipe.momentum, nesterov=recipe.nesterov)
        return keras.optimizers.Adam(learning_rate=peak)
    learning_rate = (
        warmup_cosine(peak, *schedule_steps(train, steps_per_epoch)) if recipe.schedule == "cosine" else peak
    )
    common = {"learning_rate": learning_rate, "global_clipnorm": recipe.clipnorm}
    if recipe.optimizer == "sgd":
        return keras.optimizers.SGD(momentum=recipe.momentum, nesterov=recipe.nesterov, **common)
    if recipe.optimizer == "adam":
        return keras.optimizers.Adam(**common)
    return keras.optimizers.AdamW(weight_decay=recipe.weight_decay, **common)


class EpochRecorder:
    """What a run keeps between epochs: the metrics so far, the best epoch's weights, the divergence flag.

    At the end of each epoch it records the metrics, keeps the weights of a new best validation accuracy, stops on a
    non-finite loss, writes the checkpoint and tells the observer. Both epoch loops (the compiled one on JAX and
    Keras' ``fit``) report to it the same way.
    """

    def __init__(
        self,
        spec: RunSpec,
        model: Any,
        observer: TrainingObserver | None,
        checkpoint_path: Path | None,
        restored: Checkpoint | None,
    ) -> None:
        self.spec = spec
        self.model = model
        self.observer = observer
        self.checkpoint_path = checkpoint_path
        self.epochs: list[EpochMetrics] = list(restored.epochs) if restored else []
        self.best_weights: list[Any] | None = restored.best_weights if restored else None
        self.best_epoch: int | None = restored.best_epoch if restored else None
        self.best_val_accuracy: float | None = restored.best_val_accuracy if restored else None
        self.earlier_seconds = sum(epoch.seconds for epoch in self.epochs)
        self.diverged = False
        self._started = 0.0

    def epoch_started(self) -> None:
        self._started = time.perf_counter()

    def batch_ended(self, batch: int) -> None:
        """``batch``: batches done in this epoch."""
        if self.observer is not None:
            self.observer.batch_ended(self.spec, batch)

    def epoch_ended(self, epoch: int, logs: dict[str, Any], test_accuracy: float | None) -> None:
        """``epoch`` counts from 0 as Keras' does; ``logs`` has loss and accuracy, and val_* with validation."""
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
        if self.checkpoint_path is not None and not self.diverged:
            save_checkpoint(self.checkpoint_path, self.checkpoint())
        if self.observer is not None:
            self.observer.epoch_ended(self.spec, metrics)

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


@dataclass(frozen=True)
class Evaluation:
    """The test set after training: accuracy with the final and with the best epoch's weights (None if diverged)."""

    best_epoch: int | None
    test_accuracy: float | None
    test_accuracy_at_best: float | None
    confusion: list[list[int]] | None


def train(
    spec: RunSpec,
    data: SequenceData,
    observer: TrainingObserver | None = None,
    checkpoint_path: Path | None = None,
    keep_model: bool = False,
) -> RunResult:
    """Train ``spec`` on ``data`` and return its result. Keras must already run on ``spec.backend``. With
    ``keep_model``, a run that did not diverge sends its model file to ``observer`` before its result."""
    entered = time.perf_counter()
    model = _compiled_model(spec, data)
    recorder = _start(spec, data, model, observer, checkpoint_path)
    compiled = _compiled_epochs(spec, data, model)
    # The run's fixed cost: building the model and compiling its programs (on JAX; elsewhere the first epoch
    # compiles, and its time includes that).
    setup_seconds = time.perf_counter() - entered
    started = time.perf_counter()
    _train_epochs(spec, data, model, compiled, recorder)
    train_seconds = recorder.earlier_seconds + time.perf_counter() - started
    # A search's trial never sees the test set, and is not served: it is scored on validation accuracy alone.
    trial = spec.train.validation_only
    evaluation = _evaluate(model, compiled, data, recorder) if not trial else _validated(recorder)
    # The model now holds the best epoch's weights: what is timed and kept is what the result reports.
    cost = None if recorder.diverged or trial else measure_inference(model, data.steps, data.features)
    result = _run_result(spec, model, recorder, evaluation, cost, setup_seconds, train_seconds)
    if observer is not None:
        if keep_model and not recorder.diverged and not trial:
            observer.model_saved(spec, model_file_bytes(model, card_for_run(result, data)))
        observer.run_ended(result, evaluation.confusion)
    return result


def _start(
    spec: RunSpec, data: SequenceData, model: Any, observer: TrainingObserver | None, checkpoint_path: Path | None
) -> EpochRecorder:
    """Tell the observer the run starts, resume from the checkpoint if there is one, and record from there."""
    batches = math.ceil(len(data.x_train) / spec.train.batch_size)
    if observer is not None:
        observer.run_started(spec, spec.train.epochs, batches, training_environment(spec.backend))
    restored = _resume(model, checkpoint_path)
    if restored is not None and observer is not None:
        observer.run_resumed(spec, restored.epoch)
    return EpochRecorder(spec, model, observer, checkpoint_path, restored)


def _compiled_epochs(spec: RunSpec, data: SequenceData, model: Any) -> CompiledEpochs | None:
    """The run's compiled epochs, their programs compiled (JAX); None elsewhere, where Keras' ``fit`` trains."""
    smoothing = spec.train.recipe.label_smoothing
    if smoothing and spec.backend != "jax":
        raise RnnbenchError(f"label smoothing is applied on the JAX backend only, not {spec.backend}; leave it at 0")
    if spec.backend != "jax":
        return None
    values = training_values(spec, math.ceil(len(data.x_train) / spec.train.batch_size))
    compiled = CompiledEpochs(model, data.x_train, data.y_train, spec.train.batch_size, smoothing, values)
    compiled.compile()
    return compiled


def _run_result(
    spec: RunSpec,
    model: Any,
    recorder: EpochRecorder,
    evaluation: Evaluation,
    cost: InferenceCost | None,
    setup_seconds: float,
    train_seconds: float,
) -> RunResult:
    return RunResult(
        spec=spec,
        params=int(model.count_params()),
        trainable_params=sum(int(math.prod(weight.shape)) for weight in model.trainable_weights),
        status=RunStatus.DIVERGED if recorder.diverged else RunStatus.FINISHED,
        best_epoch=evaluation.best_epoch,
        best_val_accuracy=recorder.best_val_accuracy,
        test_accuracy=evaluation.test_accuracy,
        test_accuracy_at_best=evaluation.test_accuracy_at_best,
        train_seconds=train_seconds,
        epochs=tuple(recorder.epochs),
        setup_seconds=setup_seconds,
        latency_ms=cost.latency_ms if cost else None,
        images_per_second=cost.images_per_second if cost else None,
    )


def _compiled_model(spec: RunSpec, data: SequenceData) -> Any:
    """The run's model, seeded and compiled with its optimizer, loss and accuracy metric."""
    import keras

    if keras.backend.backend() != spec.backend:
        raise RuntimeError(f"run wants backend {spec.backend} but Keras runs on {keras.backend.backend()}")
    seed_everything(spec.seed)
    model = build_model(spec.model, data.steps, data.features, data.classes, seed=spec.seed)
    batches = math.ceil(len(data.x_train) / spec.train.batch_size)
    model.compile(
        optimizer=make_optimizer(
            spec.train, spec.model.name, batches, plain=training_values(spec, batches) is not None
        ),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def _resume(model: Any, checkpoint_path: Path | None) -> Checkpoint | None:
    """Load the run's checkpoint, if it has one, into the model and its optimizer."""
    checkpoint = load_checkpoint(checkpoint_path) if checkpoint_path is not None else None
    if checkpoint is not None:
        model.optimizer.build(model.trainable_variables)
        for variable, value in zip(model.variables, checkpoint.weights, strict=True):
            variable.assign(value)
        for variable, value in zip(model.optimizer.variables, checkpoint.optimizer, strict=True):
            variable.assign(value)
    return checkpoint


def _train_epochs(
    spec: RunSpec, data: SequenceData, model: Any, compiled: CompiledEpochs | None, recorder: EpochRecorder
) -> None:
    """The epochs not done yet, each in the order drawn from (seed, epoch): a resumed run sees the same batches."""
    test_accuracy = _test_accuracy(model, compiled, data) if spec.train.test_each_epoch else None
    for epoch in range(len(recorder.epochs), spec.train.last_epoch):
        order = epoch_order(spec.seed, epoch, len(data.x_train))
        if compiled is not None:
            _compiled_epoch(compiled, epoch, order, data, recorder, test_accuracy)
        else:
            _fit_epoch(spec, model, epoch, order, data, recorder, test_accuracy)
        if recorder.diverged:
            break


def _evaluate(model: Any, compiled: CompiledEpochs | None, data: SequenceData, recorder: EpochRecorder) -> Evaluation:
    """Test accuracy with the final weights and, where another epoch was best, with the best epoch's weights."""
    if recorder.diverged:
        return Evaluation(recorder.best_epoch, None, None, None)
    predicted = _predict(model, compiled, data)
    test_accuracy = float(np.mean(predicted == data.y_test))
    confusion = _confusion(data.y_test, predicted, data.classes)
    if recorder.best_weights is None:  # no validation set: the last epoch counts as best
        return Evaluation(len(recorder.epochs), test_accuracy, test_accuracy, confusion)
    if recorder.best_epoch == len(recorder.epochs):
        return Evaluation(recorder.best_epoch, test_accuracy, test_accuracy, confusion)
    model.set_weights(recorder.best_weights)
    at_best = float(np.mean(_predict(model, compiled, data) == data.y_test))
    return Evaluation(recorder.best_epoch, test_accuracy, at_best, confusion)


def _validated(recorder: EpochRecorder) -> Evaluation:
    """A trial's outcome without the test set: its best epoch on validation (its last without validation)."""
    best = recorder.best_epoch if recorder.best_weights is not None else len(recorder.epochs)
    return Evaluation(best, None, None, None)


def epoch_order(seed: int, epoch: int, size: int) -> np.ndarray:
    """The order in which an epoch visits the training samples: a function of the run's seed and the epoch only."""
    return np.random.default_rng([seed, epoch]).permutation(size)


def _compiled_epoch(
    compiled: CompiledEpochs,
    epoch: int,
    order: np.ndarray,
    data: SequenceData,
    recorder: EpochRecorder,
    test_accuracy: Callable[[], float] | None,
) -> None:
    """One epoch on the JAX path."""
    recorder.epoch_started()
    loss, accuracy = compiled.train_epoch(order, recorder.batch_ended)
    logs = {"loss": loss, "accuracy": accuracy}
    if data.has_validation:
        val_loss, val_accuracy, _ = compiled.evaluate(data.x_val, data.y_val)
        logs.update(val_loss=val_loss, val_accuracy=val_accuracy)
    compiled.write_back()
    recorder.epoch_ended(epoch, logs, test_accuracy() if test_accuracy else None)


def _fit_epoch(
    spec: RunSpec,
    model: Any,
    epoch: int,
    order: np.ndarray,
    data: SequenceData,
    recorder: EpochRecorder,
    test_accuracy: Callable[[], float] | None,
) -> None:
    """One epoch through Keras' ``fit`` (TensorFlow and torch backends)."""
    import keras

    callback = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda _epoch, logs=None: recorder.epoch_started(),
        on_train_batch_end=lambda batch, logs=None: recorder.batch_ended(batch + 1),
        on_epoch_end=lambda _epoch, logs=None: recorder.epoch_ended(
            epoch, logs or {}, test_accuracy() if test_accuracy else None
        ),
        # The batch hook only forwards to the observer, so Keras may call it from its dispatch thread.
        async_safe=True,
    )
    model.fit(
        data.x_train[order],
        data.y_train[order],
        batch_size=spec.train.batch_size,
        epochs=epoch + 1,
        initial_epoch=epoch,
        shuffle=False,
        validation_data=(data.x_val, data.y_val) if data.has_validation else None,
        validation_batch_size=EVAL_BATCH_SIZE,
        callbacks=[callback],
        verbose=0,
    )


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
