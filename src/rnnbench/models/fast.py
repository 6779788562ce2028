"""Drop-in fast versions of Keras' SimpleRNN, LSTM and GRU for the JAX backend on the CPU.

Each is the Keras layer itself (a subclass with the same weights, names and config) whose recurrence runs as one
compiled call per sequence (:mod:`rnnbench.kernels`) instead of one XLA loop iteration per time step. Wherever that
does not apply (another backend, a GPU, masking, dropout inside the cell in training, non-default activations, no
compiler), the layer runs Keras' own code path, unchanged. Cells with compiled sequences of their own (coRNN, LEM)
decide with :func:`takes_sequence_kernel` and hand over their inputs by :func:`ordered_floats`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rnnbench.models.lazy import lazy_keras_classes

if TYPE_CHECKING:
    FastSimpleRNN: Any
    FastLSTM: Any
    FastGRU: Any


_stock_only = 0  # > 0 inside stock_recurrence()


@contextmanager
def stock_recurrence() -> Iterator[None]:
    """Every layer traced or called inside takes Keras' own recurrence: an exported graph must run without the
    kernels, which exist only in an rnnbench process."""
    global _stock_only
    _stock_only += 1
    try:
        yield
    finally:
        _stock_only -= 1


def stock_only() -> bool:
    """Whether Keras' own recurrence was asked for (inside :func:`stock_recurrence`)."""
    return _stock_only > 0


def fast_path_reason(layer: Any, mask: Any = None, training: bool = True) -> str | None:
    """Why ``layer`` does not take the compiled path (None when it does)."""
    import keras

    if _stock_only:
        return "Keras' own recurrence asked for (export)"
    if keras.backend.backend() != "jax":
        return f"backend is {keras.backend.backend()}"
    import jax

    if jax.default_backend() != "cpu":
        return f"JAX runs on {jax.default_backend()}"
    cell = layer.cell
    if mask is not None:
        return "masked input"
    if layer.go_backwards or layer.unroll or layer.stateful:
        return "go_backwards, unroll or stateful"
    dropout = getattr(cell, "dropout", 0) or getattr(cell, "recurrent_dropout", 0)
    if training and dropout:
        return "dropout inside the cell"
    if not cell.use_bias:
        return "no bias"
    if cell.activation is not keras.activations.tanh:
        return "activation is not tanh"
    if getattr(cell, "recurrent_activation", keras.activations.sigmoid) is not keras.activations.sigmoid:
        return "recurrent activation is not sigmoid"
    if getattr(cell, "reset_after", True) is not True:
        return "GRU with reset_after=False"
    if layer.compute_dtype != "float32":
        return f"dtype {layer.compute_dtype}"
    from rnnbench.kernels.build import kernel_status

    status = kernel_status()
    return None if status.available else status.reason


def takes_sequence_kernel(layer: Any, mask: Any = None) -> bool:
    """Whether a cell's layer with a compiled sequence of its own (coRNN, LEM) runs it: where the linear scan does (JAX
    on the CPU with the kernels built, float32, outside :func:`stock_recurrence`, not under ``RNNBENCH_FAST_LAYERS=0``),
    without a mask or unroll. Otherwise the cell runs in Keras' own loop, the reference."""
    from rnnbench.models.linear_scan import scan_route

    return mask is None and not layer.unroll and scan_route(layer.compute_dtype) == "kernel"


def ordered_floats(layer: Any, sequences: Any) -> Any:
    """Sequences (batch, steps, features) as the layer's float dtype, in the order the layer reads the steps (reversed
    for go_backwards, whose outputs Keras returns in that order), for a compiled sequence."""
    from keras import ops

    sequences = _floats(layer, sequences)
    return ops.flip(sequences, axis=1) if layer.go_backwards else sequences


def _floats(layer: Any, sequences: Any) -> Any:
    """Integer inputs (uint8 pixels, int32 arrays) as the layer's compute dtype: Keras' own layers promote them in their
    matrix products, while the compiled kernels read float32 buffers only."""
    import keras

    if keras.backend.standardize_dtype(sequences.dtype) == layer.compute_dtype:
        return sequences
    return keras.ops.cast(sequences, layer.compute_dtype)


def _outputs(layer: Any, hseq: Any, last: Any) -> Any:
    """What Keras' RNN.call expects as `outputs`: the whole sequence, or only the last step."""
    return hseq if layer.return_sequences else last[:, None]


def fast_layer_classes() -> dict[str, type]:
    """{'simplernn': FastSimpleRNN, 'lstm': FastLSTM, 'gru': FastGRU}; defined on first use (Keras is imported late)."""
    return dict(zip(("simplernn", "lstm", "gru"), keras_classes(), strict=True))


def _define() -> tuple[Any, ...]:
    # The classes are defined on every backend, since a file saved on JAX names them; only their fast path needs
    # JAX, so jax_ops is imported where it runs.
    return _fast_simple_rnn(), _fast_lstm(), _fast_gru()


def _fast_simple_rnn() -> type:
    import keras

    class FastSimpleRNN(keras.layers.SimpleRNN):
        def inner_loop(self, sequences: Any, initial_state: Any, mask: Any, training: bool = False) -> Any:
            if fast_path_reason(self, mask, training) is not None:
                return super().inner_loop(sequences, initial_state, mask, training)
            from rnnbench.kernels import jax_ops

            cell = self.cell
            hseq, last = jax_ops.rnn_sequence(
                _floats(self, sequences),
                cell.kernel.value,
                cell.bias.value,
                cell.recurrent_kernel.value,
                initial_state[0],
            )
            return last, _outputs(self, hseq, last), [last]

    return FastSimpleRNN


def _fast_lstm() -> type:
    import keras

    class FastLSTM(keras.layers.LSTM):
        def inner_loop(self, sequences: Any, initial_state: Any, mask: Any, training: bool = False) -> Any:
            if fast_path_reason(self, mask, training) is not None:
                return super().inner_loop(sequences, initial_state, mask, training)
            from rnnbench.kernels import jax_ops

            cell = self.cell
            hseq, last, c_last = jax_ops.lstm_sequence(
                _floats(self, sequences),
                cell.kernel.value,
                cell.bias.value,
                cell.recurrent_kernel.value,
                *initial_state,
            )
            return last, _outputs(self, hseq, last), [last, c_last]

    return FastLSTM


def _fast_gru() -> type:
    import keras

    class FastGRU(keras.layers.GRU):
        def inner_loop(self, sequences: Any, initial_state: Any, mask: Any, training: bool = False) -> Any:
            state = initial_state[0] if isinstance(initial_state, (list, tuple)) else initial_state
            if fast_path_reason(self, mask, training) is not None:
                return super().inner_loop(sequences, initial_state, mask, training)
            from rnnbench.kernels import jax_ops

            cell = self.cell
            bias = cell.bias.value  # [2, 3H]: input bias, recurrent bias
            hseq, last = jax_ops.gru_sequence(
                _floats(self, sequences), cell.kernel.value, bias[0], cell.recurrent_kernel.value, bias[1], state
            )
            return last, _outputs(self, hseq, last), [last]

    return FastGRU


keras_classes, __getattr__ = lazy_keras_classes(__name__, _define, "FastSimpleRNN", "FastLSTM", "FastGRU")
