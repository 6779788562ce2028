"""Keras classes defined on first use (rnnbench.models.lazy): one definition, registered, reachable as module
attributes. That importing the cell modules imports no Keras is tested in tests/test_models_cells.py."""

from __future__ import annotations

import keras
import pytest

from rnnbench.models import cornn, fast, indrnn
from rnnbench.models.lazy import lazy_keras_classes


def test_module_attributes_are_the_registered_classes():
    from rnnbench.models.cornn import CoRNNCell
    from rnnbench.models.fast import FastLSTM

    assert CoRNNCell is cornn.keras_classes()[0] and cornn.keras_classes() is cornn.keras_classes()
    assert (indrnn.IndRNNCell, indrnn.IndRNN) == indrnn.keras_classes()
    assert FastLSTM is fast.fast_layer_classes()["lstm"] and issubclass(FastLSTM, keras.layers.LSTM)
    for cls in (CoRNNCell, indrnn.IndRNN, FastLSTM):
        assert keras.saving.get_registered_object(f"rnnbench>{cls.__name__}") is cls


def test_other_attributes_are_missing():
    with pytest.raises(AttributeError, match="module 'rnnbench.models.cornn' has no attribute 'LSTMCell'"):
        cornn.LSTMCell  # noqa: B018


def test_the_declared_names_must_be_the_defined_ones():
    def define():
        class Defined(keras.layers.Layer):
            pass

        return (Defined,)

    keras_classes, _ = lazy_keras_classes("example", define, "Declared")
    with pytest.raises(TypeError, match=r"example defines \('Defined',\), declared \('Declared',\)"):
        keras_classes()
