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
from typing import Any

import numpy as np

EVAL_BATCH_SIZE = 1024
BATCHES_PER_CALL = 10  # training batches per compiled call, and between progress reports


@dataclass(frozen=True)
class TrainingValues:
    """A recipe's numbers, passed to the compiled step as arguments rather than built into it: runs that differ only
    in them (a search's trials) share one compiled program.

    The step sets the optimizer's learning rate from the schedule (constant, or a linear warm-up over
    ``warmup_steps`` then cosine decay to zero at ``total_steps``), clips the gradients' global norm to ``clipnorm``
    (0: none), applies decoupled weight decay (``weight_decay`` x learning rate, before the update, as AdamW does) and
    smooths the labels by ``label_smoothing``. The optimizer itself is plain SGD or Adam.
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
        import keras

        self.model = model
        self.batch_size = batch_size
        self.x_train = jnp.asarray(x_train)
        self.y_train = jnp.asarray(y_train, dtype=jnp.int32)
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        self._read_state()
        # With values, they are an argument of every call; without, a placeholder that the programs do not read.
        self._values = jnp.asarray(values.as_array() if values is not None else np.zeros(7, np.float32))
        given = values is not None
        names = [variable.path.rsplit("/", 1)[-1] for variable in model.optimizer.variables]
        rate_index = names.index("learning_rate") if given else -1
        iteration_index = names.index("iteration") if given else -1

        def losses(y: Any, logits: Any, smoothing: Any) -> Any:
            # The loss training.train compiles the model with, per sample; with label smoothing, the true class's
            # target is 1 - s + s / classes and every other class's s / classes.
            plain = keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)
            if not given and not label_smoothing:
                return plain
            uniform = -jnp.mean(jax.nn.log_softmax(logits, axis=-1), axis=-1)
            return (1.0 - smoothing) * plain + smoothing * uniform

        def loss_and_updates(trainable: Any, non_trainable: Any, x: Any, y: Any, smoothing: Any) -> Any:
            logits, non_trainable = model.stateless_call(trainable, non_trainable, x, training=True)
            return jnp.mean(losses(y, logits, smoothing)), (logits, non_trainable)

        gradient = jax.value_and_grad(loss_and_updates, has_aux=True)

        def scheduled_rate(step_number: Any, v: Any) -> Any:
            peak, cosine, warmup, total = v[0], v[1], v[2], v[3]
            warming = peak * step_number / jnp.maximum(warmup, 1.0)
            decay_steps = jnp.maximum(total - warmup, 1.0)
            decayed = (
                peak * 0.5 * (1.0 + jnp.cos(jnp.pi * jnp.minimum(step_number - warmup, decay_steps) / decay_steps))
            )
            return jnp.where(cosine > 0, jnp.where(step_number < warmup, warming, decayed), peak)

        def step(state: Any, totals: Any, x: Any, y: Any, v: Any, order: Any, start: Any, size: int) -> tuple[Any, Any]:
            """One batch: ``order[start:start + size]``; ``totals`` are the epoch's summed loss and correct count."""
            trainable, non_trainable, optimizer = state
            indices = jax.lax.dynamic_slice_in_dim(order, start, size)
            xb, yb = jnp.take(x, indices, axis=0), jnp.take(y, indices, axis=0)
            smoothing = v[6] if given else label_smoothing
            (loss, (logits, non_trainable)), grads = gradient(trainable, non_trainable, xb, yb, smoothing)
            if given:
                rate = scheduled_rate(optimizer[iteration_index].astype(jnp.float32), v)
                optimizer = [*optimizer[:rate_index], rate.astype(optimizer[rate_index].dtype),
                             *optimizer[rate_index + 1 :]]  # fmt: skip
                norm = jnp.sqrt(sum(jnp.sum(jnp.square(g)) for g in grads))
                scale = jnp.where(v[4] > 0, v[4] / jnp.maximum(norm, v[4]), 1.0)
                grads = [g * scale for g in grads]
                trainable = [w - w * v[5] * rate for w in trainable]
            trainable, optimizer = model.optimizer.stateless_apply(optimizer, grads, trainable)
            correct = jnp.sum(jnp.argmax(logits, axis=-1) == yb)
            return (trainable, non_trainable, optimizer), (totals[0] + loss * size, totals[1] + correct)

        def evaluate(state: Any, x: Any, y: Any, weight: Any) -> tuple[Any, Any, Any]:
            trainable, non_trainable, _ = state
            logits, _ = model.stateless_call(trainable, non_trainable, x, training=False)
            correct = (jnp.argmax(logits, axis=-1) == y).astype(jnp.float32)
            # Plain cross-entropy: validation losses compare across label smoothings.
            plain = keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)
            return jnp.sum(plain * weight), jnp.sum(correct * weight), logits

        def steps(
            state: Any, totals: Any, x: Any, y: Any, v: Any, order: Any, start: Any, count: Any, size: int
        ) -> Any:
            """``count`` batches of ``size`` one after another from ``order[start:]``, in one call (``count`` is a
            traced value: one compiled program serves every count)."""

            def body(index: Any, carry: Any) -> Any:
                state, totals = carry
                return step(state, totals, x, y, v, order, start + index * size, size)

            return jax.lax.fori_loop(0, count, body, (state, totals))

        self._steps = jax.jit(steps, donate_argnums=(0, 1), static_argnames="size")
        self._evaluate = jax.jit(evaluate)
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

        size, batch_size = len(order), self.batch_size
        device_order = jnp.asarray(order.astype(np.int32))
        totals = (jnp.zeros((), jnp.float32), jnp.zeros((), jnp.int32))
        # Calls of up to BATCHES_PER_CALL whole batches, then the short last batch if there is one: two compiled
        # programs whatever the data set's size.
        whole, short = divmod(size, batch_size)
        calls = [(start, min(BATCHES_PER_CALL, whole - start // batch_size), batch_size)
                 for start in range(0, whole * batch_size, BATCHES_PER_CALL * batch_size)]  # fmt: skip
        if short:
            calls.append((whole * batch_size, 1, short))
        done = 0
        for start, count, samples in calls:
            if samples in self._compiled:
                program = self._compiled[samples]
                self._state, totals = program(self._state, totals, self.x_train, self.y_train, self._values,
                                              device_order, start, count)  # fmt: skip
            else:
                self._state, totals = self._steps(
                    self._state,
                    totals,
                    self.x_train,
                    self.y_train,
                    self._values,
                    device_order,
                    start,
                    count,
                    size=samples,
                )
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
