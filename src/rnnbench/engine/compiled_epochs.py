"""Training epochs on JAX with the Keras model's own stateless functions, several batches per compiled call.

``model.fit`` slices and copies every batch on the host and runs its callbacks and metric bookkeeping per batch; for
the small recurrent models here that costs about a fifth of the step itself. On the JAX backend rnnbench keeps the
data on the device once and passes the epoch's order as an index array; each compiled step gathers its batch,
updates the model (loss, optimizer with its schedule and clipping) and adds to the epoch's loss and accuracy. A call
runs up to BATCHES_PER_CALL steps in a loop: with the hand-written recurrent kernels, dispatching a call per batch
cost 6-15 % of the step (the same weights come out, bit for bit). Model, loss, optimizer, batches and their order are
those that ``fit`` would use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from rnnbench.engine.schedule import scheduled_rate

EVAL_BATCH_SIZE = 1024
BATCHES_PER_CALL = 10  # training batches per compiled call, and between progress reports


@dataclass(frozen=True)
class TrainingValues:
    """A recipe's numbers, passed to the compiled step as arguments rather than built into it: runs that differ only
    in them (a search's trials) share one compiled program.

    The step sets the optimizer's learning rate from the schedule (constant, or :mod:`rnnbench.engine.schedule`'s
    linear warm-up over ``warmup_steps`` then cosine decay to zero at ``total_steps``), clips the gradients' global
    norm to ``clipnorm`` (0: none), applies decoupled weight decay (``weight_decay`` x learning rate, before the
    update, as AdamW does) and smooths the labels by ``label_smoothing``. The optimizer itself is plain SGD or Adam.
    """

    learning_rate: float
    cosine: bool = False
    warmup_steps: int = 0
    total_steps: int = 1
    clipnorm: float = 0.0
    weight_decay: float = 0.0
    label_smoothing: float = 0.0

    def as_array(self) -> np.ndarray:
        return np.array([self.learning_rate, float(self.cosine), self.warmup_steps, self.total_steps, self.clipnorm,
                         self.weight_decay, self.label_smoothing], dtype=np.float32)  # fmt: skip


class CompiledEpochs:
    """Trains and evaluates a compiled Keras model on the JAX backend; the model's variables are the source of truth
    between epochs (call :meth:`write_back` before reading them)."""

    def __init__(
        self,
        model: Any,
        x_train: np.ndarray,
        y_train: np.ndarray,
        batch_size: int,
        label_smoothing: float = 0.0,
        values: TrainingValues | None = None,
    ) -> None:
        import jax
        import jax.numpy as jnp

        self.model = model
        self.batch_size = batch_size
        self.x_train = jnp.asarray(x_train)
        self.y_train = jnp.asarray(y_train, dtype=jnp.int32)
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        self._read_state()
        # With values, they are an argument of every call; without, a placeholder that the programs do not read.
        self._values = jnp.asarray(values.as_array() if values is not None else np.zeros(7, np.float32))
        layout = StepLayout.of(model.optimizer, label_smoothing, values_given=values is not None)
        # The model and layout are bound, not static arguments: a program cache keyed on them would keep every run's
        # model alive.
        self._steps = jax.jit(partial(train_steps, model, layout), donate_argnums=(0, 1), static_argnames="size")
        self._evaluate = jax.jit(partial(evaluate_batch, model))
        self._compiled: dict[int, Any] = {}  # training programs by batch size, compiled ahead of the first epoch
        self._compiled_evaluate: Any = None

    def _batch_sizes(self) -> tuple[int, ...]:
        """The batch sizes an epoch trains with: whole batches, and the short last one if there is one."""
        whole, short = divmod(len(self.x_train), self.batch_size)
        return tuple(size for size, count in ((self.batch_size, whole), (short, short)) if count)

    def compile(self) -> None:
        """Compile the training and evaluation programs now, so that the first epoch's time is training alone (the
        compilation is the run's fixed cost, measured apart)."""
        import jax.numpy as jnp

        totals = (jnp.zeros((), jnp.float32), jnp.zeros((), jnp.int32))
        order = jnp.zeros(len(self.x_train), jnp.int32)
        for size in self._batch_sizes():
            lowered = self._steps.lower(self._state, totals, self.x_train, self.y_train, self._values, order, 0, 1,
                                        size=size)  # fmt: skip
            self._compiled[size] = lowered.compile()
        batch = jnp.zeros((EVAL_BATCH_SIZE, *self.x_train.shape[1:]), self.x_train.dtype)
        labels, weights = jnp.zeros(EVAL_BATCH_SIZE, jnp.int32), jnp.zeros(EVAL_BATCH_SIZE, jnp.float32)
        self._compiled_evaluate = self._evaluate.lower(self._state, batch, labels, weights).compile()

    def _read_state(self) -> None:
        import jax.numpy as jnp

        # Copies: the compiled calls donate the state's buffers, which must not be the variables' own.
        model = self.model
        self._state = (
            [jnp.array(variable.value) for variable in model.trainable_variables],
            [jnp.array(variable.value) for variable in model.non_trainable_variables],
            [jnp.array(variable.value) for variable in model.optimizer.variables],
        )

    def write_back(self) -> None:
        """Copy the trained state into the Keras model's and optimizer's variables."""
        trainable, non_trainable, optimizer = self._state
        model = self.model
        for variable, value in zip(model.trainable_variables, trainable, strict=True):
            variable.assign(value)
        for variable, value in zip(model.non_trainable_variables, non_trainable, strict=True):
            variable.assign(value)
        for variable, value in zip(model.optimizer.variables, optimizer, strict=True):
            variable.assign(value)

    def reload(self) -> None:
        """Take the Keras variables as the state again (after the caller assigned them, e.g. from a checkpoint)."""
        self._read_state()

    def train_epoch(self, order: np.ndarray, batches_done: Callable[[int], None]) -> tuple[float, float]:
        """One pass over the training set in ``order``; returns (mean loss, accuracy) as fit reports them."""
        import jax.numpy as jnp

        size = len(order)
        device_order = jnp.asarray(order.astype(np.int32))
        totals = (jnp.zeros((), jnp.float32), jnp.zeros((), jnp.int32))
        done = 0
        for start, count, samples in epoch_calls(size, self.batch_size):
            program = self._compiled[samples] if samples in self._compiled else partial(self._steps, size=samples)
            self._state, totals = program(self._state, totals, self.x_train, self.y_train, self._values,
                                          device_order, start, count)  # fmt: skip
            done += count
            batches_done(done)
        return float(totals[0]) / size, float(totals[1]) / size

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float, np.ndarray]:
        """(mean loss, accuracy, logits) in inference mode, in batches padded to one compiled shape."""
        import jax.numpy as jnp

        loss_total = correct_total = 0.0
        logits = []
        for start in range(0, len(x), EVAL_BATCH_SIZE):
            xb, yb = x[start : start + EVAL_BATCH_SIZE], y[start : start + EVAL_BATCH_SIZE]
            weight = np.zeros(EVAL_BATCH_SIZE, dtype=np.float32)
            weight[: len(xb)] = 1.0
            pad = EVAL_BATCH_SIZE - len(xb)
            if pad:
                xb = np.concatenate([xb, np.zeros((pad, *xb.shape[1:]), dtype=xb.dtype)])
                yb = np.concatenate([yb, np.zeros(pad, dtype=yb.dtype)])
            evaluate = self._compiled_evaluate or self._evaluate
            loss, correct, batch_logits = evaluate(
                self._state,
                jnp.asarray(xb, dtype=self.x_train.dtype),
                jnp.asarray(yb, dtype=jnp.int32),
                jnp.asarray(weight),
            )
            loss_total += float(loss)
            correct_total += float(correct)
            logits.append(np.asarray(batch_logits)[: EVAL_BATCH_SIZE - pad])
        return loss_total / len(x), correct_total / len(x), np.concatenate(logits)


