"""Compiled epochs on JAX train exactly as model.fit does: same batches, same updates, same reported metrics."""

from __future__ import annotations

import keras
import numpy as np

from rnnbench.engine.compiled_epochs import CompiledEpochs, TrainingValues
from rnnbench.models.builder import build_model
from rnnbench.spec import ModelSpec

SAMPLES, STEPS, FEATURES, CLASSES, BATCH = 150, 6, 4, 3, 16  # 9 whole batches and one of 6


def compiled_model(seed: int = 0, optimizer: keras.optimizers.Optimizer | None = None) -> keras.Model:
    keras.utils.set_random_seed(seed)
    model = build_model(ModelSpec(name="gru", units=8), STEPS, FEATURES, CLASSES)
    model.compile(
        optimizer=optimizer or keras.optimizers.SGD(learning_rate=0.05, global_clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def test_two_epochs_match_fit():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(SAMPLES, STEPS, FEATURES)).astype("float32")
    y = rng.integers(0, CLASSES, SAMPLES)
    orders = [rng.permutation(SAMPLES) for _ in range(2)]

    fitted = compiled_model()
    history = [fitted.fit(x[o], y[o], batch_size=BATCH, shuffle=False, verbose=0).history for o in orders]

    model = compiled_model()
    epochs = CompiledEpochs(model, x, y, BATCH)
    progress: list[int] = []
    metrics = [epochs.train_epoch(order, progress.append) for order in orders]
    epochs.write_back()

    assert progress == [9, 10, 9, 10]  # after each call (up to 10 batches), per epoch
    for expected, got in zip(fitted.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-5)
    assert int(model.optimizer.iterations.numpy()) == 20
    for (loss, accuracy), logs in zip(metrics, history, strict=True):
        assert abs(loss - logs["loss"][0]) < 1e-4 and abs(accuracy - logs["accuracy"][0]) < 1e-6

    loss, accuracy, logits = epochs.evaluate(x[:37], y[:37])
    expected_loss, expected_accuracy = fitted.evaluate(x[:37], y[:37], verbose=0)
    assert logits.shape == (37, CLASSES)
    assert abs(loss - expected_loss) < 1e-4 and abs(accuracy - expected_accuracy) < 1e-6


def test_reload_takes_the_variables_assigned_from_outside():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(SAMPLES, STEPS, FEATURES)).astype("float32")
    y = rng.integers(0, CLASSES, SAMPLES)
    model = compiled_model()
    epochs = CompiledEpochs(model, x, y, BATCH)
    before = epochs.evaluate(x, y)[2]
    model.set_weights([w * 0 for w in model.get_weights()])
    assert np.allclose(epochs.evaluate(x, y)[2], before)  # the state is its own until reloaded
    epochs.reload()
    assert np.allclose(epochs.evaluate(x, y)[2], 0.0)


def test_several_batches_per_call_train_exactly_as_one_per_call(monkeypatch):
    import rnnbench.engine.compiled_epochs as compiled_epochs

    samples = 23 * BATCH + 5  # calls of 10, 10 and 3 batches, then the short last one
    rng = np.random.default_rng(1)
    x = rng.normal(size=(samples, STEPS, FEATURES)).astype("float32")
    y = rng.integers(0, CLASSES, samples)
    order = rng.permutation(samples)
    outcomes = []
    for per_call in (1, compiled_epochs.BATCHES_PER_CALL):
        monkeypatch.setattr(compiled_epochs, "BATCHES_PER_CALL", per_call)
        model = compiled_model()
        epochs = CompiledEpochs(model, x, y, BATCH)
        progress: list[int] = []
        metrics = epochs.train_epoch(order, progress.append)
        epochs.write_back()
        outcomes.append((metrics, progress, model.get_weights()))
    (metrics, progress, weights), (metrics_now, progress_now, weights_now) = outcomes
    assert metrics_now == metrics
    assert progress == list(range(1, 25)) and progress_now == [10, 20, 23, 24]
    for expected, got in zip(weights, weights_now, strict=True):
        np.testing.assert_array_equal(got, expected)


def test_programs_compiled_ahead_train_the_same_and_are_not_compiled_again():
    import jax

    rng = np.random.default_rng(2)
    x = rng.normal(size=(SAMPLES, STEPS, FEATURES)).astype("float32")
    y = rng.integers(0, CLASSES, SAMPLES)
    order = rng.permutation(SAMPLES)
    lazily, ahead = compiled_model(), compiled_model()
    lazy_epochs, ahead_epochs = CompiledEpochs(lazily, x, y, BATCH), CompiledEpochs(ahead, x, y, BATCH)
    ahead_epochs.compile()
    compilations: list[str] = []

    def count(event: str, *args: object, **kwargs: object) -> None:
        if "backend_compile" in event:  # XLA compiling a program (tracing alone is cheap)
            compilations.append(event)

    jax.monitoring.register_event_duration_secs_listener(count)
    try:
        ahead_metrics = ahead_epochs.train_epoch(order, lambda done: None)
        ahead_logits = ahead_epochs.evaluate(x, y)[2]
    finally:
        jax.monitoring.clear_event_listeners()
    assert compilations == []
    assert ahead_metrics == lazy_epochs.train_epoch(order, lambda done: None)
    np.testing.assert_array_equal(ahead_logits, lazy_epochs.evaluate(x, y)[2])


def test_values_as_arguments_train_as_keras_adamw_with_its_schedule_and_clipping():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(SAMPLES, STEPS, FEATURES)).astype("float32")
    y = rng.integers(0, CLASSES, SAMPLES)
    orders = [rng.permutation(SAMPLES) for _ in range(2)]
    total, warmup, peak = 20, 10, 0.02
    schedule = keras.optimizers.schedules.CosineDecay(0.0, decay_steps=total - warmup, warmup_target=peak,
                                                      warmup_steps=warmup)  # fmt: skip
    stock = compiled_model(
        optimizer=keras.optimizers.AdamW(learning_rate=schedule, weight_decay=0.01, global_clipnorm=0.5)
    )
    ours = compiled_model(optimizer=keras.optimizers.Adam(learning_rate=peak))
    values = TrainingValues(peak, cosine=True, warmup_steps=warmup, total_steps=total, clipnorm=0.5, weight_decay=0.01,
                            label_smoothing=0.05)  # fmt: skip
    stock_epochs = CompiledEpochs(stock, x, y, BATCH, label_smoothing=0.05)
    our_epochs = CompiledEpochs(ours, x, y, BATCH, values=values)
    for order in orders:
        expected, got = (
            stock_epochs.train_epoch(order, lambda done: None),
            our_epochs.train_epoch(order, lambda d: None),
        )
        np.testing.assert_allclose(got, expected, rtol=1e-5)
    stock_epochs.write_back()
    our_epochs.write_back()
    for expected, got in zip(stock.get_weights(), ours.get_weights(), strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_recipes_that_differ_only_in_values_share_one_compiled_program():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(SAMPLES, STEPS, FEATURES)).astype("float32")
    y = rng.integers(0, CLASSES, SAMPLES)
    texts = []
    other = TrainingValues(2e-2, cosine=True, warmup_steps=5, total_steps=30, clipnorm=1.0, weight_decay=1e-4,
                           label_smoothing=0.1)  # fmt: skip
    for values in (TrainingValues(1e-3), other):
        model = compiled_model(optimizer=keras.optimizers.Adam(learning_rate=values.learning_rate))
        epochs = CompiledEpochs(model, x, y, BATCH, values=values)
        lowered = epochs._steps.lower(epochs._state, (np.float32(0), np.int32(0)), epochs.x_train, epochs.y_train,
                                      epochs._values, np.zeros(SAMPLES, np.int32), 0, 1, size=BATCH)  # fmt: skip
        texts.append(lowered.as_text())
    assert texts[0] == texts[1]