def epoch_calls(size: int, batch_size: int) -> list[tuple[int, int, int]]:
    """(first sample, batches, samples per batch) of each call that an epoch of ``size`` samples makes: up to
    BATCHES_PER_CALL whole batches, then the short last batch if there is one (two compiled programs whatever the
    data set's size)."""
    whole, short = divmod(size, batch_size)
    calls = [(start, min(BATCHES_PER_CALL, whole - start // batch_size), batch_size)
             for start in range(0, whole * batch_size, BATCHES_PER_CALL * batch_size)]  # fmt: skip
    if short:
        calls.append((whole * batch_size, 1, short))
    return calls


@dataclass(frozen=True)
class StepLayout:
    """What the compiled step fixes when it is traced: whether the recipe's numbers come as an argument
    (:class:`TrainingValues`), the label smoothing when they do not, and where the optimizer keeps its learning rate
    and iteration count among its variables (only read when the numbers are given)."""

    values_given: bool
    label_smoothing: float = 0.0
    rate_index: int = -1
    iteration_index: int = -1

    @classmethod
    def of(cls, optimizer: Any, label_smoothing: float, values_given: bool) -> StepLayout:
        if not values_given:
            return cls(values_given=False, label_smoothing=label_smoothing)
        names = [variable.path.rsplit("/", 1)[-1] for variable in optimizer.variables]
        return cls(True, label_smoothing, names.index("learning_rate"), names.index("iteration"))

    @property
    def smoothed(self) -> bool:
        """Whether the loss mixes in the uniform target (a traced smoothing may be 0, which mixes in nothing)."""
        return self.values_given or bool(self.label_smoothing)


def train_steps(
    model: Any, layout: StepLayout, state: Any, totals: Any, x: Any, y: Any, values: Any, order: Any, start: Any,
    count: Any, size: int,
) -> Any:  # fmt: skip
    """``count`` batches of ``size`` one after another from ``order[start:]``, in one call (``count`` is a traced
    value: one compiled program serves every count)."""
    import jax

    def body(index: Any, carry: Any) -> Any:
        state, totals = carry
        return train_step(model, layout, state, totals, x, y, values, order, start + index * size, size)

    return jax.lax.fori_loop(0, count, body, (state, totals))


def train_step(
    model: Any, layout: StepLayout, state: Any, totals: Any, x: Any, y: Any, values: Any, order: Any, start: Any,
    size: int,
) -> tuple[Any, Any]:  # fmt: skip
    """One batch, ``order[start:start + size]`` of ``x`` and ``y``. ``state`` is (trainable, non-trainable, optimizer
    variables), ``totals`` the epoch's summed loss and correct count so far; returns both updated."""
    import jax
    import jax.numpy as jnp

    trainable, non_trainable, optimizer = state
    indices = jax.lax.dynamic_slice_in_dim(order, start, size)
    xb, yb = jnp.take(x, indices, axis=0), jnp.take(y, indices, axis=0)
    smoothing = values[6] if layout.values_given else layout.label_smoothing
    gradient = jax.value_and_grad(batch_loss, argnums=2, has_aux=True)
    (loss, (logits, non_trainable)), grads = gradient(model, layout, trainable, non_trainable, xb, yb, smoothing)
    if layout.values_given:
        trainable, grads, optimizer = apply_values(layout, values, trainable, grads, optimizer)
    trainable, optimizer = model.optimizer.stateless_apply(optimizer, grads, trainable)
    correct = jnp.sum(jnp.argmax(logits, axis=-1) == yb)
    return (trainable, non_trainable, optimizer), (totals[0] + loss * size, totals[1] + correct)


def batch_loss(
    model: Any, layout: StepLayout, trainable: Any, non_trainable: Any, x: Any, y: Any, smoothing: Any
) -> tuple[Any, tuple[Any, Any]]:
    """(mean loss, (logits, updated non-trainable variables)) of one training batch, ``x`` (batch, steps, features)."""
    import jax.numpy as jnp

    logits, non_trainable = model.stateless_call(trainable, non_trainable, x, training=True)
    return jnp.mean(sample_losses(y, logits, smoothing, layout.smoothed)), (logits, non_trainable)


def sample_losses(y: Any, logits: Any, smoothing: Any, smoothed: bool) -> Any:
    """Cross-entropy per sample, shape (batch,), of ``logits`` (batch, classes) against labels ``y`` (batch,): the loss
    training.train compiles the model with. Smoothed, the true class's target is 1 - s + s / classes and every other
    class's s / classes."""
    import jax
    import jax.numpy as jnp
    import keras

    plain = keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)
    if not smoothed:
        return plain
    uniform = -jnp.mean(jax.nn.log_softmax(logits, axis=-1), axis=-1)
    return (1.0 - smoothing) * plain + smoothing * uniform


def apply_values(
    layout: StepLayout, values: Any, trainable: list[Any], grads: list[Any], optimizer: list[Any]
) -> tuple[list[Any], list[Any], list[Any]]:
    """(trainable, grads, optimizer state) once the recipe's numbers have acted, before the optimizer's update: the
    scheduled rate set in the optimizer's state, the gradients clipped, the weights decayed (``weight_decay`` x rate,
    as AdamW does)."""
    import jax.numpy as jnp

    index = layout.rate_index
    step_number = optimizer[layout.iteration_index].astype(jnp.float32)
    rate = scheduled_rate(step_number, values[0], values[1], values[2], values[3])
    optimizer = [*optimizer[:index], rate.astype(optimizer[index].dtype), *optimizer[index + 1 :]]
    grads = clip_by_global_norm(grads, values[4])
    trainable = [w - w * values[5] * rate for w in trainable]
    return trainable, grads, optimizer


def clip_by_global_norm(grads: list[Any], clipnorm: Any) -> list[Any]:
    """``grads`` scaled so that their global norm is at most ``clipnorm`` (unchanged when ``clipnorm`` is 0)."""
    import jax.numpy as jnp

    norm = jnp.sqrt(sum(jnp.sum(jnp.square(g)) for g in grads))
    scale = jnp.where(clipnorm > 0, clipnorm / jnp.maximum(norm, clipnorm), 1.0)
    return [g * scale for g in grads]


def evaluate_batch(model: Any, state: Any, x: Any, y: Any, weight: Any) -> tuple[Any, Any, Any]:
    """(summed loss, summed correct, logits) of ``x`` (batch, steps, features) in inference mode, each sample counted
    with its ``weight`` (batch,): 0 for padding."""
    import jax.numpy as jnp
    import keras

    trainable, non_trainable, _ = state
    logits, _ = model.stateless_call(trainable, non_trainable, x, training=False)
    correct = (jnp.argmax(logits, axis=-1) == y).astype(jnp.float32)
    # Plain cross-entropy: validation losses compare across label smoothings.
    plain = keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)
    return jnp.sum(plain * weight), jnp.sum(correct * weight), logits
